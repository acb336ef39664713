package workflows_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
	"github.com/opendiscourse/congressflow/workflows"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.System{})
	return env
}

func TestPipelineZeroInputRunsAnalyze(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var sys *activities.System
	want := activities.AnalyzeResult{AnalysisID: 7, Profile: sysprobe.Profile{Hostname: "db1"}}
	env.OnActivity(sys.AnalyzeSystem, mock.Anything).Return(want, nil).Once()

	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got workflows.PipelineResult
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, []string{workflows.StageAnalyze}, got.Stages)
	require.Equal(t, want, *got.Analysis)

	v, err := env.QueryWorkflow(config.QueryProgress)
	require.NoError(t, err)
	var p workflows.PipelineProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, []string{workflows.StageAnalyze}, p.Done)
	require.Empty(t, p.Pending)
	env.AssertExpectations(t)
}

func TestPipelineRejectsUnknownStageWithoutRunningAnything(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{Stages: []string{"analyse"}})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.ErrorContains(t, err, `stages: unknown stage "analyse"`)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.True(t, appErr.NonRetryable())
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
}

func TestPipelineStageFailureNamesTheStage(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var sys *activities.System
	env.OnActivity(sys.AnalyzeSystem, mock.Anything).
		Return(activities.AnalyzeResult{}, temporal.NewNonRetryableApplicationError("permission denied for schema ops", activities.ErrTypePermission, nil))
	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{Stages: []string{"analyze"}})
	require.ErrorContains(t, env.GetWorkflowError(), "stage analyze")
}
