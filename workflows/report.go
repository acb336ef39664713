package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/strictjson"
)

// Report input bounds.
const maxReportTop = 100

// ReportInput is the input of [ReportWorkflow] and of the pipeline's
// report stage. The zero value is valid: a report without a trend.
type ReportInput struct {
	// Since adds the trend of the reports stored over this period: days
	// or weeks ("7d", "2w") or a Go duration ("36h"). Empty: no trend.
	Since string `json:"since,omitempty"`
	// Top is the number of statements listed, 1..100. Default 10.
	Top int `json:"top,omitempty"`
	// LongRunning lists queries running longer: a Go duration such as
	// "30s". Default 1m.
	LongRunning string `json:"long_running,omitempty"`
	// problems is what decoding found wrong (see input.go).
	problems strictjson.Problems
}

// Validate checks the input and returns every problem, each naming its
// field.
func (in ReportInput) Validate() error {
	if err := in.problems.Err(); err != nil {
		return err
	}
	var errs []error
	if in.Since != "" {
		if _, err := report.ParseSince(in.Since); err != nil {
			errs = append(errs, fmt.Errorf("since: %w", err))
		}
	}
	if in.Top < 0 || in.Top > maxReportTop {
		errs = append(errs, fmt.Errorf("top: %d is out of range 1..%d (0 for %d)", in.Top, maxReportTop, report.DefaultTop))
	}
	if in.LongRunning != "" {
		if d, err := time.ParseDuration(in.LongRunning); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("long_running: %q is not a duration such as 30s or 5m", in.LongRunning))
		}
	}
	return joinInputErrors(errs...)
}

// activityInput is the Report activity's input; call it on a valid input.
func (in ReportInput) activityInput() activities.ReportInput {
	out := activities.ReportInput{Top: in.Top}
	if in.Since != "" {
		out.Since, _ = report.ParseSince(in.Since)
	}
	if in.LongRunning != "" {
		out.LongRunning, _ = time.ParseDuration(in.LongRunning)
	}
	return out
}

// reportOptions are the Report activity's options: retried through a
// database outage like every stage.
func reportOptions(ctx workflow.Context) workflow.Context {
	opts := budgeted(2*time.Minute, []string{activities.ErrTypeInvalidInput, activities.ErrTypePermission, activities.ErrTypeDatabaseNotFound})
	opts.Summary = "collect the report"
	return workflow.WithActivityOptions(ctx, opts)
}

// ReportWorkflow collects a report on the PostgreSQL server and the last
// ingest runs (see package report), stores it in ops.reports and returns
// it; with Since, it adds the trend of the reports stored over that
// period. The Web UI shows its summary line in the current details.
func ReportWorkflow(ctx workflow.Context, in ReportInput) (report.Report, error) {
	if err := in.Validate(); err != nil {
		return report.Report{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	workflow.SetCurrentDetails(ctx, "▶ collecting the report")
	var r *activities.Reporter
	var rep report.Report
	if err := workflow.ExecuteActivity(reportOptions(ctx), r.Report, in.activityInput()).Get(ctx, &rep); err != nil {
		workflow.SetCurrentDetails(ctx, "✗ report failed: "+oneLine(err))
		return rep, stepError("report", err)
	}
	workflow.SetCurrentDetails(ctx, "✓ "+rep.Summary)
	return rep, nil
}
