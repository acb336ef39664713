package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/workflows"
)

// revertActs names the activity methods for the mocks.
var revertActs *activities.Tuning

var (
	revertStartedAt = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	revertServer    = pgtune.ServerIdentity{SystemIdentifier: "7312345678901234567", Port: 5432}
)

func revertReport(pending ...string) pgtune.RevertReport {
	return pgtune.RevertReport{
		RunID: "run-7",
		Reverted: []pgtune.Change{
			{Name: "checkpoint_timeout", Old: "15min", New: "(reset)", Context: pgtune.ContextReload},
			{Name: "shared_buffers", Old: "512MB", New: "(reset)", Context: pgtune.ContextRestart},
		},
		PendingRestart:      pending,
		Message:             "reverted 2 settings of run run-7; 1 settings wait for a restart",
		PostmasterStartTime: revertStartedAt,
	}
}

func runRevert(t *testing.T, mocks func(env *testsuite.TestWorkflowEnvironment), in workflows.RevertInput) (workflows.RevertResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Tuning{})
	env.RegisterWorkflow(workflows.TuneRevertWorkflow)
	env.OnActivity(revertActs.ServerIdentity, mock.Anything).Return(revertServer, nil).Maybe()
	if mocks != nil {
		mocks(env)
	}
	env.ExecuteWorkflow(workflows.RevertTuningWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	env.AssertExpectations(t)
	if err := env.GetWorkflowError(); err != nil {
		if mocks == nil {
			env.AssertActivityNotCalled(t, "RevertTuning", mock.Anything, mock.Anything)
		}
		return workflows.RevertResult{}, err
	}
	var res workflows.RevertResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res, nil
}

