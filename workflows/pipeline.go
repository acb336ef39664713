package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/strictjson"
)

// Stage names, in the order the pipeline runs them.
const (
	StageAnalyze    = "analyze"
	StageTune       = "tune"
	StageExtensions = "extensions"
	StageIngest     = "ingest"
	StageReport     = "report"
)

// pipelineStages is every stage in run order; a zero-value input runs them
// all. Tune comes before extensions so that, after a restart (policy signal
// or command), the extensions stage can create the extensions whose
// libraries the tune stage added to shared_preload_libraries.
var pipelineStages = []string{StageAnalyze, StageTune, StageExtensions, StageIngest, StageReport}

// PipelineInput is the input of [PipelineWorkflow]. The zero value is valid
// and runs every stage with its defaults.
type PipelineInput struct {
	// Stages to run. They always run in pipeline order, whatever order they
	// are listed in. Empty means all: analyze, tune, extensions, ingest,
	// report.
	Stages []string `json:"stages,omitempty"`
	// Tune is the input of the tune stage's TuneWorkflow. The zero value is
	// a dry run. When it names no extensions and the extensions stage runs,
	// the stage's selection is used, so the plan preloads what those
	// extensions need.
	Tune TuneInput `json:"tune"`
	// Extensions selects what the extensions stage installs. The zero value
	// installs the recommended profile into the ingest database.
	Extensions activities.InstallExtensionsInput `json:"extensions"`
	// Ingest is the input of the ingest stage's IngestWorkflow. The zero
	// value walks every default endpoint in full.
	Ingest IngestInput `json:"ingest"`
	// Report is the input of the report stage. The zero value reports
	// without a trend.
	Report ReportInput `json:"report"`
	// problems is what decoding found wrong (see input.go).
	problems strictjson.Problems
}

// PipelineResult is the result of [PipelineWorkflow]; a stage that did not
// run leaves its field nil.
type PipelineResult struct {
	// Summary says what each stage did, in one line.
	Summary string `json:"summary"`
	// Stages lists the stages that ran, in order.
	Stages []string `json:"stages"`
	// Analysis is the analyze stage's result.
	Analysis *activities.AnalyzeResult `json:"analysis,omitempty"`
	// Tune is the tune stage's result: the plan and, when applied, what
	// changed, what waits for a restart and what was verified.
	Tune *TuneResult `json:"tune,omitempty"`
	// Extensions is the extensions stage's result: one outcome per
	// extension.
	Extensions *activities.InstallExtensionsResult `json:"extensions,omitempty"`
	// Ingest is the ingest stage's result: per endpoint what was walked,
	// stored and spent, and the rows per table.
	Ingest *IngestResult `json:"ingest,omitempty"`
	// Report is the report stage's result: the server, the database and
	// the last walks after the run (stored in ops.reports).
	Report *report.Report `json:"report,omitempty"`
}

// PipelineProgress answers the "progress" query.
type PipelineProgress struct {
	// Current is the stage running now, empty when none is.
	Current string `json:"current,omitempty"`
	// Done lists the stages that finished.
	Done []string `json:"done"`
	// Pending lists the stages still to run.
	Pending []string `json:"pending"`
}

// Validate checks the input and returns an error naming each bad field.
// Unknown fields and values of the wrong kind are reported alone: the
// rest of a misspelt input is not worth checking.
func (in PipelineInput) Validate() error {
	if err := in.problems.Err(); err != nil {
		return err
	}
	var errs []error
	for _, s := range in.Stages {
		if !slices.Contains(pipelineStages, s) {
			errs = append(errs, fmt.Errorf("stages: unknown stage %q (known stages: %s)", s, strings.Join(pipelineStages, ", ")))
		}
	}
	if slices.Contains(in.stages(), StageTune) {
		if err := in.tuneInput().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("tune: %w", err))
		}
	}
	if slices.Contains(in.stages(), StageIngest) {
		if err := in.Ingest.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ingest: %w", err))
		}
	}
	if slices.Contains(in.stages(), StageReport) {
		if err := in.Report.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("report: %w", err))
		}
	}
	if slices.Contains(in.stages(), StageExtensions) {
		// The catalog is pure data: checking names here fails the run
		// before any stage has changed anything.
		if _, err := pgext.Default().Resolve(in.Extensions.Profile, in.Extensions.Names, 0); err != nil {
			errs = append(errs, fmt.Errorf("extensions.%w", err))
		}
	}
	return joinInputErrors(errs...)
}

