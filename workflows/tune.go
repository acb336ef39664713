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
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgtune"
)

// Restart policies of [TuneWorkflow]: what to do when applied settings
// need a restart.
const (
	// RestartNever reports the settings that wait for a restart and leaves
	// the restart to an operator. The default.
	RestartNever = "never"
	// RestartSignal waits for the postgres-restarted signal
	// (config.SignalPostgresRestarted) from an operator who restarted the
	// server, then confirms it.
	RestartSignal = "signal"
	// RestartCommand runs the worker's configured restart command, then
	// confirms the restart.
	RestartCommand = "command"
)

// TuneHeartbeatTimeout is how soon Temporal notices that the worker running
// PlanTuning or ApplyTuning died: they heartbeat before every statement, so
// a retry starts within seconds of a crash rather than after the whole
// StartToClose timeout.
const TuneHeartbeatTimeout = 10 * time.Second

// DefaultRestartTimeout bounds the restart step: the wait for the signal,
// or for the server to come back after the command.
const DefaultRestartTimeout = 10 * time.Minute

var restartPolicies = []string{RestartNever, RestartSignal, RestartCommand}

// TuneInput is the input of [TuneWorkflow]. The zero value is valid: a dry
// run that plans for the hardware the probe finds (when the database is
// local) and changes nothing.
type TuneInput struct {
	// Request holds the recommender's choices (workload, storage, memory,
	// cpus, pg_version, overrides, extensions...); its JSON fields appear
	// at the top level of the input.
	pgtune.Request
	// Apply makes the changes. Default false: plan only.
	Apply bool `json:"apply,omitempty"`
	// RestartPolicy is never, signal or command. Default never.
	RestartPolicy string `json:"restart_policy,omitempty"`
	// RestartTimeout bounds the restart step, as a Go duration such as
	// "10m". Default 10m.
	RestartTimeout string `json:"restart_timeout,omitempty"`
}

// Validate checks the input and returns every problem, each naming its
// field.
func (in TuneInput) Validate() error {
	errs := []error{in.Request.Validate()}
	if in.RestartPolicy != "" && !slices.Contains(restartPolicies, in.RestartPolicy) {
		errs = append(errs, fmt.Errorf("restart_policy: %q is not a policy; use one of %s", in.RestartPolicy, strings.Join(restartPolicies, ", ")))
	}
	if in.RestartTimeout != "" {
		if d, err := time.ParseDuration(in.RestartTimeout); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("restart_timeout: %q is not a positive duration such as 10m", in.RestartTimeout))
		}
	}
	return joinInputErrors(errs...)
}

func (in TuneInput) policy() string { return cmp.Or(in.RestartPolicy, RestartNever) }

func (in TuneInput) restartTimeout() time.Duration {
	if d, err := time.ParseDuration(in.RestartTimeout); err == nil && d > 0 {
		return d
	}
	return DefaultRestartTimeout
}

// TuneResult is the result of [TuneWorkflow]; steps that did not run leave
// their field nil.
type TuneResult struct {
	// DryRun is true when nothing was applied.
	DryRun bool `json:"dry_run"`
	// Plan is what the tuner decided, setting by setting, and the ALTER
	// SYSTEM statements it runs (or would run).
	Plan pgtune.Plan `json:"plan"`
	// Apply reports the changes made.
	Apply *pgtune.ApplyReport `json:"apply,omitempty"`
	// Restart reports the restart (signal or command policy).
	Restart *activities.RestartResult `json:"restart,omitempty"`
	// Verify reports what is live after the apply (and restart).
	Verify *pgtune.VerifyReport `json:"verify,omitempty"`
	// Revert reports the compensation after a failed step.
	Revert *pgtune.RevertReport `json:"revert,omitempty"`
	// PendingRestart lists the settings still waiting for a restart.
	PendingRestart []string `json:"pending_restart,omitempty"`
	// Summary says what happened in one line.
	Summary string `json:"summary"`
}

// TuneProgress answers the progress query of [TuneWorkflow].
type TuneProgress struct {
	// Step is plan, apply, restart, verify, revert or done.
	Step string `json:"step"`
	// WaitingForSignal is true while the signal policy waits for an
	// operator's postgres-restarted signal.
	WaitingForSignal bool `json:"waiting_for_signal,omitempty"`
}

// tuneNonRetryable are the activity error types that fail the same way on
// every attempt.
var tuneNonRetryable = []string{
	activities.ErrTypeInvalidInput, activities.ErrTypePermission, activities.ErrTypeAlterSystemDisabled,
	activities.ErrTypeRestartFailed, activities.ErrTypeVerifyFailed, activities.ErrTypeNotFound,
}