func TestRevertTuningWorkflowRejectsBadInputBeforeAnyActivity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      workflows.RevertInput
		wantErr string
	}{
		{name: "no run id", in: workflows.RevertInput{}, wantErr: "run_id: empty; give the run ID of the TuneWorkflow execution to revert"},
		{name: "blank run id", in: workflows.RevertInput{RunID: "  "}, wantErr: "run_id: empty"},
		{name: "signal policy", in: workflows.RevertInput{RunID: "run-7", RestartPolicy: "signal"},
			wantErr: `restart_policy: "signal" is not a policy for a revert; use one of never, command`},
		{name: "bad timeout", in: workflows.RevertInput{RunID: "run-7", RestartTimeout: "-1m"}, wantErr: `restart_timeout: "-1m" is not a positive duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runRevert(t, nil, tt.in)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestRevertTuningWorkflowRestartPolicies(t *testing.T) {
	t.Parallel()
	restarted := activities.RestartResult{Restarted: true, Command: "pg_ctl restart", StartedBefore: revertStartedAt, StartedAfter: revertStartedAt.Add(time.Minute)}
	tests := []struct {
		name        string
		in          workflows.RevertInput
		report      pgtune.RevertReport
		wantRestart *activities.RestartInput
		wantPending []string
		wantSummary string
	}{
		{
			name: "never: the report says what waits", in: workflows.RevertInput{RunID: "run-7"}, report: revertReport("shared_buffers"),
			wantPending: []string{"shared_buffers"},
			wantSummary: "reverted 2 settings of run run-7; 1 settings wait for a restart; shared_buffers go back only at a restart: restart PostgreSQL, or revert with restart_policy command",
		},
		{
			name: "command: restarts when a reverted setting waits", in: workflows.RevertInput{RunID: "run-7", RestartPolicy: workflows.RestartCommand},
			report:      revertReport("shared_buffers"),
			wantRestart: &activities.RestartInput{Before: revertStartedAt, Wait: workflows.DefaultRestartTimeout},
			wantSummary: "reverted 2 settings of run run-7; 1 settings wait for a restart; restarted, so the old values are live",
		},
		{
			name: "command with a timeout", in: workflows.RevertInput{RunID: "run-7", RestartPolicy: workflows.RestartCommand, RestartTimeout: "3m"},
			report:      revertReport("shared_buffers"),
			wantRestart: &activities.RestartInput{Before: revertStartedAt, Wait: 3 * time.Minute},
			wantSummary: "reverted 2 settings of run run-7; 1 settings wait for a restart; restarted, so the old values are live",
		},
		{
			name: "command: no restart when only others' settings wait", in: workflows.RevertInput{RunID: "run-7", RestartPolicy: workflows.RestartCommand},
			report:      revertReport("max_locks_per_transaction"),
			wantPending: []string{"max_locks_per_transaction"},
			wantSummary: "reverted 2 settings of run run-7; 1 settings wait for a restart",
		},
		{
			name: "nothing to revert", in: workflows.RevertInput{RunID: "run-8", RestartPolicy: workflows.RestartCommand},
			report:      pgtune.RevertReport{RunID: "run-8", Reverted: []pgtune.Change{}, Message: "nothing to revert: run run-8 was already reverted"},
			wantSummary: "nothing to revert: run run-8 was already reverted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := runRevert(t, func(env *testsuite.TestWorkflowEnvironment) {
				env.OnActivity(revertActs.RevertTuning, mock.Anything, activities.RevertTuningInput{RunID: tt.in.RunID}).Return(tt.report, nil).Once()
				if tt.wantRestart != nil {
					env.OnActivity(revertActs.RestartPostgres, mock.Anything, *tt.wantRestart).Return(restarted, nil).Once()
				}
			}, tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.report, res.Revert)
			require.Equal(t, tt.wantPending, res.PendingRestart)
			require.Equal(t, tt.wantSummary, res.Summary)
			if tt.wantRestart != nil {
				require.Equal(t, &restarted, res.Restart)
			} else {
				require.Nil(t, res.Restart)
			}
		})
	}
}

func TestRevertTuningWorkflowFailures(t *testing.T) {
	t.Parallel()
	t.Run("revert fails", func(t *testing.T) {
		t.Parallel()
		_, err := runRevert(t, func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(revertActs.RevertTuning, mock.Anything, mock.Anything).
				Return(pgtune.RevertReport{}, temporal.NewNonRetryableApplicationError("ALTER SYSTEM is disabled", activities.ErrTypeAlterSystemDisabled, nil)).Once()
		}, workflows.RevertInput{RunID: "run-7", RestartPolicy: workflows.RestartCommand})
		require.ErrorContains(t, err, "revert run run-7")
		require.ErrorContains(t, err, "ALTER SYSTEM is disabled")
	})
	t.Run("unknown run", func(t *testing.T) {
		t.Parallel()
		msg := "run run-0: no such tune run: no change of that run is recorded in ops.tuning_changes on this server"
		_, err := runRevert(t, func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(revertActs.RevertTuning, mock.Anything, mock.Anything).
				Return(pgtune.RevertReport{}, temporal.NewNonRetryableApplicationError(msg, activities.ErrTypeNotFound, nil)).Once()
		}, workflows.RevertInput{RunID: "run-0"})
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, activities.ErrTypeNotFound, appErr.Type(), "the workflow's own failure is NotFound")
		require.True(t, appErr.NonRetryable())
		require.Equal(t, msg, appErr.Message())
		require.Equal(t, 1, strings.Count(err.Error(), "no such tune run"), "the cause reads once: %v", err)
	})
	t.Run("restart fails", func(t *testing.T) {
		t.Parallel()
		_, err := runRevert(t, func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(revertActs.RevertTuning, mock.Anything, mock.Anything).Return(revertReport("shared_buffers"), nil).Once()
			env.OnActivity(revertActs.RestartPostgres, mock.Anything, mock.Anything).
				Return(activities.RestartResult{}, temporal.NewNonRetryableApplicationError("no restart command", activities.ErrTypeRestartFailed, nil)).Once()
		}, workflows.RevertInput{RunID: "run-7", RestartPolicy: workflows.RestartCommand})
		require.ErrorContains(t, err, "restart after reverting run run-7 (the old values are configured and wait for a restart)")
		require.ErrorContains(t, err, "no restart command")
	})
}
