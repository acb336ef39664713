package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgtune"
)

// revertPolicies are the restart policies [RevertTuningWorkflow] knows:
// no operator waits on a revert, so there is no signal policy.
var revertPolicies = []string{RestartNever, RestartCommand}

// RevertInput is the input of [RevertTuningWorkflow].
type RevertInput struct {
	// RunID is the tune run to revert: the run ID of the TuneWorkflow
	// execution that applied the settings, as ops.tuning_changes records
	// it. Required.
	RunID string `json:"run_id"`
	// RestartPolicy is never or command: with command, when a reverted
	// setting waits for a restart, the worker's restart command runs and
	// the restart is confirmed. Default never: the report lists what waits.
	RestartPolicy string `json:"restart_policy,omitempty"`
	// RestartTimeout bounds the restart, as a Go duration such as "10m".
	// Default 10m.
	RestartTimeout string `json:"restart_timeout,omitempty"`
}

// Validate checks the input and returns every problem, each naming its
// field.
func (in RevertInput) Validate() error {
	var errs []error
	if strings.TrimSpace(in.RunID) == "" {
		errs = append(errs, errors.New("run_id: empty; give the run ID of the TuneWorkflow execution to revert (ops.tuning_changes.run_id)"))
	}
	if in.RestartPolicy != "" && !slices.Contains(revertPolicies, in.RestartPolicy) {
		errs = append(errs, fmt.Errorf("restart_policy: %q is not a policy for a revert; use one of %s", in.RestartPolicy, strings.Join(revertPolicies, ", ")))
	}
	if in.RestartTimeout != "" {
		if d, err := time.ParseDuration(in.RestartTimeout); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("restart_timeout: %q is not a positive duration such as 10m", in.RestartTimeout))
		}
	}
	return joinInputErrors(errs...)
}

func (in RevertInput) restartTimeout() time.Duration {
	if d, err := time.ParseDuration(in.RestartTimeout); err == nil && d > 0 {
		return d
	}
	return DefaultRestartTimeout
}

// RevertResult is the result of [RevertTuningWorkflow].
type RevertResult struct {
	// Revert reports the restored settings.
	Revert pgtune.RevertReport `json:"revert"`
	// Restart reports the restart (command policy), nil when none ran.
	Restart *activities.RestartResult `json:"restart,omitempty"`
	// PendingRestart lists the settings still waiting for a restart.
	PendingRestart []string `json:"pending_restart,omitempty"`
	// Summary says what happened in one line.
	Summary string `json:"summary"`
}

// RevertTuningWorkflow restores the settings a tune run changed (the
// RevertTuning activity: ALTER SYSTEM back to the recorded old values,
// then a reload). Under the command restart policy it then restarts the
// server when a reverted setting waits for a restart. Reverting a run
// twice is harmless.
func RevertTuningWorkflow(ctx workflow.Context, in RevertInput) (RevertResult, error) {
	var res RevertResult
	ctx = workflow.WithActivityOptions(ctx, budgeted(5*time.Minute, tuneNonRetryable))
	retry := outageRetry(tuneNonRetryable)
	if err := in.Validate(); err != nil {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	timeout := in.restartTimeout()
	restartCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2*timeout + 2*time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         withAttempts(retry, 2),
	})
	var a *activities.Tuning

	if err := workflow.ExecuteActivity(ctx, a.RevertTuning, activities.RevertTuningInput{RunID: in.RunID}).Get(ctx, &res.Revert); err != nil {
		return res, revertError(in.RunID, err)
	}
	rv := res.Revert
	res.PendingRestart = rv.PendingRestart
	res.Summary = rv.Message
	waiting := revertedWaiting(rv)
	if len(waiting) == 0 {
		return res, nil
	}
	if cmp.Or(in.RestartPolicy, RestartNever) != RestartCommand {
		res.Summary += fmt.Sprintf("; %s go back only at a restart: restart PostgreSQL, or revert with restart_policy command", strings.Join(waiting, ", "))
		return res, nil
	}
	var rr activities.RestartResult
	if err := workflow.ExecuteActivity(restartCtx, a.RestartPostgres, activities.RestartInput{
		Before: rv.PostmasterStartTime, Wait: timeout,
	}).Get(ctx, &rr); err != nil {
		return res, stepError(fmt.Sprintf("restart after reverting run %s (the old values are configured and wait for a restart)", in.RunID), err)
	}
	res.Restart, res.PendingRestart = &rr, nil
	res.Summary += "; restarted, so the old values are live"
	return res, nil
}

// revertError is the workflow's error for a failed RevertTuning. An
// unknown run ID is the caller's mistake: the workflow fails with the
// activity's NotFound error itself, so its type and message are what the
// caller sees first.
func revertError(runID string, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotFound {
		return temporal.NewNonRetryableApplicationError(appErr.Message(), activities.ErrTypeNotFound, nil)
	}
	return stepError("revert run "+runID, err)
}

// revertedWaiting lists the reverted settings that wait for a restart.
func revertedWaiting(rv pgtune.RevertReport) []string {
	var out []string
	for _, c := range rv.Reverted {
		if c.Context == pgtune.ContextRestart && slices.Contains(rv.PendingRestart, c.Name) && !slices.Contains(out, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}