// TuneWorkflow tunes PostgreSQL: plan, then (when the input says apply)
// apply with ALTER SYSTEM and reload, restart by the input's policy when a
// changed setting needs it, and verify. If a step after the apply fails, it
// reverts what the run applied (and, under the command policy, restarts
// again so the old values are live) and returns both errors joined. It runs
// as a child of PipelineWorkflow or on its own.
func TuneWorkflow(ctx workflow.Context, in TuneInput) (res TuneResult, err error) {
	// Reading and changing the server is retried through an outage of
	// OutageBudget; restarts, which wait for the server themselves, are
	// not (one more attempt covers a lost worker).
	ctx = workflow.WithActivityOptions(ctx, budgeted(2*time.Minute, tuneNonRetryable))
	retry := outageRetry(tuneNonRetryable)
	// Planning and applying heartbeat before every statement, so a worker
	// that dies half-way is noticed in seconds and the retry resumes.
	planOpts := budgeted(2*time.Minute, tuneNonRetryable)
	planOpts.HeartbeatTimeout = TuneHeartbeatTimeout
	planCtx := workflow.WithActivityOptions(ctx, planOpts)
	if err := in.Validate(); err != nil {
		// Validate's message is one line, every problem naming its field.
		return res, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	timeout := in.restartTimeout()
	// The steps that change the server wait for their activity to end even
	// when the workflow is cancelled: the compensation must not revert
	// while an apply or a restart is still under way.
	applyOpts := budgeted(5*time.Minute, tuneNonRetryable)
	applyOpts.HeartbeatTimeout = TuneHeartbeatTimeout
	applyOpts.WaitForCancellation = true
	applyCtx := workflow.WithActivityOptions(ctx, applyOpts)
	// A restart that leaves the server down is undone in the same
	// attempt: the kept postgresql.auto.conf goes back and the server is
	// restarted again, with a bound of its own.
	restartCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2*timeout + 2*time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         withAttempts(retry, 2),
		WaitForCancellation: true,
	})
	confirmCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: activities.DefaultConfirmWait + activities.DefaultRestartWait + time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         withAttempts(retry, 2),
		WaitForCancellation: true,
	})
	logger := workflow.GetLogger(ctx)
	progress := TuneProgress{Step: "plan"}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (TuneProgress, error) { return progress, nil }); err != nil {
		return res, err
	}
	var a *activities.Tuning

	if err := workflow.ExecuteActivity(planCtx, a.PlanTuning, in.Request).Get(ctx, &res.Plan); err != nil {
		return res, stepError("plan", err)
	}
	p := res.Plan
	if !in.Apply {
		res.DryRun = true
		progress.Step = "done"
		res.Summary = fmt.Sprintf("dry run: %d of %d settings would change (%d need a restart) for %s memory and %d CPUs (%s)",
			p.Changes, len(p.Items), p.RestartChanges, p.Hardware.Memory, p.Hardware.CPUs, p.Hardware.Source)
		if p.Blocked != "" {
			res.Summary += "; applying is blocked: " + p.Blocked
		}
		return res, nil
	}
	if p.Blocked != "" {
		errType := activities.ErrTypePermission
		if strings.Contains(p.Blocked, "allow_alter_system") {
			errType = activities.ErrTypeAlterSystemDisabled
		}
		return res, temporal.NewNonRetryableApplicationError("nothing changed: "+p.Blocked, errType, nil)
	}
	if p.Changes == 0 {
		progress.Step = "done"
		res.Summary = fmt.Sprintf("nothing to change: all %d settings already match (within 5%%)", len(p.Items))
		return res, nil
	}

	runID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	restarted := false
	// The compensation: once the apply has started, any failure reverts
	// what this run recorded (a run with no records reverts nothing).
	defer func() {
		if err == nil {
			return
		}
		progress.Step = "revert"
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		var rv pgtune.RevertReport
		rerr := workflow.ExecuteActivity(dctx, a.RevertTuning, activities.RevertTuningInput{RunID: runID, MissingOK: true}).Get(dctx, &rv)
		if rerr == nil {
			res.Revert = &rv
			res.PendingRestart = rv.PendingRestart
			if restarted && in.policy() == RestartCommand && len(rv.PendingRestart) > 0 {
				var again activities.RestartResult
				rctx, _ := workflow.NewDisconnectedContext(restartCtx)
				before := res.Restart.StartedAfter
				rerr = workflow.ExecuteActivity(rctx, a.RestartPostgres, activities.RestartInput{
					Before: before, Wait: timeout, RunID: runID, Settings: changedNames(rv.Reverted),
				}).Get(rctx, &again)
				if rerr == nil {
					res.PendingRestart = nil
				}
			}
		}
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("revert run %s: %w", runID, rerr))
			logger.Error("tune: revert failed", "run_id", runID, "error", rerr)
			return
		}
		logger.Info("tune: reverted after a failed step", "run_id", runID, "reverted", len(rv.Reverted))
	}()

	progress.Step = "apply"
	var rep pgtune.ApplyReport
	if err := workflow.ExecuteActivity(applyCtx, a.ApplyTuning, activities.ApplyTuningInput{
		Plan: p, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, RunID: runID,
	}).Get(ctx, &rep); err != nil {
		return res, stepError("apply", err)
	}
	res.Apply = &rep
	res.PendingRestart = rep.PendingRestart

	if needsRestart(rep) {
		progress.Step = "restart"
		switch in.policy() {
		case RestartCommand:
			var rr activities.RestartResult
			if err := workflow.ExecuteActivity(restartCtx, a.RestartPostgres, activities.RestartInput{
				Before: rep.PostmasterStartTime, Wait: timeout, RunID: runID, Settings: changedNames(rep.Changes),
			}).Get(ctx, &rr); err != nil {
				return res, stepError("restart", err)
			}
			res.Restart, restarted = &rr, true
		case RestartSignal:
			progress.WaitingForSignal = true
			logger.Info("tune: waiting for an operator to restart PostgreSQL", "signal", config.SignalPostgresRestarted,
				"timeout", timeout.String(), "pending_restart", strings.Join(rep.PendingRestart, ","))
			got := waitForSignal(ctx, config.SignalPostgresRestarted, timeout)
			progress.WaitingForSignal = false
			if err := ctx.Err(); err != nil {
				// Cancelled while waiting: say so (the compensation reverts).
				return res, fmt.Errorf("restart: cancelled while waiting for the %s signal: %w", config.SignalPostgresRestarted, err)
			}
			if !got {
				return res, temporal.NewNonRetryableApplicationError(
					fmt.Sprintf("restart: no %s signal within %s; %s still wait for a restart", config.SignalPostgresRestarted, timeout, strings.Join(rep.PendingRestart, ", ")),
					activities.ErrTypeRestartFailed, nil)
			}
			var rr activities.RestartResult
			if err := workflow.ExecuteActivity(confirmCtx, a.ConfirmRestart, activities.RestartInput{
				Before: rep.PostmasterStartTime, Wait: activities.DefaultConfirmWait, RunID: runID, Settings: changedNames(rep.Changes),
			}).Get(ctx, &rr); err != nil {
				return res, stepError("confirm restart", err)
			}
			res.Restart, restarted = &rr, true
		}
	}

	progress.Step = "verify"
	var vr pgtune.VerifyReport
	if err := workflow.ExecuteActivity(ctx, a.VerifyTuning, activities.VerifyTuningInput{
		Plan: p, Restarted: restarted,
	}).Get(ctx, &vr); err != nil {
		return res, stepError("verify", err)
	}
	res.Verify = &vr
	res.PendingRestart = vr.PendingRestart
	progress.Step = "done"
	res.Summary = summarize(rep, vr, restarted)
	return res, nil
}

