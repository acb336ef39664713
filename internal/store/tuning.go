package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Statuses of a row in ops.tuning_changes.
const (
	TuningPending  = "pending"  // recorded, ALTER SYSTEM not run (or not known to have run)
	TuningApplied  = "applied"  // ALTER SYSTEM ran
	TuningFailed   = "failed"   // the server refused the value; Error says why
	TuningReverted = "reverted" // the old value was restored
)

// TuningChange is one row of ops.tuning_changes: one setting changed by one
// tune run.
type TuningChange struct {
	ID         int64
	WorkflowID string
	RunID      string
	Name       string
	// OldValue is what postgresql.auto.conf held before; nil when it did
	// not set the parameter, so a revert runs ALTER SYSTEM RESET.
	OldValue *string
	// OldDisplay is the running value before the change, as SHOW printed it.
	OldDisplay string
	NewValue   string
	// Context is reload or restart.
	Context string
	// Source is where the value came from: pgtune, ingest or override.
	Source     string
	Status     string
	Error      string
	ChangedAt  time.Time  // set by the server; ignored on insert
	RevertedAt *time.Time // set by the server
}

const tuningChangeColumns = `id, workflow_id, run_id, name, old_value, old_display, new_value, context, source,
       status, error, changed_at, reverted_at`

// recordTuningChangeSQL inserts a change unless the run already recorded
// the setting, and returns the stored row either way.
const recordTuningChangeSQL = `
WITH ins AS (
    INSERT INTO ops.tuning_changes (workflow_id, run_id, name, old_value, old_display, new_value, context, source)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (run_id, name) DO NOTHING
    RETURNING ` + tuningChangeColumns + `
)
SELECT ` + tuningChangeColumns + ` FROM ins
UNION ALL
SELECT ` + tuningChangeColumns + ` FROM ops.tuning_changes
WHERE run_id = $2 AND name = $3 AND NOT EXISTS (SELECT 1 FROM ins)`

// RecordTuningChange records a change before it is made. When the run has
// already recorded this setting (a retried activity), the first row is kept
// and returned unchanged: its old value is the one to revert to.
func RecordTuningChange(ctx context.Context, db DBTX, c TuningChange) (TuningChange, error) {
	rows, err := db.Query(ctx, recordTuningChangeSQL,
		c.WorkflowID, c.RunID, c.Name, c.OldValue, c.OldDisplay, c.NewValue, c.Context, c.Source)
	if err != nil {
		return TuningChange{}, wrap("record ops.tuning_changes", err)
	}
	got, err := pgx.CollectExactlyOneRow(rows, scanTuningChange)
	return got, wrap("record ops.tuning_changes", err)
}

// SetTuningChangeStatus updates a change's status and error text; setting
// TuningReverted also stamps reverted_at.
func SetTuningChangeStatus(ctx context.Context, db DBTX, id int64, status, errText string) error {
	tag, err := db.Exec(ctx, `
UPDATE ops.tuning_changes
SET status = $2, error = $3,
    reverted_at = CASE WHEN $2 = 'reverted' THEN now() ELSE reverted_at END
WHERE id = $1`, id, status, errText)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return wrap("update ops.tuning_changes", err)
}

// ListTuningChanges returns the changes a run recorded, in the order it
// made them.
func ListTuningChanges(ctx context.Context, db DBTX, runID string) ([]TuningChange, error) {
	rows, err := db.Query(ctx, `SELECT `+tuningChangeColumns+` FROM ops.tuning_changes WHERE run_id = $1 ORDER BY id`, runID)
	if err != nil {
		return nil, wrap("read ops.tuning_changes", err)
	}
	out, err := pgx.CollectRows(rows, scanTuningChange)
	return out, wrap("read ops.tuning_changes", err)
}

func scanTuningChange(row pgx.CollectableRow) (TuningChange, error) {
	var c TuningChange
	err := row.Scan(&c.ID, &c.WorkflowID, &c.RunID, &c.Name, &c.OldValue, &c.OldDisplay, &c.NewValue, &c.Context,
		&c.Source, &c.Status, &c.Error, &c.ChangedAt, &c.RevertedAt)
	return c, err
}