// tuneInput is the tune stage's input, with the extensions stage's
// selection filled in when the tune input names none.
func (in PipelineInput) tuneInput() TuneInput {
	t := in.Tune
	if t.ExtensionProfile == "" && len(t.ExtensionNames) == 0 && slices.Contains(in.stages(), StageExtensions) {
		t.ExtensionProfile = in.Extensions.Profile
		t.ExtensionNames = slices.Clone(in.Extensions.Names)
		if t.ExtensionProfile == "" && len(t.ExtensionNames) == 0 {
			t.ExtensionProfile = pgext.ProfileRecommended
		}
	}
	return t
}

// stages returns the stages to run, in pipeline order.
func (in PipelineInput) stages() []string {
	if len(in.Stages) == 0 {
		return slices.Clone(pipelineStages)
	}
	var out []string
	for _, s := range pipelineStages {
		if slices.Contains(in.Stages, s) {
			out = append(out, s)
		}
	}
	return out
}

// PipelineWorkflow runs the pipeline's stages in order: analyze the host,
// tune PostgreSQL (a child [TuneWorkflow]; a dry run unless the input says
// apply), then install PostgreSQL extensions.
func PipelineWorkflow(ctx workflow.Context, in PipelineInput) (PipelineResult, error) {
	// Every stage rides out a database outage of OutageBudget.
	ctx = workflow.WithActivityOptions(ctx, budgeted(2*time.Minute,
		[]string{activities.ErrTypeInvalidInput, activities.ErrTypePermission, activities.ErrTypeDatabaseNotFound}))
	if err := in.Validate(); err != nil {
		return PipelineResult{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	logger := workflow.GetLogger(ctx)
	stages := in.stages()
	// Runs recorded before the ingest stage existed ran three stages by
	// default; they replay as they ran.
	if v := workflow.GetVersion(ctx, "pipeline-ingest-stage", workflow.DefaultVersion, 1); v == workflow.DefaultVersion {
		stages = slices.DeleteFunc(stages, func(s string) bool { return s == StageIngest })
	}
	// Runs recorded before the report stage existed did not report.
	if v := workflow.GetVersion(ctx, "pipeline-report-stage", workflow.DefaultVersion, 1); v == workflow.DefaultVersion {
		stages = slices.DeleteFunc(stages, func(s string) bool { return s == StageReport })
	}
	progress := PipelineProgress{Pending: stages, Done: []string{}}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (PipelineProgress, error) {
		return progress, nil
	}); err != nil {
		return PipelineResult{}, err
	}

	result := PipelineResult{Stages: []string{}}
	var (
		sys *activities.System
		ext *activities.Extensions
	)
	for len(progress.Pending) > 0 {
		stage := progress.Pending[0]
		progress.Current, progress.Pending = stage, progress.Pending[1:]
		workflow.SetCurrentDetails(ctx, progress.markdown())
		logger.Info("pipeline: stage started", "stage", stage)
		var err error
		switch stage {
		case StageAnalyze:
			var r activities.AnalyzeResult
			err = workflow.ExecuteActivity(ctx, sys.AnalyzeSystem).Get(ctx, &r)
			result.Analysis = &r
		case StageTune:
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:    config.TuneIDPrefix + workflow.GetInfo(ctx).WorkflowExecution.ID,
				StaticSummary: "tune PostgreSQL (pipeline stage)",
			})
			var r TuneResult
			err = workflow.ExecuteChildWorkflow(cctx, TuneWorkflow, in.tuneInput()).Get(ctx, &r)
			result.Tune = &r
		case StageExtensions:
			// CREATE EXTENSION of a large one (postgis) takes a while; the
			// activity heartbeats after each extension.
			opts := budgeted(15*time.Minute, workflow.GetActivityOptions(ctx).RetryPolicy.NonRetryableErrorTypes)
			opts.HeartbeatTimeout = 2 * time.Minute
			actx := workflow.WithActivityOptions(ctx, opts)
			var r activities.InstallExtensionsResult
			err = workflow.ExecuteActivity(actx, ext.InstallExtensions, in.Extensions).Get(ctx, &r)
			result.Extensions = &r
		case StageIngest:
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:    config.IngestIDPrefix + workflow.GetInfo(ctx).WorkflowExecution.ID,
				StaticSummary: "ingest Congress.gov (pipeline stage)",
			})
			var r IngestResult
			err = workflow.ExecuteChildWorkflow(cctx, IngestWorkflow, in.Ingest).Get(ctx, &r)
			result.Ingest = &r
		case StageReport:
			var rep *activities.Reporter
			var r report.Report
			err = workflow.ExecuteActivity(reportOptions(ctx), rep.Report, in.Report.activityInput()).Get(ctx, &r)
			result.Report = &r
		}
		if err != nil {
			return result, stepError("stage "+stage, err)
		}
		result.Stages = append(result.Stages, stage)
		progress.Done = append(progress.Done, stage)
		progress.Current = ""
		workflow.SetCurrentDetails(ctx, progress.markdown())
		logger.Info("pipeline: stage finished", "stage", stage)
	}
	result.Summary = result.summary()
	return result, nil
}