// needsRestart reports whether a setting this run changed waits for a
// restart.
func needsRestart(rep pgtune.ApplyReport) bool {
	for _, c := range rep.Changes {
		if c.Context == pgtune.ContextRestart && slices.Contains(rep.PendingRestart, c.Name) {
			return true
		}
	}
	return false
}

// changedNames lists the settings of changes, in order.
func changedNames(cs []pgtune.Change) []string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}

// waitForSignal waits for the named signal, at most timeout, and reports
// whether it came.
func waitForSignal(ctx workflow.Context, name string, timeout time.Duration) bool {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	got := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, name), func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		got = true
	})
	sel.AddFuture(workflow.NewTimer(timerCtx, timeout), func(workflow.Future) {})
	sel.Select(ctx)
	return got
}

func summarize(rep pgtune.ApplyReport, vr pgtune.VerifyReport, restarted bool) string {
	s := rep.Message
	if restarted {
		s += "; restarted and verified"
	} else {
		s += "; verified"
	}
	if len(vr.PendingRestart) > 0 {
		s += fmt.Sprintf("; %d settings wait for a restart (%s): restart PostgreSQL, or use restart_policy signal or command",
			len(vr.PendingRestart), strings.Join(vr.PendingRestart, ", "))
	}
	return s
}

func withAttempts(p *temporal.RetryPolicy, n int32) *temporal.RetryPolicy {
	c := *p
	c.MaximumAttempts = n
	return &c
}
