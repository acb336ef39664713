package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/workflows"
)

// runCommand starts PipelineWorkflow and optionally waits for its result.
func runCommand() command {
	return command{name: "run", summary: "start the pipeline (--wait: follow it and print the result)", run: runPipeline}
}

func runPipeline(ctx context.Context, a *app, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	wait := fs.Bool("wait", false, "wait for the pipeline, print progress and a summary of each stage")
	asJSON := fs.Bool("json", false, "with --wait: print the whole result as JSON instead of the summary")
	stages := fs.String("stages", "", "comma-separated stages to run (default: all)")
	input := fs.String("input", "", `full PipelineInput as JSON, e.g. '{"stages":["analyze"]}'`)
	id := fs.String("id", "", "workflow ID (default: "+config.PipelineIDPrefix+"<UTC time>-<random>); one already running fails the start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var in workflows.PipelineInput
	if *input != "" {
		dec := json.NewDecoder(strings.NewReader(*input))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("--input: %w", err)
		}
	}
	if *stages != "" {
		in.Stages = config.SplitList(*stages)
	}
	if err := in.Validate(); err != nil {
		return err
	}
	wfID := *id
	if wfID == "" {
		wfID = newWorkflowID(config.PipelineIDPrefix)
	}
	run, err := a.start(ctx, a.statusWriter(*asJSON), wfID, "congressflow pipeline: "+strings.Join(orAll(in.Stages), ", "), workflows.PipelineWorkflow, in)
	if err != nil {
		return err
	}
	c, err := a.dial(ctx)
	if err != nil {
		return err
	}
	if !*wait {
		return nil
	}
	if *asJSON {
		var res workflows.PipelineResult
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("pipeline %s: %w", run.GetID(), err)
		}
		return writeJSON(a.stdout, res)
	}
	// One line per stage, and per endpoint while the ingest runs: in
	// place on a terminal, every few seconds otherwise.
	if _, err := follow(ctx, c, newProgressView(a.stdout), run.GetID(), time.Second); err != nil {
		return err
	}
	return printResult(ctx, a.stdout, c, run.GetID(), "PipelineWorkflow")
}

func orAll(stages []string) []string {
	if len(stages) == 0 {
		return []string{"all stages"}
	}
	return stages
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printPipelineSummary prints one paragraph per stage that ran; --json
// prints everything.
func printPipelineSummary(w io.Writer, res workflows.PipelineResult) {
	fmt.Fprintf(w, "pipeline completed: %s\n", strings.Join(res.Stages, " → "))
	if r := res.Analysis; r != nil {
		fmt.Fprintf(w, "  analyze:    %s\n", r.Profile.Summary())
		fmt.Fprintf(w, "              stored as ops.system_analyses id %d\n", r.AnalysisID)
	}
	if r := res.Tune; r != nil {
		fmt.Fprintf(w, "  tune:       %s\n", r.Summary)
		if len(r.PendingRestart) > 0 {
			fmt.Fprintf(w, "              waiting for a restart: %s\n", strings.Join(r.PendingRestart, ", "))
		}
		if r.DryRun && r.Plan.Changes > 0 {
			fmt.Fprintln(w, "              apply with: starter tune --apply (or PipelineWorkflow input {\"tune\":{\"apply\":true}})")
		}
	}
	if r := res.Extensions; r != nil {
		printExtensionsSummary(w, *r)
	}
	if r := res.Ingest; r != nil {
		printIngestSummary(w, *r)
	}
	if r := res.Report; r != nil {
		fmt.Fprintf(w, "  report:     %s\n", r.Summary)
		fmt.Fprintf(w, "              stored as ops.reports id %d; starter report prints a fresh one in full\n", r.ID)
	}
	fmt.Fprintln(w, "  (starter run --wait --json prints the whole result)")
}

// printExtensionsSummary names every extension with its outcome: those
// that worked by outcome, the others one a line with the detail, and what
// to run next when some wait for shared_preload_libraries.
func printExtensionsSummary(w io.Writer, r activities.InstallExtensionsResult) {
	c := r.Counts
	fmt.Fprintf(w, "  extensions: %d installed, %d already present, %d need preload, %d not available, %d not permitted, %d failed",
		c.Installed, c.AlreadyPresent, c.NeedsPreload, c.NotAvailable, c.NotPermitted, c.Failed)
	if c.Installable > 0 {
		fmt.Fprintf(w, ", %d installable", c.Installable)
	}
	fmt.Fprintf(w, " (database %s)\n", r.Database)
	for _, outcome := range []pgext.Outcome{pgext.OutcomeInstalled, pgext.OutcomeAlreadyPresent, pgext.OutcomeInstallable} {
		var names []string
		for _, o := range r.Outcomes {
			if o.Outcome == outcome {
				names = append(names, o.Name)
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(w, "              %-20s %s\n", outcome+":", strings.Join(names, ", "))
		}
	}
	for _, o := range r.Outcomes {
		switch o.Outcome {
		case pgext.OutcomeInstalled, pgext.OutcomeAlreadyPresent, pgext.OutcomeInstallable:
			continue
		}
		fmt.Fprintf(w, "              %-20s %-16s %s\n", o.Name, o.Outcome, o.Detail)
	}
	if hint := preloadHint(r, "the pipeline"); hint != "" {
		fmt.Fprintf(w, "              next: %s\n", hint)
	}
}

// preloadHint says what to run so that the extensions waiting for
// shared_preload_libraries get created, or "" when none waits. again
// names what to run once PostgreSQL has restarted.
func preloadHint(r activities.InstallExtensionsResult, again string) string {
	if len(r.PreloadNeeded) == 0 {
		return ""
	}
	libs := strings.Join(r.PreloadNeeded, ", ")
	if r.PreloadPendingRestart {
		return fmt.Sprintf("a shared_preload_libraries change waits for a restart: restart PostgreSQL, then run %s again to create what needs %s", again, libs)
	}
	return fmt.Sprintf(`starter run --input '{"tune":{"apply":true,"restart_policy":"command"}}' adds %s to shared_preload_libraries, `+
		"restarts PostgreSQL with the worker's PG_RESTART_COMMAND and creates the extensions (restart_policy signal: restart it yourself and signal)", libs)
}
