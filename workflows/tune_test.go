package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/workflows"
)

// tuning is only used to name activity methods for the mocks.
var tuning *activities.Tuning

var (
	startedAt = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	restartAt = startedAt.Add(time.Hour)
	tunePlan  = pgtune.Plan{
		PGVersion: 15,
		Hardware:  pgtune.Hardware{MemoryBytes: 2 << 30, Memory: "2GB", CPUs: 2, Source: pgtune.HardwareProbe},
		Server:    "postgres@db:5432/postgres",
		Identity:  pgtune.ServerIdentity{SystemIdentifier: "7312345678901234567", Port: 5432},
		Items: []pgtune.Item{
			{Setting: pgtune.Setting{Name: "shared_buffers", Value: "512MB", Context: pgtune.ContextRestart}, Current: "128MB", Action: pgtune.ActionChange},
			{Setting: pgtune.Setting{Name: "work_mem", Value: "4MB", Context: pgtune.ContextReload}, Current: "4MB", Action: pgtune.ActionKeep},
			{Setting: pgtune.Setting{Name: "checkpoint_timeout", Value: "15min", Context: pgtune.ContextReload}, Current: "5min", Action: pgtune.ActionChange},
		},
		Statements:          []string{"ALTER SYSTEM SET shared_buffers = '512MB'", "ALTER SYSTEM SET checkpoint_timeout = '15min'", "SELECT pg_reload_conf()"},
		Changes:             2,
		RestartChanges:      1,
		PostmasterStartTime: startedAt,
	}
	tuneApplied = pgtune.ApplyReport{
		RunID: "default-test-run-id",
		Changes: []pgtune.Change{
			{Name: "shared_buffers", Old: "128MB", New: "512MB", Context: pgtune.ContextRestart},
			{Name: "checkpoint_timeout", Old: "5min", New: "15min", Context: pgtune.ContextReload},
		},
		Live:                []string{"checkpoint_timeout"},
		PendingRestart:      []string{"shared_buffers"},
		Message:             "changed 2 settings: 1 live, 1 wait for a restart, 0 rejected",
		PostmasterStartTime: startedAt,
	}
	tuneReverted = pgtune.RevertReport{RunID: "default-test-run-id", Reverted: []pgtune.Change{{Name: "checkpoint_timeout"}, {Name: "shared_buffers"}},
		PendingRestart: []string{"shared_buffers"}}
)

func newTuneEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Tuning{})
	env.RegisterWorkflow(workflows.TuneApplyWorkflow)
	env.RegisterWorkflow(workflows.TuneRevertWorkflow)
	// TuneApplyWorkflow's progress reports to its parent.
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, config.SignalTuneProgress, mock.Anything).Return(nil).Maybe()
	return env
}

