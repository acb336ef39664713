package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
	"github.com/opendiscourse/congressflow/workflows"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.System{})
	env.RegisterActivity(&activities.Extensions{})
	env.RegisterActivity(&activities.Tuning{})
	env.RegisterActivity(&activities.Reporter{})
	env.RegisterWorkflow(workflows.TuneWorkflow)
	env.RegisterWorkflow(workflows.IngestWorkflow)
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
	wantTune := workflows.TuneResult{DryRun: true, Summary: "dry run: 3 settings would change"}
	env.OnWorkflow(workflows.TuneWorkflow, mock.Anything, mock.Anything).
		Return(func(_ workflow.Context, in workflows.TuneInput) (workflows.TuneResult, error) {
			order = append(order, "tune")
			// The tune stage plans the preload libraries of the extensions
			// the extensions stage will install.
			require.Equal(t, "recommended", in.ExtensionProfile)
			require.False(t, in.Apply, "the default is a dry run")
			return wantTune, nil
		}).Once()
	wantExt := activities.InstallExtensionsResult{Database: "congressflow", Outcomes: []pgext.Result{{Name: "citext", Outcome: pgext.OutcomeInstalled}}}
	env.OnActivity(ext.InstallExtensions, mock.Anything, activities.InstallExtensionsInput{}).
		Return(func(context.Context, activities.InstallExtensionsInput) (activities.InstallExtensionsResult, error) {
			order = append(order, "extensions")
			return wantExt, nil
		}).Once()

	wantIngest := workflows.IngestResult{Summary: "ingested 12 endpoints"}
	env.OnWorkflow(workflows.IngestWorkflow, mock.Anything, workflows.IngestInput{}).
		Return(func(workflow.Context, workflows.IngestInput) (workflows.IngestResult, error) {
			order = append(order, "ingest")
			return wantIngest, nil
		}).Once()

	var rep *activities.Reporter
	wantReport := report.Report{Summary: "PostgreSQL 15.18: database congressflow 1.0 GiB"}
	env.OnActivity(rep.Report, mock.Anything, activities.ReportInput{}).
		Return(func(context.Context, activities.ReportInput) (report.Report, error) {
			order = append(order, "report")
			return wantReport, nil
		}).Once()

	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got workflows.PipelineResult
	require.NoError(t, env.GetWorkflowResult(&got))
	all := []string{workflows.StageAnalyze, workflows.StageTune, workflows.StageExtensions, workflows.StageIngest, workflows.StageReport}
	require.Equal(t, all, got.Stages)
	require.Equal(t, []string{"analyze", "tune", "extensions", "ingest", "report"}, order)
	require.Equal(t, wantReport, *got.Report)
	require.Equal(t, wantIngest.Summary, got.Ingest.Summary)
	require.Equal(t, want, *got.Analysis)
	require.Equal(t, wantTune, *got.Tune)
	require.Equal(t, wantExt, *got.Extensions)

	v, err := env.QueryWorkflow(config.QueryProgress)
	require.NoError(t, err)
	var p workflows.PipelineProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, all, p.Done)
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

func TestPipelineRejectsBadTuneInputBeforeAnyStage(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var in workflows.PipelineInput
	require.NoError(t, json.Unmarshal([]byte(`{"tune":{"workload":"batch","memory":"-2GB"}}`), &in))
	env.ExecuteWorkflow(workflows.PipelineWorkflow, in)
	err := env.GetWorkflowError()
	require.ErrorContains(t, err, "tune: ")
	require.ErrorContains(t, err, "workload")
	require.ErrorContains(t, err, "memory")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.True(t, appErr.NonRetryable())
	env.AssertExpectations(t)
}

func TestPipelineRejectsUnknownExtensionBeforeAnyStage(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	// No activity is mocked: running analyze would fail the test.
	env.ExecuteWorkflow(workflows.PipelineWorkflow, workflows.PipelineInput{
		Extensions: activities.InstallExtensionsInput{Names: []string{"citext", "pg_nosuch"}},
	})
	err := env.GetWorkflowError()
	require.ErrorContains(t, err, `extensions.names: unknown extension "pg_nosuch"`)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.True(t, appErr.NonRetryable())
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

func TestPipelineReportStageTakesItsInput(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var rep *activities.Reporter
	env.OnActivity(rep.Report, mock.Anything, activities.ReportInput{Since: 7 * 24 * time.Hour, Top: 5}).
		Return(report.Report{Summary: "s"}, nil).Once()
	var in workflows.PipelineInput
	require.NoError(t, json.Unmarshal([]byte(`{"stages":["report"],"report":{"since":"7d","top":5}}`), &in))
	env.ExecuteWorkflow(workflows.PipelineWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	var got workflows.PipelineResult
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, []string{workflows.StageReport}, got.Stages)
	require.Equal(t, "s", got.Report.Summary)
	env.AssertExpectations(t)
}

func TestPipelineRejectsBadReportInput(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var in workflows.PipelineInput
	require.NoError(t, json.Unmarshal([]byte(`{"report":{"since":"a week"}}`), &in))
	env.ExecuteWorkflow(workflows.PipelineWorkflow, in)
	require.ErrorContains(t, env.GetWorkflowError(), `report: since: "a week" is not a period such as 7d, 2w or 36h`)
}
