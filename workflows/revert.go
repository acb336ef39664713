package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/strictjson"
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
	// problems is what decoding found wrong (see input.go).
	problems strictjson.Problems
}

// Validate checks the input and returns every problem, each naming its
// field; unknown fields and values of the wrong kind are reported alone.
func (in RevertInput) Validate() error {
	if err := in.problems.Err(); err != nil {
		return err
	}
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
	// Summary says what happened in one line.
	Summary string `json:"summary"`
	// Revert reports the restored settings.
	Revert pgtune.RevertReport `json:"revert"`
	// Restart reports the restart (command policy), nil when none ran.
	Restart *activities.RestartResult `json:"restart,omitempty"`
	// PendingRestart lists the settings still waiting for a restart.
	PendingRestart []string `json:"pending_restart,omitempty"`
}

// RevertTuningWorkflow restores the settings a tune run changed (the
// RevertTuning activity: ALTER SYSTEM back to the recorded old values,
// then a reload). Under the command restart policy it then restarts the
// server when a reverted setting waits for a restart. Reverting a run
// twice is harmless; a run that never applied anything on this server
// fails with a non-retryable NotFound error.
//
// A revert changes the server, so it takes the server's lock as a tune
// run does: the work runs in a child [TuneRevertWorkflow] under
// [ServerLockID], and while another run holds the lock the revert fails at
// once with ErrTypeServerBusy, naming it.
func RevertTuningWorkflow(ctx workflow.Context, in RevertInput) (RevertResult, error) {
	ctx = workflow.WithActivityOptions(ctx, budgeted(5*time.Minute, tuneNonRetryable))
	if err := in.Validate(); err != nil {
		return RevertResult{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	progress := RevertProgress{RunID: in.RunID, Step: RevertStepRevert}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (RevertProgress, error) { return progress, nil }); err != nil {
		return RevertResult{}, err
	}
	if workflow.GetVersion(ctx, serverLockChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Runs that began before the lock revert in this workflow.
		return revertRun(ctx, in, func(s string) { progress.Step = s })
	}
	var a *activities.Tuning
	var id pgtune.ServerIdentity
	if err := workflow.ExecuteActivity(ctx, a.ServerIdentity).Get(ctx, &id); err != nil {
		return RevertResult{}, stepError("read the server's identity", err)
	}
	lockID := ServerLockID(id)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:    lockID,
		StaticSummary: "revert tune run " + in.RunID,
		// Once it has begun to change the server, it finishes even if
		// this workflow is terminated.
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WaitForCancellation: true,
	})
	child := workflow.ExecuteChildWorkflow(cctx, TuneRevertWorkflow, TuneRevertInput{RunID: in.RunID, RestartPolicy: in.RestartPolicy, RestartTimeout: in.RestartTimeout, Identity: id})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return RevertResult{}, lockRefused(ctx, lockID, id, "", err)
	}
	progress.Lock = lockID
	// The child reports its steps; the latest by sequence wins, since
	// signals sent one after another may arrive in another order.
	reports := workflow.GetSignalChannel(ctx, config.SignalRevertProgress)
	latest := 0
	var res RevertResult
	var childErr error
	done := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(reports, func(c workflow.ReceiveChannel, _ bool) {
		var r RevertProgressReport
		c.Receive(ctx, &r)
		if r.Seq > latest {
			latest, progress.Step = r.Seq, r.Step
		}
	})
	sel.AddFuture(child, func(f workflow.Future) {
		childErr, done = f.Get(ctx, &res), true
	})
	for !done {
		sel.Select(ctx)
	}
	if childErr != nil {
		return res, revertError("revert under "+lockID, childErr)
	}
	progress.Step = RevertStepDone
	return res, nil
}

// RevertProgressReport carries a step of TuneRevertWorkflow to the
// RevertTuningWorkflow that started it; Seq orders the reports.
type RevertProgressReport struct {
	Seq  int    `json:"seq"`
	Step string `json:"step"`
}