func runTuneWorkflow(t *testing.T, env *testsuite.TestWorkflowEnvironment, in workflows.TuneInput) (workflows.TuneResult, error) {
	t.Helper()
	env.ExecuteWorkflow(workflows.TuneWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	if err := env.GetWorkflowError(); err != nil {
		return workflows.TuneResult{}, err
	}
	var res workflows.TuneResult
	require.NoError(t, env.GetWorkflowResult(&res))
	env.AssertExpectations(t)
	return res, nil
}

func TestTuneWorkflowZeroInputIsADryRun(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	env.OnActivity(tuning.PlanTuning, mock.Anything, pgtune.Request{}).Return(tunePlan, nil).Once()

	res, err := runTuneWorkflow(t, env, workflows.TuneInput{})
	require.NoError(t, err)
	require.True(t, res.DryRun)
	require.Equal(t, tunePlan, res.Plan)
	require.Nil(t, res.Apply)
	require.Equal(t, "dry run: 2 of 3 settings would change (1 need a restart) for 2GB memory and 2 CPUs (probe)", res.Summary)
	env.AssertActivityNotCalled(t, "ApplyTuning", mock.Anything, mock.Anything)
}

func TestTuneWorkflowRejectsBadInputBeforeAnyActivity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      workflows.TuneInput
		wantErr []string
	}{
		{name: "unknown workload", in: workflows.TuneInput{Request: pgtune.Request{Workload: "olap"}}, wantErr: []string{`workload: "olap"`}},
		{name: "negative memory", in: workflows.TuneInput{Request: pgtune.Request{Memory: "-2GB"}}, wantErr: []string{"memory: must be positive"}},
		{name: "unknown override", in: workflows.TuneInput{Apply: true, Request: pgtune.Request{Overrides: []pgtune.Override{{Name: "fsync", Value: "off"}}}},
			wantErr: []string{"overrides[0]: fsync: not a setting this tool manages"}},
		{name: "preload library as a path", in: workflows.TuneInput{Apply: true, RestartPolicy: workflows.RestartCommand,
			Request: pgtune.Request{Overrides: []pgtune.Override{{Name: "shared_preload_libraries", Value: "/etc/passwd"}}}},
			wantErr: []string{`overrides[0]: shared_preload_libraries: "/etc/passwd" is not a bare library name`}},
		{name: "policy and timeout", in: workflows.TuneInput{RestartPolicy: "reboot", RestartTimeout: "soon"},
			wantErr: []string{`restart_policy: "reboot" is not a policy; use one of never, signal, command; restart_timeout: "soon" is not a positive duration`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newTuneEnv(t)
			_, err := runTuneWorkflow(t, env, tt.in)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
			require.True(t, appErr.NonRetryable())
			for _, w := range tt.wantErr {
				require.ErrorContains(t, err, w)
			}
			env.AssertActivityNotCalled(t, "PlanTuning", mock.Anything, mock.Anything)
			env.AssertActivityNotCalled(t, "ApplyTuning", mock.Anything, mock.Anything)
		})
	}
}

func TestTuneWorkflowApplyNeverPolicyReportsPendingRestart(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	in := workflows.TuneInput{Apply: true, Request: pgtune.Request{Memory: "2GB", CPUs: 2}}
	env.OnActivity(tuning.PlanTuning, mock.Anything, in.Request).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.MatchedBy(func(a activities.ApplyTuningInput) bool {
		return a.RunID == "default-test-run-id" && a.WorkflowID == "default-test-workflow-id" && a.Plan.Changes == 2
	})).Return(tuneApplied, nil).Once()
	vr := pgtune.VerifyReport{Live: []string{"work_mem", "checkpoint_timeout"}, PendingRestart: []string{"shared_buffers"}}
	env.OnActivity(tuning.VerifyTuning, mock.Anything, activities.VerifyTuningInput{Plan: tunePlan, Restarted: false}).Return(vr, nil).Once()

	res, err := runTuneWorkflow(t, env, in)
	require.NoError(t, err)
	require.False(t, res.DryRun)
	require.Equal(t, []string{"shared_buffers"}, res.PendingRestart)
	require.Nil(t, res.Restart)
	require.Nil(t, res.Revert)
	require.Contains(t, res.Summary, "1 settings wait for a restart (shared_buffers)")
	env.AssertActivityNotCalled(t, "RestartPostgres", mock.Anything, mock.Anything)
}

func TestTuneWorkflowCommandPolicyRestartsThenVerifies(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	in := workflows.TuneInput{Apply: true, RestartPolicy: workflows.RestartCommand, RestartTimeout: "3m"}
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.RestartPostgres, mock.Anything, activities.RestartInput{Before: startedAt, Wait: 3 * time.Minute, RunID: "default-test-run-id", Settings: []string{"shared_buffers", "checkpoint_timeout"}}).
		Return(activities.RestartResult{Restarted: true, StartedBefore: startedAt, StartedAfter: restartAt}, nil).Once()
	env.OnActivity(tuning.VerifyTuning, mock.Anything, activities.VerifyTuningInput{Plan: tunePlan, Restarted: true}).
		Return(pgtune.VerifyReport{Live: []string{"shared_buffers", "work_mem", "checkpoint_timeout"}}, nil).Once()

	res, err := runTuneWorkflow(t, env, in)
	require.NoError(t, err)
	require.True(t, res.Restart.Restarted)
	require.Empty(t, res.PendingRestart)
	require.Contains(t, res.Summary, "restarted and verified")
}