// summary is the one line that heads the result.
func (r PipelineResult) summary() string {
	parts := []string{"stages " + strings.Join(r.Stages, " → ")}
	if r.Analysis != nil {
		e := r.Analysis.Profile.Effective
		parts = append(parts, fmt.Sprintf("analyze: %g CPUs, %.1f GiB", e.CPUs, float64(e.MemoryBytes)/(1<<30)))
	}
	if r.Tune != nil {
		parts = append(parts, "tune: "+r.Tune.Summary)
	}
	if r.Extensions != nil {
		c := r.Extensions.Counts
		parts = append(parts, fmt.Sprintf("extensions: %d installed, %d already present, %d need preload, %d not available",
			c.Installed, c.AlreadyPresent, c.NeedsPreload, c.NotAvailable))
	}
	if r.Ingest != nil {
		parts = append(parts, "ingest: "+r.Ingest.Summary)
	}
	return strings.Join(parts, "; ")
}

// markdown is the progress as the Web UI shows it in the workflow's
// current details: one line per stage, ✓ done, ▶ running, · to come.
func (p PipelineProgress) markdown() string {
	var b strings.Builder
	for _, s := range p.Done {
		b.WriteString("✓ " + s + "\n\n")
	}
	if p.Current != "" {
		b.WriteString("▶ **" + p.Current + "** (running: its child workflow or activity has the details)\n\n")
	}
	for _, s := range p.Pending {
		b.WriteString("· " + s + "\n\n")
	}
	return b.String()
}

// Registry is where workflows are registered: a worker or a replayer.
type Registry interface {
	RegisterWorkflow(w any)
}

// Register registers every congressflow workflow on r.
func Register(r Registry) {
	r.RegisterWorkflow(PipelineWorkflow)
	r.RegisterWorkflow(TuneWorkflow)
	r.RegisterWorkflow(TuneApplyWorkflow)
	r.RegisterWorkflow(RevertTuningWorkflow)
	r.RegisterWorkflow(IngestWorkflow)
	r.RegisterWorkflow(IngestEndpointWorkflow)
	r.RegisterWorkflow(TuneRevertWorkflow)
	r.RegisterWorkflow(ReportWorkflow)
}
