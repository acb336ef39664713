package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgtune"
)

// serverLockChange is the workflow.GetVersion change ID of running a
// server's changes under its lock. Runs recorded before it apply and
// revert inline.
const serverLockChange = "server-lock"

// ServerLockID is the workflow ID under which changes to the server run:
// config.ServerLockIDPrefix, the system identifier and the port. Temporal
// runs one workflow per ID at a time, so the ID is the server's lock; no
// credentials go into it.
func ServerLockID(id pgtune.ServerIdentity) string {
	return config.ServerLockIDPrefix + id.SystemIdentifier + "-" + strconv.Itoa(id.Port)
}

// TuneApplyInput is the input of [TuneApplyWorkflow]: a plan from
// PlanTuning and the TuneWorkflow run it belongs to.
type TuneApplyInput struct {
	Plan pgtune.Plan `json:"plan"`
	// RestartPolicy is never, signal or command.
	RestartPolicy string `json:"restart_policy"`
	// RestartTimeout bounds the restart step.
	RestartTimeout time.Duration `json:"restart_timeout"`
	// TuneWorkflowID and TuneRunID identify the TuneWorkflow run. The
	// changes are recorded under its run ID, which is what a revert names.
	TuneWorkflowID string `json:"tune_workflow_id"`
	TuneRunID      string `json:"tune_run_id"`
}

// TuneApplyResult is the result of [TuneApplyWorkflow]; steps that did not
// run leave their field nil. [TuneResult] carries the same fields.
type TuneApplyResult struct {
	Summary        string                    `json:"summary"`
	Apply          *pgtune.ApplyReport       `json:"apply,omitempty"`
	Restart        *activities.RestartResult `json:"restart,omitempty"`
	Verify         *pgtune.VerifyReport      `json:"verify,omitempty"`
	Revert         *pgtune.RevertReport      `json:"revert,omitempty"`
	PendingRestart []string                  `json:"pending_restart,omitempty"`
}

// TuneApplyWorkflow is the part of [TuneWorkflow] that changes the server:
// apply the plan, restart by the policy, verify, and revert what the run
// applied if a step fails. It runs as TuneWorkflow's child under the
// server's lock ID ([ServerLockID]) and refuses to run under any other, so
// two runs never change one server at once. It answers the progress query
// and reports its progress to its parent with the tune-progress signal;
// the postgres-restarted signal reaches it from its parent.
func TuneApplyWorkflow(ctx workflow.Context, in TuneApplyInput) (TuneApplyResult, error) {
	ctx = workflow.WithActivityOptions(ctx, budgeted(2*time.Minute, tuneNonRetryable))
	if err := checkLockID(ctx, in.Plan.Identity); err != nil {
		return TuneApplyResult{}, err
	}
	lockID := workflow.GetInfo(ctx).WorkflowExecution.ID
	progress := TuneProgress{Step: "apply", Lock: lockID}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (TuneProgress, error) { return progress, nil }); err != nil {
		return TuneApplyResult{}, err
	}
	parent := workflow.GetInfo(ctx).ParentWorkflowExecution
	// Reports go out even while a cancelled run reverts.
	signalCtx, _ := workflow.NewDisconnectedContext(ctx)
	seq := 0
	return applyRestartVerify(ctx, in, func(tp TuneProgress) {
		tp.Lock = lockID
		progress = tp
		if parent != nil {
			// The parent answers the progress query with it; if the
			// parent is gone, nobody asks.
			seq++
			_ = workflow.SignalExternalWorkflow(signalCtx, parent.ID, parent.RunID, config.SignalTuneProgress,
				TuneProgressReport{Seq: seq, Progress: tp})
		}
	})
}

// TuneProgressReport is the tune-progress signal's payload. Signals sent
// one after another may arrive in another order; Seq tells the latest.
type TuneProgressReport struct {
	Seq      int          `json:"seq"`
	Progress TuneProgress `json:"progress"`
}

// checkLockID refuses to change a server from a workflow that does not
// hold its lock (a TuneApplyWorkflow or TuneRevertWorkflow started by hand
// under another ID).
func checkLockID(ctx workflow.Context, id pgtune.ServerIdentity) error {
	info := workflow.GetInfo(ctx)
	if want := ServerLockID(id); id.SystemIdentifier == "" || info.WorkflowExecution.ID != want {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s changes a server only under its lock ID (%s for %s), not %s: start TuneWorkflow or RevertTuningWorkflow instead",
			info.WorkflowType.Name, want, id, info.WorkflowExecution.ID), activities.ErrTypeInvalidInput, nil)
	}
	return nil
}

