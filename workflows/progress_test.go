package workflows_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestPipelineProgressListsAreNeverNull: the progress payload of a
// finished pipeline holds "pending": [], and of one that has not finished
// a stage, "done": [].
func TestPipelineProgressListsAreNeverNull(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var sys *activities.System
	env.OnActivity(sys.AnalyzeSystem, mock.Anything).After(time.Minute).
		Return(func(context.Context) (activities.AnalyzeResult, error) { return activities.AnalyzeResult{}, nil }).Once()
	query := func() string {
		v, err := env.QueryWorkflow(config.QueryProgress)
		require.NoError(t, err)
		var raw json.RawMessage
		require.NoError(t, v.Get(&raw))
		return string(raw)
	}
	var during string
	env.RegisterDelayedCallback(func() { during = query() }, 30*time.Second)
	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{Stages: []string{workflows.StageAnalyze}})
	require.NoError(t, env.GetWorkflowError())
	require.JSONEq(t, `{"current":"analyze","done":[],"pending":[]}`, during)
	require.JSONEq(t, `{"done":["analyze"],"pending":[]}`, query())
}

// TestRevertTuningWorkflowProgress: the progress query names the run and
// the step, while the revert runs, while the server restarts and after.
func TestRevertTuningWorkflowProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        workflows.RevertInput
		report    pgtune.RevertReport
		restart   bool
		wantSteps []string // at 30 s, at 90 s while it runs, at the end
	}{
		{name: "with a restart", in: workflows.RevertInput{RunID: "run-7", RestartPolicy: workflows.RestartCommand},
			report: revertReport("shared_buffers"), restart: true,
			wantSteps: []string{workflows.RevertStepRevert, workflows.RevertStepRestart, workflows.RevertStepDone}},
		{name: "nothing waits for a restart", in: workflows.RevertInput{RunID: "run-7"},
			report:    revertReport(),
			wantSteps: []string{workflows.RevertStepRevert, workflows.RevertStepDone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterActivity(&activities.Tuning{})
			env.RegisterWorkflow(workflows.TuneRevertWorkflow)
			env.OnActivity(revertActs.ServerIdentity, mock.Anything).Return(revertServer, nil).Once()
			env.OnActivity(revertActs.RevertTuning, mock.Anything, mock.Anything).After(time.Minute).Return(tt.report, nil).Once()
			if tt.restart {
				env.OnActivity(revertActs.RestartPostgres, mock.Anything, mock.Anything).After(time.Minute).
					Return(activities.RestartResult{Restarted: true}, nil).Once()
			}
			query := func() workflows.RevertProgress {
				v, err := env.QueryWorkflow(config.QueryProgress)
				require.NoError(t, err)
				var p workflows.RevertProgress
				require.NoError(t, v.Get(&p))
				return p
			}
			var steps []string
			env.RegisterDelayedCallback(func() { steps = append(steps, query().Step) }, 30*time.Second)
			env.RegisterDelayedCallback(func() { steps = append(steps, query().Step) }, 90*time.Second)
			env.ExecuteWorkflow(workflows.RevertTuningWorkflow, tt.in)
			require.NoError(t, env.GetWorkflowError())
			end := query()
			require.Equal(t, tt.in.RunID, end.RunID)
			require.Equal(t, workflows.ServerLockID(revertServer), end.Lock, "the revert names the lock it ran under")
			require.Equal(t, tt.wantSteps, append(steps, end.Step))
			env.AssertExpectations(t)
		})
	}
}