func TestTuneWorkflowSignalPolicyWaitsForTheOperator(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	in := workflows.TuneInput{Apply: true, RestartPolicy: workflows.RestartSignal, RestartTimeout: "1h"}
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.ConfirmRestart, mock.Anything, activities.RestartInput{Before: startedAt, Wait: activities.DefaultConfirmWait, RunID: "default-test-run-id", Settings: []string{"shared_buffers", "checkpoint_timeout"}}).
		Return(activities.RestartResult{Restarted: true, StartedBefore: startedAt, StartedAfter: restartAt}, nil).Once()
	env.OnActivity(tuning.VerifyTuning, mock.Anything, activities.VerifyTuningInput{Plan: tunePlan, Restarted: true}).
		Return(pgtune.VerifyReport{Live: []string{"shared_buffers"}}, nil).Once()

	var waiting workflows.TuneProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(config.QueryProgress)
		require.NoError(t, err)
		require.NoError(t, v.Get(&waiting))
		env.SignalWorkflow(config.SignalPostgresRestarted, nil)
	}, 20*time.Minute)

	res, err := runTuneWorkflow(t, env, in)
	require.NoError(t, err)
	require.Equal(t, workflows.TuneProgress{Step: "restart", WaitingForSignal: true, Lock: "congressflow-pg-7312345678901234567-5432"}, waiting,
		"the child holding the server's lock reports its progress to TuneWorkflow")
	require.True(t, res.Restart.Restarted)
	env.AssertActivityNotCalled(t, "RestartPostgres", mock.Anything, mock.Anything)
	env.AssertActivityNotCalled(t, "RevertTuning", mock.Anything, mock.Anything)
}

// TestTuneWorkflowSignalTimeoutReverts: no signal in time is a failed step
// after the apply, so the saga reverts the run.
func TestTuneWorkflowSignalTimeoutReverts(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	in := workflows.TuneInput{Apply: true, RestartPolicy: workflows.RestartSignal, RestartTimeout: "5m"}
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.RevertTuning, mock.Anything, activities.RevertTuningInput{RunID: "default-test-run-id", MissingOK: true}).Return(tuneReverted, nil).Once()

	_, err := runTuneWorkflow(t, env, in)
	require.ErrorContains(t, err, "restart: no postgres-restarted signal within 5m0s; shared_buffers still wait for a restart")
	env.AssertExpectations(t)
	env.AssertActivityNotCalled(t, "ConfirmRestart", mock.Anything, mock.Anything)
	env.AssertActivityNotCalled(t, "VerifyTuning", mock.Anything, mock.Anything)
}

// TestTuneWorkflowVerifyFailureRevertsAndRestartsAgain: under the command
// policy the revert needs a restart too, so the saga runs one.
func TestTuneWorkflowVerifyFailureRevertsAndRestartsAgain(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	in := workflows.TuneInput{Apply: true, RestartPolicy: workflows.RestartCommand}
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.RestartPostgres, mock.Anything, activities.RestartInput{Before: startedAt, Wait: workflows.DefaultRestartTimeout, RunID: "default-test-run-id", Settings: []string{"shared_buffers", "checkpoint_timeout"}}).
		Return(activities.RestartResult{Restarted: true, StartedAfter: restartAt}, nil).Once()
	env.OnActivity(tuning.VerifyTuning, mock.Anything, mock.Anything).
		Return(pgtune.VerifyReport{}, temporal.NewNonRetryableApplicationError("settings not live: shared_buffers", activities.ErrTypeVerifyFailed, nil)).Once()
	env.OnActivity(tuning.RevertTuning, mock.Anything, activities.RevertTuningInput{RunID: "default-test-run-id", MissingOK: true}).Return(tuneReverted, nil).Once()
	env.OnActivity(tuning.RestartPostgres, mock.Anything, activities.RestartInput{Before: restartAt, Wait: workflows.DefaultRestartTimeout,
		RunID: "default-test-run-id", Settings: []string{"checkpoint_timeout", "shared_buffers"}}).
		Return(activities.RestartResult{Restarted: true, StartedAfter: restartAt.Add(time.Minute)}, nil).Once()

	_, err := runTuneWorkflow(t, env, in)
	require.ErrorContains(t, err, "verify")
	require.ErrorContains(t, err, "settings not live: shared_buffers")
	env.AssertExpectations(t)
	env.AssertActivityNumberOfCalls(t, "RestartPostgres", 2)
	env.AssertActivityNumberOfCalls(t, "RevertTuning", 1)
}

