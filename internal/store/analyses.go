package store

import (
	"context"
	"encoding/json"
	"time"
)

// SystemAnalysis is one row of ops.system_analyses.
type SystemAnalysis struct {
	WorkflowID      string
	RunID           string
	Hostname        string
	EffectiveCPUs   float64
	EffectiveMemory int64
	Profile         json.RawMessage
	CollectedAt     time.Time
}

// InsertSystemAnalysis records a probe result. Recording the same workflow
// run again (a retried activity) replaces the earlier row rather than adding
// a second one.
func InsertSystemAnalysis(ctx context.Context, db DBTX, a SystemAnalysis) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `
INSERT INTO ops.system_analyses
    (workflow_id, run_id, hostname, effective_cpus, effective_memory, profile, collected_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (workflow_id, run_id) DO UPDATE SET
    hostname = EXCLUDED.hostname,
    effective_cpus = EXCLUDED.effective_cpus,
    effective_memory = EXCLUDED.effective_memory,
    profile = EXCLUDED.profile,
    collected_at = EXCLUDED.collected_at
RETURNING id`,
		a.WorkflowID, a.RunID, a.Hostname, a.EffectiveCPUs, a.EffectiveMemory, a.Profile, a.CollectedAt).Scan(&id)
	return id, wrap("insert ops.system_analyses", err)
}

// GetSystemAnalysis reads the analysis recorded for a workflow run.
func GetSystemAnalysis(ctx context.Context, db DBTX, workflowID, runID string) (SystemAnalysis, error) {
	a := SystemAnalysis{WorkflowID: workflowID, RunID: runID}
	err := db.QueryRow(ctx, `
SELECT hostname, effective_cpus, effective_memory, profile, collected_at
FROM ops.system_analyses WHERE workflow_id = $1 AND run_id = $2`, workflowID, runID).
		Scan(&a.Hostname, &a.EffectiveCPUs, &a.EffectiveMemory, &a.Profile, &a.CollectedAt)
	return a, wrap("read ops.system_analyses", err)
}
