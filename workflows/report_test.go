package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/workflows"
)

func newReportEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Reporter{})
	return env
}

func TestReportWorkflowPassesItsInputAndReturnsTheReport(t *testing.T) {
	t.Parallel()
	env := newReportEnv(t)
	var rep *activities.Reporter
	want := report.Report{Summary: "PostgreSQL 15.18: database congressflow 1.0 GiB", ID: 3}
	env.OnActivity(rep.Report, mock.Anything, activities.ReportInput{Since: 36 * time.Hour, Top: 20, LongRunning: 30 * time.Second}).
		Return(want, nil).Once()
	env.ExecuteWorkflow(workflows.ReportWorkflow, workflows.ReportInput{Since: "36h", Top: 20, LongRunning: "30s"})
	require.NoError(t, env.GetWorkflowError())
	var got report.Report
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, want, got)
	env.AssertExpectations(t)
}

func TestReportWorkflowZeroInput(t *testing.T) {
	t.Parallel()
	env := newReportEnv(t)
	var rep *activities.Reporter
	env.OnActivity(rep.Report, mock.Anything, activities.ReportInput{}).Return(report.Report{Summary: "s"}, nil).Once()
	env.ExecuteWorkflow(workflows.ReportWorkflow, workflows.ReportInput{})
	require.NoError(t, env.GetWorkflowError())
	env.AssertExpectations(t)
}

func TestReportWorkflowFailureNamesTheStep(t *testing.T) {
	t.Parallel()
	env := newReportEnv(t)
	var rep *activities.Reporter
	env.OnActivity(rep.Report, mock.Anything, mock.Anything).
		Return(report.Report{}, temporal.NewNonRetryableApplicationError("permission denied for table ops.reports", activities.ErrTypePermission, nil))
	env.ExecuteWorkflow(workflows.ReportWorkflow, workflows.ReportInput{})
	err := env.GetWorkflowError()
	require.ErrorContains(t, err, "report")
	require.ErrorContains(t, err, "permission denied for table ops.reports")
}

func TestReportInputValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      workflows.ReportInput
		wantErr string
	}{
		{name: "zero"},
		{name: "all set", in: workflows.ReportInput{Since: "2w", Top: 100, LongRunning: "5m"}},
		{name: "top", in: workflows.ReportInput{Top: 101}, wantErr: "top: 101 is out of range 1..100 (0 for 10)"},
		{name: "long running", in: workflows.ReportInput{LongRunning: "-1s"}, wantErr: `long_running: "-1s" is not a duration such as 30s or 5m`},
		{name: "since", in: workflows.ReportInput{Since: "yesterday"}, wantErr: `since: "yesterday" is not a period`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