// TestTuneWorkflowJoinsRevertErrors: when the compensation fails too, the
// workflow's error carries both.
func TestTuneWorkflowJoinsRevertErrors(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	in := workflows.TuneInput{Apply: true}
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).
		Return(pgtune.ApplyReport{}, temporal.NewNonRetryableApplicationError("not permitted to change server settings", activities.ErrTypePermission, nil)).Once()
	env.OnActivity(tuning.RevertTuning, mock.Anything, mock.Anything).
		Return(pgtune.RevertReport{}, temporal.NewNonRetryableApplicationError("permission denied to set parameter", activities.ErrTypePermission, nil)).Once()

	_, err := runTuneWorkflow(t, env, in)
	require.ErrorContains(t, err, "apply")
	require.ErrorContains(t, err, "not permitted to change server settings")
	require.ErrorContains(t, err, "revert run default-test-run-id")
	require.ErrorContains(t, err, "permission denied to set parameter")
	env.AssertExpectations(t)
}

func TestTuneWorkflowNothingToChangeOrBlocked(t *testing.T) {
	t.Parallel()
	unchanged := tunePlan
	unchanged.Items = []pgtune.Item{{Setting: pgtune.Setting{Name: "work_mem", Value: "4MB"}, Action: pgtune.ActionKeep}}
	unchanged.Changes, unchanged.RestartChanges, unchanged.Statements = 0, 0, nil
	env := newTuneEnv(t)
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(unchanged, nil).Once()
	res, err := runTuneWorkflow(t, env, workflows.TuneInput{Apply: true})
	require.NoError(t, err)
	require.Equal(t, "nothing to change: all 1 settings already match (within 5%)", res.Summary)
	env.AssertActivityNotCalled(t, "ApplyTuning", mock.Anything, mock.Anything)
	require.Empty(t, res.PendingRestart)

	// Configured by an earlier run but not live yet: nothing to change,
	// and the result says what waits for a restart.
	pending := unchanged
	pending.Items = []pgtune.Item{
		{Setting: pgtune.Setting{Name: "work_mem", Value: "4MB"}, Action: pgtune.ActionKeep},
		{Setting: pgtune.Setting{Name: "shared_buffers", Value: "512MB", Context: pgtune.ContextRestart}, Current: "128MB", Pending: "512MB", Action: pgtune.ActionKeep},
	}
	env = newTuneEnv(t)
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(pending, nil).Once()
	res, err = runTuneWorkflow(t, env, workflows.TuneInput{Apply: true, RestartPolicy: workflows.RestartCommand})
	require.NoError(t, err)
	require.Equal(t, []string{"shared_buffers"}, res.PendingRestart)
	require.Equal(t, "nothing to change: all 2 settings are configured already; 1 not live until PostgreSQL restarts: shared_buffers", res.Summary)
	env.AssertActivityNotCalled(t, "ApplyTuning", mock.Anything, mock.Anything)
	env.AssertActivityNotCalled(t, "RestartPostgres", mock.Anything, mock.Anything)

	blocked := tunePlan
	blocked.Blocked = "allow_alter_system is off on this server: ALTER SYSTEM is disabled, so nothing is changed"
	env = newTuneEnv(t)
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(blocked, nil).Once()
	_, err = runTuneWorkflow(t, env, workflows.TuneInput{Apply: true})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, activities.ErrTypeAlterSystemDisabled, appErr.Type())
	env.AssertActivityNotCalled(t, "ApplyTuning", mock.Anything, mock.Anything)
	env.AssertActivityNotCalled(t, "RevertTuning", mock.Anything, mock.Anything)
}

