package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/strictjson"
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
	// problems is what decoding found wrong (see input.go).
	problems strictjson.Problems
}

// Validate checks the input and returns every problem, each naming its
// field; unknown fields and values of the wrong kind are reported alone.
func (in TuneInput) Validate() error {
	if err := in.problems.Err(); err != nil {
		return err
	}
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
	// Summary says what happened in one line.
	Summary string `json:"summary"`
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
}

// TuneProgress answers the progress query of [TuneWorkflow].
type TuneProgress struct {
	// Step is plan, apply, restart, verify, revert or done.
	Step string `json:"step"`
	// WaitingForSignal is true while the signal policy waits for an
	// operator's postgres-restarted signal.
	WaitingForSignal bool `json:"waiting_for_signal,omitempty"`
	// Lock is the workflow ID of the server's lock while the run holds it
	// (apply to done): the TuneApplyWorkflow changing the server.
	Lock string `json:"lock,omitempty"`
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
//
// The changes run one server at a time: apply, restart, verify and the
// compensation run in a child [TuneApplyWorkflow] whose workflow ID is the
// server's lock (config.ServerLockIDPrefix, its system identifier and
// port). While one run holds it, another fails at once with a
// non-retryable ServerBusy error naming the run that holds the server, and
// changes nothing. The postgres-restarted signal and the progress query
// work on TuneWorkflow as before: it forwards the signal to the child, and
// the child reports its progress back.
func TuneWorkflow(ctx workflow.Context, in TuneInput) (res TuneResult, err error) {
	ctx = workflow.WithActivityOptions(ctx, budgeted(2*time.Minute, tuneNonRetryable))
	// Planning heartbeats before every statement, so a worker that dies
	// half-way is noticed in seconds and the retry resumes.
	planOpts := budgeted(2*time.Minute, tuneNonRetryable)
	planOpts.HeartbeatTimeout = TuneHeartbeatTimeout
	planCtx := workflow.WithActivityOptions(ctx, planOpts)
	if err := in.Validate(); err != nil {
		// Validate's message is one line, every problem naming its field.
		return res, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	progress := TuneProgress{Step: "plan"}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (TuneProgress, error) { return progress, nil }); err != nil {
		return res, err
	}
	wfID := workflow.GetInfo(ctx).WorkflowExecution.ID
	show := func() { workflow.SetCurrentDetails(ctx, tuneMarkdown(progress, in.Apply, wfID, res.Summary)) }
	show()
	defer show()
	var a *activities.Tuning

	planCtx = workflow.WithActivityOptions(planCtx, withSummary(workflow.GetActivityOptions(planCtx), "plan the settings"))
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
		// Settings configured before (by a run with the never policy, or
		// one that is restarting the server now) are not live until a
		// restart. This run changed nothing, so it leaves the restart to
		// whoever configured them, and says so.
		if res.PendingRestart = p.PendingRestart(); len(res.PendingRestart) > 0 {
			res.Summary = fmt.Sprintf("nothing to change: all %d settings are configured already; %d not live until PostgreSQL restarts: %s",
				len(p.Items), len(res.PendingRestart), strings.Join(res.PendingRestart, ", "))
		}
		return res, nil
	}

	info := workflow.GetInfo(ctx)
	ain := TuneApplyInput{
		Plan: p, RestartPolicy: in.policy(), RestartTimeout: in.restartTimeout(),
		TuneWorkflowID: info.WorkflowExecution.ID, TuneRunID: info.WorkflowExecution.RunID,
	}
	var ar TuneApplyResult
	if workflow.GetVersion(ctx, serverLockChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Runs that began before the lock apply in this workflow.
		ar, err = applyRestartVerify(ctx, ain, func(tp TuneProgress) { progress = tp; show() })
	} else {
		ar, err = applyUnderLock(ctx, ain, &progress, show)
	}
	res.Apply, res.Restart, res.Verify, res.Revert = ar.Apply, ar.Restart, ar.Verify, ar.Revert
	res.PendingRestart, res.Summary = ar.PendingRestart, ar.Summary
	return res, err
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
	sel.AddFuture(workflow.NewTimerWithOptions(timerCtx, timeout, workflow.TimerOptions{
		Summary: fmt.Sprintf("wait for %s (at most %s)", name, timeout),
	}), func(workflow.Future) {})
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

// tuneSteps are TuneWorkflow's steps in order, as its current details
// show them.
var tuneSteps = []string{"plan", "apply", "restart", "verify", "done"}

// tuneMarkdown is TuneWorkflow's current details in the Web UI: one line
// per step (✓ done, ▶ running, · to come) and, while the signal policy
// waits, the command that ends the wait.
func tuneMarkdown(p TuneProgress, apply bool, workflowID, summary string) string {
	var b strings.Builder
	steps := tuneSteps
	if !apply {
		steps = []string{"plan", "done"}
	}
	at := slices.Index(steps, p.Step)
	for i, st := range steps[:len(steps)-1] {
		marker := "·"
		switch {
		case p.Step == "done" || (at >= 0 && i < at):
			marker = "✓"
		case i == at:
			marker = "▶"
		}
		b.WriteString(marker + " " + st + "\n\n")
	}
	if p.Step == "revert" {
		b.WriteString("▶ revert: a step failed; putting back what this run applied\n\n")
	}
	if p.Lock != "" {
		b.WriteString("holds the server's lock: `" + p.Lock + "`\n\n")
	}
	if p.WaitingForSignal {
		b.WriteString("**Waiting for PostgreSQL to be restarted.** Restart it, then run:\n\n")
		b.WriteString("`temporal workflow signal --workflow-id " + workflowID + " --name " + config.SignalPostgresRestarted + "`\n\n")
	}
	if summary != "" {
		b.WriteString(summary + "\n")
	}
	return b.String()
}

// withSummary returns opts with the summary the Web UI shows on the
// activity in the timeline.
func withSummary(opts workflow.ActivityOptions, summary string) workflow.ActivityOptions {
	opts.Summary = summary
	return opts
}