// TuneRevertInput is the input of [TuneRevertWorkflow]: the revert asked
// for (RevertInput's fields, at the top level) and the identity of the
// server it runs against. It does not embed RevertInput: that would
// promote RevertInput's UnmarshalJSON, which decodes only RevertInput's
// fields and would drop Identity.
type TuneRevertInput struct {
	RunID          string                `json:"run_id"`
	RestartPolicy  string                `json:"restart_policy,omitempty"`
	RestartTimeout string                `json:"restart_timeout,omitempty"`
	Identity       pgtune.ServerIdentity `json:"identity"`
}

func (in TuneRevertInput) revert() RevertInput {
	return RevertInput{RunID: in.RunID, RestartPolicy: in.RestartPolicy, RestartTimeout: in.RestartTimeout}
}

// TuneRevertWorkflow is the part of [RevertTuningWorkflow] that changes
// the server: revert the run and, under the command policy, restart. It
// runs as RevertTuningWorkflow's child under the server's lock ID
// ([ServerLockID]) and refuses to run under any other.
func TuneRevertWorkflow(ctx workflow.Context, in TuneRevertInput) (RevertResult, error) {
	ctx = workflow.WithActivityOptions(ctx, budgeted(5*time.Minute, tuneNonRetryable))
	if err := checkLockID(ctx, in.Identity); err != nil {
		return RevertResult{}, err
	}
	progress := RevertProgress{RunID: in.RunID, Step: RevertStepRevert}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (RevertProgress, error) { return progress, nil }); err != nil {
		return RevertResult{}, err
	}
	seq := 0
	parent := workflow.GetInfo(ctx).ParentWorkflowExecution
	return revertRun(ctx, in.revert(), func(step string) {
		progress.Step = step
		// Runs recorded before their parents listened did not report.
		if parent == nil || workflow.GetVersion(ctx, "revert-progress-report", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return
		}
		seq++
		_ = workflow.SignalExternalWorkflow(ctx, parent.ID, parent.RunID, config.SignalRevertProgress,
			RevertProgressReport{Seq: seq, Step: step}).Get(ctx, nil)
	})
}

// revertRun reverts the run and restarts by the policy: the body of
// TuneRevertWorkflow, and RevertTuningWorkflow's own for runs that began
// before the lock. ctx must carry the default activity options.
func revertRun(ctx workflow.Context, in RevertInput, step func(string)) (RevertResult, error) {
	var res RevertResult
	timeout := in.restartTimeout()
	restartCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2*timeout + 2*time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         withAttempts(outageRetry(tuneNonRetryable), 2),
	})
	step(RevertStepRevert)
	var a *activities.Tuning

	if err := workflow.ExecuteActivity(ctx, a.RevertTuning, activities.RevertTuningInput{RunID: in.RunID}).Get(ctx, &res.Revert); err != nil {
		return res, revertError("revert run "+in.RunID, err)
	}
	rv := res.Revert
	res.PendingRestart = rv.PendingRestart
	res.Summary = rv.Message
	waiting := revertedWaiting(rv)
	if len(waiting) == 0 {
		step(RevertStepDone)
		return res, nil
	}
	if cmp.Or(in.RestartPolicy, RestartNever) != RestartCommand {
		res.Summary += fmt.Sprintf("; %s go back only at a restart: restart PostgreSQL, or revert with restart_policy command", strings.Join(waiting, ", "))
		step(RevertStepDone)
		return res, nil
	}
	step(RevertStepRestart)
	var rr activities.RestartResult
	if err := workflow.ExecuteActivity(restartCtx, a.RestartPostgres, activities.RestartInput{
		Before: rv.PostmasterStartTime, Wait: timeout,
	}).Get(ctx, &rr); err != nil {
		return res, stepError(fmt.Sprintf("restart after reverting run %s (the old values are configured and wait for a restart)", in.RunID), err)
	}
	res.Restart, res.PendingRestart = &rr, nil
	res.Summary += "; restarted, so the old values are live"
	step(RevertStepDone)
	return res, nil
}

// revertError is the workflow's error for a failed step of a revert. An
// unknown run ID is the caller's mistake: the workflow fails with the
// activity's NotFound error itself, so its type and message are what the
// caller sees first.
func revertError(step string, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotFound {
		return temporal.NewNonRetryableApplicationError(appErr.Message(), activities.ErrTypeNotFound, nil)
	}
	return stepError(step, err)
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