// TestTuneInputJSON: the request's fields sit at the top level of the
// workflow input, as `temporal workflow start --input` writes them.
func TestTuneInputJSON(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	want := pgtune.Request{Workload: "oltp", Memory: "32GB", CPUs: 8, Overrides: []pgtune.Override{{Name: "work_mem", Value: "64MB"}}}
	env.OnActivity(tuning.PlanTuning, mock.Anything, want).Return(tunePlan, nil).Once()
	env.RegisterWorkflow(workflows.TuneWorkflow)
	env.ExecuteWorkflow("TuneWorkflow", map[string]any{
		"workload": "oltp", "memory": "32GB", "cpus": 8, "overrides": []map[string]string{{"name": "work_mem", "value": "64MB"}},
	})
	require.NoError(t, env.GetWorkflowError())
	env.AssertExpectations(t)
}

// TestTuneWorkflowCancelledWhileWaitingForTheSignalReverts: cancelling the
// workflow while it waits for the operator ends it as cancelled, not as a
// missed signal, and the compensation still reverts the run.
func TestTuneWorkflowCancelledWhileWaitingForTheSignalReverts(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	in := workflows.TuneInput{Apply: true, RestartPolicy: workflows.RestartSignal, RestartTimeout: "1h"}
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.RevertTuning, mock.Anything, activities.RevertTuningInput{RunID: "default-test-run-id", MissingOK: true}).Return(tuneReverted, nil).Once()
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Minute)

	_, err := runTuneWorkflow(t, env, in)
	require.ErrorContains(t, err, "cancelled while waiting for the postgres-restarted signal")
	require.NotContains(t, err.Error(), "no postgres-restarted signal within")
	env.AssertExpectations(t)
	env.AssertActivityNotCalled(t, "ConfirmRestart", mock.Anything, mock.Anything)
}

// TestTuneWorkflowRidesOutADatabaseOutage: the tune stage retries through
// an outage of several minutes (OutageBudget), not 15 seconds, and a
// longer one fails with its cause printed once.
func TestTuneWorkflowRidesOutADatabaseOutage(t *testing.T) {
	t.Parallel()
	refused := "connect for tuning to postgres@db:5432/postgres: dial tcp db:5432: connect: connection refused"
	unavailable := temporal.NewApplicationError(refused, activities.ErrTypePostgresUnavailable)

	t.Run("four minutes", func(t *testing.T) {
		t.Parallel()
		env := newTuneEnv(t)
		var attempts int
		var first, last time.Time
		env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(func(context.Context, pgtune.Request) (pgtune.Plan, error) {
			attempts++
			if attempts == 1 {
				first = env.Now()
			}
			last = env.Now()
			if last.Sub(first) < 4*time.Minute {
				return pgtune.Plan{}, unavailable
			}
			return tunePlan, nil
		})
		res, err := runTuneWorkflow(t, env, workflows.TuneInput{})
		require.NoError(t, err)
		require.True(t, res.DryRun)
		require.Greater(t, attempts, 5, "more than the 5 attempts over 15 s there used to be")
	})

	t.Run("longer than the budget", func(t *testing.T) {
		t.Parallel()
		env := newTuneEnv(t)
		env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(pgtune.Plan{}, unavailable)
		start := env.Now()
		_, err := runTuneWorkflow(t, env, workflows.TuneInput{})
		require.Error(t, err)
		require.GreaterOrEqual(t, env.Now().Sub(start), workflows.OutageBudget, "retried for the whole budget")
		require.Equal(t, 1, strings.Count(err.Error(), "connection refused"), "the cause reads once: %v", err)
		require.Contains(t, err.Error(), "): plan (type: PostgresUnavailable, retryable: true): activity error (type: PlanTuning")
	})
}
