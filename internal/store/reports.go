package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// StoredReport is one row of ops.reports.
type StoredReport struct {
	ID                int64
	WorkflowID, RunID string
	CollectedAt       time.Time
	Summary           string
	ServerVersionNum  int
	Database          string
	DatabaseBytes     int64
	CongressBytes     int64
	// Report is the whole report as JSON.
	Report []byte
}

// SaveReport records a report and returns its id. A second save for the
// same workflow run (a retried activity) replaces the first.
func SaveReport(ctx context.Context, db DBTX, r StoredReport) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO ops.reports (workflow_id, run_id, collected_at, summary, server_version_num,
    database, database_bytes, congress_bytes, report)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (workflow_id, run_id) DO UPDATE SET collected_at = excluded.collected_at, summary = excluded.summary,
    server_version_num = excluded.server_version_num, database = excluded.database,
    database_bytes = excluded.database_bytes, congress_bytes = excluded.congress_bytes, report = excluded.report
RETURNING id`, r.WorkflowID, r.RunID, r.CollectedAt, r.Summary, r.ServerVersionNum, r.Database,
		r.DatabaseBytes, r.CongressBytes, r.Report).Scan(&id)
	return id, wrap("save ops.reports", err)
}

// maxTrendReports bounds how many reports a trend reads: a report every
// hour for three months.
const maxTrendReports = 2500

// ReportsSince returns the reports collected at or after since, oldest
// first (at most the newest 2,500).
func ReportsSince(ctx context.Context, db DBTX, since time.Time) ([]StoredReport, error) {
	rows, err := db.Query(ctx, `SELECT id, workflow_id, run_id, collected_at, summary, server_version_num, database,
    database_bytes, congress_bytes, report
FROM (SELECT * FROM ops.reports WHERE collected_at >= $1 ORDER BY collected_at DESC LIMIT $2) r
ORDER BY collected_at`, since, maxTrendReports)
	if err != nil {
		return nil, wrap("read ops.reports", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredReport, error) {
		var r StoredReport
		err := row.Scan(&r.ID, &r.WorkflowID, &r.RunID, &r.CollectedAt, &r.Summary, &r.ServerVersionNum, &r.Database,
			&r.DatabaseBytes, &r.CongressBytes, &r.Report)
		return r, err
	})
	return out, wrap("read ops.reports", err)
}

// LastIngestRuns returns the latest walk of each endpoint in
// ops.ingest_runs, by endpoint.
func LastIngestRuns(ctx context.Context, db DBTX) ([]IngestRun, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT ON (endpoint) walk_id, workflow_id, run_id, endpoint, mode, congresses,
    window_from, window_to, status, pages, items, inserted, updated, unchanged, rejected, requests, min_requests, retries,
    rate_limited, count_reported, confirmed, gap, error, started_at, updated_at, finished_at
FROM ops.ingest_runs ORDER BY endpoint, started_at DESC, id DESC`)
	if err != nil {
		return nil, wrap("read ops.ingest_runs", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (IngestRun, error) {
		var r IngestRun
		err := row.Scan(&r.WalkID, &r.WorkflowID, &r.RunID, &r.Endpoint, &r.Mode, &r.Congresses, &r.WindowFrom, &r.WindowTo,
			&r.Status, &r.Pages, &r.Items, &r.Inserted, &r.Updated, &r.Unchanged, &r.Rejected, &r.Requests, &r.MinRequests,
			&r.Retries, &r.Limited, &r.Count, &r.Confirmed, &r.Gap, &r.Error, &r.StartedAt, &r.UpdatedAt, &r.FinishedAt)
		return r, err
	})
	return out, wrap("read ops.ingest_runs", err)
}

// AppliedTuning is what tune runs left applied: per setting, the value of
// the last run that changed it, unless that change was reverted.
type AppliedTuning struct {
	Name, Value, WorkflowID, RunID string
	ChangedAt                      time.Time
}

// LastAppliedTuning returns, for each setting a tune run changed, the
// latest change if it is still applied (a reverted latest change leaves
// nothing to compare with), by name.
func LastAppliedTuning(ctx context.Context, db DBTX) ([]AppliedTuning, error) {
	rows, err := db.Query(ctx, `SELECT name, new_value, workflow_id, run_id, changed_at FROM (
    SELECT DISTINCT ON (name) name, new_value, workflow_id, run_id, changed_at, status
    FROM ops.tuning_changes WHERE status IN ('applied', 'reverted')
    ORDER BY name, changed_at DESC, id DESC) latest
WHERE status = 'applied' ORDER BY name`)
	if err != nil {
		return nil, wrap("read ops.tuning_changes", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AppliedTuning, error) {
		var a AppliedTuning
		err := row.Scan(&a.Name, &a.Value, &a.WorkflowID, &a.RunID, &a.ChangedAt)
		return a, err
	})
	return out, wrap("read ops.tuning_changes", err)
}
