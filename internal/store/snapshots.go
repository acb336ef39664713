package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sources of a tuning snapshot's content.
const (
	SnapshotFromFile         = "pg_read_file"     // the file as the server reads it
	SnapshotFromFileSettings = "pg_file_settings" // rebuilt from the server's view of it
)

// TuningSnapshot is one row of ops.tuning_snapshots: postgresql.auto.conf
// before (and after) a tune run's ALTER SYSTEM statements.
type TuningSnapshot struct {
	RunID         string
	WorkflowID    string
	DataDirectory string
	Source        string
	Before        string
	// After is nil until the apply finished.
	After      *string
	TakenAt    time.Time  // set by the server
	RestoredAt *time.Time // set by the server
}

const tuningSnapshotColumns = `run_id, workflow_id, data_directory, source, before_content, after_content, taken_at, restored_at`

// RecordTuningSnapshot stores the file as a run found it, unless the run
// already stored it (a retried apply: the first snapshot predates every
// change), and returns the stored row either way.
func RecordTuningSnapshot(ctx context.Context, db DBTX, s TuningSnapshot) (TuningSnapshot, error) {
	rows, err := db.Query(ctx, `
WITH ins AS (
    INSERT INTO ops.tuning_snapshots (run_id, workflow_id, data_directory, source, before_content)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (run_id) DO NOTHING
    RETURNING `+tuningSnapshotColumns+`
)
SELECT `+tuningSnapshotColumns+` FROM ins
UNION ALL
SELECT `+tuningSnapshotColumns+` FROM ops.tuning_snapshots WHERE run_id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
		s.RunID, s.WorkflowID, s.DataDirectory, s.Source, s.Before)
	if err != nil {
		return TuningSnapshot{}, wrap("record ops.tuning_snapshots", err)
	}
	got, err := pgx.CollectExactlyOneRow(rows, scanTuningSnapshot)
	return got, wrap("record ops.tuning_snapshots", err)
}

// SetTuningSnapshotAfter stores the file as the run's apply left it.
func SetTuningSnapshotAfter(ctx context.Context, db DBTX, runID, after string) error {
	tag, err := db.Exec(ctx, `UPDATE ops.tuning_snapshots SET after_content = $2 WHERE run_id = $1`, runID, after)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return wrap("update ops.tuning_snapshots", err)
}

// MarkTuningSnapshotRestored stamps restored_at: the worker wrote the
// snapshot back.
func MarkTuningSnapshotRestored(ctx context.Context, db DBTX, runID string) error {
	tag, err := db.Exec(ctx, `UPDATE ops.tuning_snapshots SET restored_at = now() WHERE run_id = $1`, runID)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return wrap("update ops.tuning_snapshots", err)
}

// GetTuningSnapshot returns a run's snapshot; [ErrNotFound] when it took
// none.
func GetTuningSnapshot(ctx context.Context, db DBTX, runID string) (TuningSnapshot, error) {
	rows, err := db.Query(ctx, `SELECT `+tuningSnapshotColumns+` FROM ops.tuning_snapshots WHERE run_id = $1`, runID)
	if err != nil {
		return TuningSnapshot{}, wrap("read ops.tuning_snapshots", err)
	}
	got, err := pgx.CollectExactlyOneRow(rows, scanTuningSnapshot)
	return got, wrap("read ops.tuning_snapshots", err)
}

func scanTuningSnapshot(row pgx.CollectableRow) (TuningSnapshot, error) {
	var s TuningSnapshot
	err := row.Scan(&s.RunID, &s.WorkflowID, &s.DataDirectory, &s.Source, &s.Before, &s.After, &s.TakenAt, &s.RestoredAt)
	return s, err
}