// applyUnderLock runs [TuneApplyWorkflow] as a child under the server's
// lock ID and waits for it, forwarding the postgres-restarted signal to it
// and taking its progress reports into progress. While another run holds
// the lock, the child cannot start (a child workflow's ID conflict always
// fails: the server refuses to start a second workflow with a running
// one's ID), and the run fails at once with ErrTypeServerBusy, changing
// nothing.
func applyUnderLock(ctx workflow.Context, in TuneApplyInput, progress *TuneProgress, show func()) (TuneApplyResult, error) {
	var a *activities.Tuning
	if in.Plan.Identity.SystemIdentifier == "" {
		// A plan from a worker that did not read the identity yet.
		if err := workflow.ExecuteActivity(ctx, a.ServerIdentity).Get(ctx, &in.Plan.Identity); err != nil {
			return TuneApplyResult{}, stepError("read the server's identity", err)
		}
	}
	lockID := ServerLockID(in.Plan.Identity)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:    lockID,
		StaticSummary: "apply tuning to PostgreSQL " + in.Plan.Server + " for " + in.TuneWorkflowID,
		// Once it has begun to change the server, it finishes (and
		// reverts on failure) even if the tune run is terminated.
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WaitForCancellation: true,
	})
	progress.Step, progress.Lock = "apply", lockID
	child := workflow.ExecuteChildWorkflow(cctx, TuneApplyWorkflow, in)
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		progress.Step, progress.Lock = "done", ""
		return TuneApplyResult{}, lockRefused(ctx, lockID, in.Plan.Identity, in.Plan.Server, err)
	}
	followChild(ctx, child, func(tp TuneProgress) { *progress = tp; show() })
	var ar TuneApplyResult
	err := child.Get(ctx, &ar)
	progress.Lock = ""
	if err != nil {
		return ar, stepError("apply under "+lockID, err)
	}
	progress.Step = "done"
	return ar, nil
}

// followChild waits for a child holding a server's lock to end, sending it
// the postgres-restarted signals this workflow receives and handing its
// progress reports to report.
func followChild(ctx workflow.Context, child workflow.ChildWorkflowFuture, report func(TuneProgress)) {
	restarted := workflow.GetSignalChannel(ctx, config.SignalPostgresRestarted)
	reports := workflow.GetSignalChannel(ctx, config.SignalTuneProgress)
	latest := 0
	for done := false; !done; {
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(child, func(workflow.Future) { done = true })
		sel.AddReceive(restarted, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			_ = child.SignalChildWorkflow(ctx, config.SignalPostgresRestarted, nil)
		})
		sel.AddReceive(reports, func(c workflow.ReceiveChannel, _ bool) {
			var r TuneProgressReport
			c.Receive(ctx, &r)
			if r.Seq > latest {
				latest = r.Seq
				report(r.Progress)
			}
		})
		sel.Select(ctx)
	}
}

// lockRefused is the error for a child under lockID that could not start.
// When the lock is held, it names the holder and the run it works for.
func lockRefused(ctx workflow.Context, lockID string, id pgtune.ServerIdentity, server string, err error) error {
	// The server's answer; the test environment answers a duplicate ID
	// with the service error instead.
	var started *temporal.ChildWorkflowExecutionAlreadyStartedError
	var startedSvc *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &started) && !errors.As(err, &startedSvc) {
		return stepError("start "+lockID, err)
	}
	var a *activities.Tuning
	var h activities.LockHolder
	holder := "the workflow " + lockID
	if derr := workflow.ExecuteActivity(ctx, a.DescribeServerLock, lockID).Get(ctx, &h); derr == nil && h.RunID != "" {
		holder = fmt.Sprintf("%s %s (run %s, started %s)", h.WorkflowType, h.WorkflowID, h.RunID, h.StartTime.UTC().Format(time.RFC3339))
		if h.ParentWorkflowID != "" {
			holder = fmt.Sprintf("workflow %s (run %s), through %s", h.ParentWorkflowID, h.ParentRunID, holder)
		}
		if !h.Running {
			holder += ", which has finished since: run again"
		}
	}
	if server != "" {
		server += " "
	}
	msg := fmt.Sprintf("nothing changed: PostgreSQL %s(%s) is being changed by %s; changes to one server run one at a time, so run again once it has finished",
		server, id, holder)
	return temporal.NewNonRetryableApplicationError(msg, activities.ErrTypeServerBusy, nil)
}

