package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
)

// Prober probes the host the activity runs on.
type Prober interface {
	Probe(ctx context.Context) (sysprobe.Profile, error)
}

// System holds the hardware-analysis activity's dependencies.
type System struct {
	Prober Prober
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

// AnalyzeResult is what AnalyzeSystem returns to the workflow.
type AnalyzeResult struct {
	// AnalysisID is the row's id in ops.system_analyses.
	AnalysisID int64 `json:"analysis_id"`
	// Profile is the probed hardware, as stored in that row.
	Profile sysprobe.Profile `json:"profile"`
}

// AnalyzeSystem probes the worker's host and records the profile in
// ops.system_analyses, one row per workflow run. A retried attempt updates
// the same row.
func (s *System) AnalyzeSystem(ctx context.Context) (AnalyzeResult, error) {
	info := activity.GetInfo(ctx)
	profile, err := s.Prober.Probe(ctx)
	if err != nil {
		return AnalyzeResult{}, fmt.Errorf("probe host: %w", err)
	}
	for _, w := range profile.Warnings {
		activity.GetLogger(ctx).Warn("analyze: probe warning", "warning", w)
	}
	raw, err := json.Marshal(profile)
	if err != nil {
		return AnalyzeResult{}, temporal.NewNonRetryableApplicationError("encode profile", "EncodeError", err)
	}
	id, err := store.InsertSystemAnalysis(ctx, s.Pool, store.SystemAnalysis{
		WorkflowID:      info.WorkflowExecution.ID,
		RunID:           info.WorkflowExecution.RunID,
		Hostname:        profile.Hostname,
		EffectiveCPUs:   profile.Effective.CPUs,
		EffectiveMemory: int64(profile.Effective.MemoryBytes),
		Profile:         raw,
		CollectedAt:     profile.CollectedAt,
	})
	if err != nil {
		return AnalyzeResult{}, classifyDB(err)
	}
	activity.GetLogger(ctx).Info("analyze: recorded system profile", "analysis_id", id, "summary", profile.Summary())
	return AnalyzeResult{AnalysisID: id, Profile: profile}, nil
}
