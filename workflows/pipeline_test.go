package workflows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
	"github.com/opendiscourse/congressflow/workflows"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.System{})
	env.RegisterActivity(&activities.Extensions{})
	return env
}

func TestPipelineZeroInputRunsEveryStageInOrder(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var (
		sys   *activities.System
		ext   *activities.Extensions
		order []string
	)
	want := activities.AnalyzeResult{AnalysisID: 7, Profile: sysprobe.Profile{Hostname: "db1"}}
	env.OnActivity(sys.AnalyzeSystem, mock.Anything).Return(func(context.Context) (activities.AnalyzeResult, error) {
		order = append(order, "analyze")
		return want, nil
	}).Once()
	wantExt := activities.InstallExtensionsResult{Database: "congressflow", Outcomes: []pgext.Result{{Name: "citext", Outcome: pgext.OutcomeInstalled}}}
	env.OnActivity(ext.InstallExtensions, mock.Anything, activities.InstallExtensionsInput{}).
		Return(func(context.Context, activities.InstallExtensionsInput) (activities.InstallExtensionsResult, error) {
			order = append(order, "extensions")
			return wantExt, nil
		}).Once()

	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got workflows.PipelineResult
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, []string{workflows.StageAnalyze, workflows.StageExtensions}, got.Stages)
	require.Equal(t, []string{"analyze", "extensions"}, order)
	require.Equal(t, want, *got.Analysis)
	require.Equal(t, wantExt, *got.Extensions)

	v, err := env.QueryWorkflow(config.QueryProgress)
	require.NoError(t, err)
	var p workflows.PipelineProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, []string{workflows.StageAnalyze, workflows.StageExtensions}, p.Done)
	require.Empty(t, p.Pending)
	env.AssertExpectations(t)
}

func TestPipelineRunsOnlyTheNamedStagesInPipelineOrder(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var ext *activities.Extensions
	in := activities.InstallExtensionsInput{Names: []string{"citext"}}
	env.OnActivity(ext.InstallExtensions, mock.Anything, in).Return(activities.InstallExtensionsResult{}, nil).Once()
	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{Stages: []string{"extensions"}, Extensions: in})
	require.NoError(t, env.GetWorkflowError())
	var got workflows.PipelineResult
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, []string{workflows.StageExtensions}, got.Stages)
	require.Nil(t, got.Analysis)
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
