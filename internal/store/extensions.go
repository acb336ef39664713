package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExtensionResult is one row of ops.extension_results: the outcome of one
// extension in one run of the extensions stage.
type ExtensionResult struct {
	WorkflowID string
	RunID      string
	ActivityID string
	// Database is the database the extension was installed in.
	Database string
	Name     string
	Category string
	// Outcome is one of installed, already_present, needs_preload,
	// not_available, not_permitted, failed, installable.
	Outcome    string
	Version    string
	Detail     string
	Package    string
	Privilege  string
	CheckOnly  bool
	RecordedAt time.Time // set by the server; ignored on insert
}

const recordExtensionResultsSQL = `
INSERT INTO ops.extension_results
    (workflow_id, run_id, activity_id, database_name, name, category, outcome, version, detail, package, privilege, check_only)
SELECT $1, $2, $3, $4, r.name, r.category, r.outcome, r.version, r.detail, r.package, r.privilege, $5
FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
    AS r(name, category, outcome, version, detail, package, privilege)
ON CONFLICT (workflow_id, run_id, database_name, name) DO UPDATE SET
    activity_id = EXCLUDED.activity_id,
    category    = EXCLUDED.category,
    outcome     = EXCLUDED.outcome,
    version     = EXCLUDED.version,
    detail      = EXCLUDED.detail,
    package     = EXCLUDED.package,
    privilege   = EXCLUDED.privilege,
    check_only  = EXCLUDED.check_only,
    recorded_at = now()`

// RecordExtensionResults writes the outcomes of one run for one database in
// a single statement. The run's identity (workflow, run, activity,
// database, check-only) is taken from rs[0]; recording the same run again
// (a retried activity) updates its rows instead of adding new ones.
func RecordExtensionResults(ctx context.Context, db DBTX, rs []ExtensionResult) error {
	if len(rs) == 0 {
		return nil
	}
	cols := make([][]string, 7)
	for _, r := range rs {
		for i, v := range []string{r.Name, r.Category, r.Outcome, r.Version, r.Detail, r.Package, r.Privilege} {
			cols[i] = append(cols[i], v)
		}
	}
	first := rs[0]
	_, err := db.Exec(ctx, recordExtensionResultsSQL,
		first.WorkflowID, first.RunID, first.ActivityID, first.Database, first.CheckOnly,
		cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])
	return wrap("record ops.extension_results", err)
}

// ListExtensionResults returns the outcomes recorded for a workflow run, in
// the order they were first recorded (catalog order).
func ListExtensionResults(ctx context.Context, db DBTX, workflowID, runID string) ([]ExtensionResult, error) {
	rows, err := db.Query(ctx, `
SELECT workflow_id, run_id, activity_id, database_name, name, category, outcome,
       version, detail, package, privilege, check_only, recorded_at
FROM ops.extension_results
WHERE workflow_id = $1 AND run_id = $2
ORDER BY id`, workflowID, runID)
	if err != nil {
		return nil, wrap("read ops.extension_results", err)
	}
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ExtensionResult])
	return rs, wrap("read ops.extension_results", err)
}