// applyRestartVerify applies the plan, restarts by the policy when a
// changed setting needs it, and verifies; once the apply has begun, any
// failure reverts what the run recorded (and, under the command policy
// after a restart, restarts again) and both errors are returned joined.
// report receives each change of step. ctx must carry the default
// activity options (budgeted). It is TuneApplyWorkflow's body, and
// TuneWorkflow's own for runs that began before the lock.
func applyRestartVerify(ctx workflow.Context, in TuneApplyInput, report func(TuneProgress)) (res TuneApplyResult, err error) {
	timeout := in.RestartTimeout
	retry := outageRetry(tuneNonRetryable)
	// Applying heartbeats before every statement, so a worker that dies
	// half-way is noticed in seconds and the retry resumes.
	applyOpts := budgeted(5*time.Minute, tuneNonRetryable)
	applyOpts.HeartbeatTimeout = TuneHeartbeatTimeout
	// The steps that change the server wait for their activity to end
	// even when the workflow is cancelled: the compensation must not
	// revert while an apply or a restart is still under way.
	applyOpts.WaitForCancellation = true
	applyCtx := workflow.WithActivityOptions(ctx, applyOpts)
	// A restart waits for the server itself; one more attempt covers a
	// lost worker. A restart that leaves the server down is undone in the
	// same attempt (the kept postgresql.auto.conf goes back and the server
	// is restarted again, with a bound of its own).
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
	var a *activities.Tuning
	p, runID := in.Plan, in.TuneRunID

	restarted := false
	// The compensation: once the apply has started, any failure reverts
	// what this run recorded (a run with no records reverts nothing).
	defer func() {
		if err == nil {
			return
		}
		report(TuneProgress{Step: "revert"})
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		var rv pgtune.RevertReport
		rerr := workflow.ExecuteActivity(dctx, a.RevertTuning, activities.RevertTuningInput{RunID: runID, MissingOK: true}).Get(dctx, &rv)
		if rerr == nil {
			res.Revert = &rv
			res.PendingRestart = rv.PendingRestart
			if restarted && in.RestartPolicy == RestartCommand && len(rv.PendingRestart) > 0 {
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

	report(TuneProgress{Step: "apply"})
	var rep pgtune.ApplyReport
	applyCtx = workflow.WithActivityOptions(applyCtx, withSummary(workflow.GetActivityOptions(applyCtx),
		fmt.Sprintf("apply %d settings with ALTER SYSTEM", p.Changes)))
	if err := workflow.ExecuteActivity(applyCtx, a.ApplyTuning, activities.ApplyTuningInput{
		Plan: p, WorkflowID: in.TuneWorkflowID, RunID: runID,
	}).Get(ctx, &rep); err != nil {
		return res, stepError("apply", err)
	}
	res.Apply = &rep
	res.PendingRestart = rep.PendingRestart

	if needsRestart(rep) {
		report(TuneProgress{Step: "restart"})
		switch in.RestartPolicy {
		case RestartCommand:
			var rr activities.RestartResult
			restartCtx := workflow.WithActivityOptions(restartCtx, withSummary(workflow.GetActivityOptions(restartCtx),
				"restart PostgreSQL with PG_RESTART_COMMAND"))
			if err := workflow.ExecuteActivity(restartCtx, a.RestartPostgres, activities.RestartInput{
				Before: rep.PostmasterStartTime, Wait: timeout, RunID: runID, Settings: changedNames(rep.Changes),
			}).Get(ctx, &rr); err != nil {
				return res, stepError("restart", err)
			}
			res.Restart, restarted = &rr, true
		case RestartSignal:
			report(TuneProgress{Step: "restart", WaitingForSignal: true})
			logger.Info("tune: waiting for an operator to restart PostgreSQL", "signal", config.SignalPostgresRestarted,
				"timeout", timeout.String(), "pending_restart", strings.Join(rep.PendingRestart, ","))
			got := waitForSignal(ctx, config.SignalPostgresRestarted, timeout)
			report(TuneProgress{Step: "restart"})
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
			confirmCtx = workflow.WithActivityOptions(confirmCtx, withSummary(workflow.GetActivityOptions(confirmCtx), "confirm the restart"))
			if err := workflow.ExecuteActivity(confirmCtx, a.ConfirmRestart, activities.RestartInput{
				Before: rep.PostmasterStartTime, Wait: activities.DefaultConfirmWait, RunID: runID, Settings: changedNames(rep.Changes),
			}).Get(ctx, &rr); err != nil {
				return res, stepError("confirm restart", err)
			}
			res.Restart, restarted = &rr, true
		}
	}

	report(TuneProgress{Step: "verify"})
	var vr pgtune.VerifyReport
	verifyCtx := workflow.WithActivityOptions(ctx, withSummary(workflow.GetActivityOptions(ctx), fmt.Sprintf("verify %d settings", len(p.Items))))
	if err := workflow.ExecuteActivity(verifyCtx, a.VerifyTuning, activities.VerifyTuningInput{
		Plan: p, Restarted: restarted,
	}).Get(ctx, &vr); err != nil {
		return res, stepError("verify", err)
	}
	res.Verify = &vr
	res.PendingRestart = vr.PendingRestart
	report(TuneProgress{Step: "done"})
	res.Summary = summarize(rep, vr, restarted)
	return res, nil
}
