package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/workflows"
)

// reportCommand runs ReportWorkflow and prints the report.
//
//	starter report [--since 7d] [--top 10] [--long-running 1m] [--json] [--id ID]
func reportCommand() command {
	return command{name: "report", summary: "report on PostgreSQL, the congress schema, the last ingest and the worker (--since 7d: the trend; --json)", run: runReport}
}

func runReport(ctx context.Context, a *app, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	var in workflows.ReportInput
	fs.StringVar(&in.Since, "since", "", "add the trend of the reports stored over this period: 7d, 2w, 36h (default: no trend)")
	fs.IntVar(&in.Top, "top", 0, "statements listed from pg_stat_statements, 1..100 (default 10)")
	fs.StringVar(&in.LongRunning, "long-running", "", "list queries running longer than this, such as 30s (default 1m)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of tables")
	id := fs.String("id", "", "workflow ID (default: "+config.ReportIDPrefix+"<UTC time>-<random>); one already running fails the start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("report: unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	if err := in.Validate(); err != nil {
		return fmt.Errorf("report: %s", flagNames(err.Error()))
	}
	wfID := *id
	if wfID == "" {
		wfID = newWorkflowID(config.ReportIDPrefix)
	}
	// The report is the command's output; where it was started goes to
	// stderr.
	run, err := a.start(ctx, a.stderr, wfID, "congressflow report", workflows.ReportWorkflow, in)
	if err != nil {
		return err
	}
	var r report.Report
	if err := run.Get(ctx, &r); err != nil {
		return fmt.Errorf("report %s: %w", run.GetID(), err)
	}
	if *asJSON {
		return writeJSON(a.stdout, r)
	}
	return report.Write(a.stdout, r)
}

// flagNames names the flags in an input error: long_running is
// --long-running here.
func flagNames(msg string) string {
	return strings.NewReplacer("long_running:", "--long-running:", "since:", "--since:", "top:", "--top:").Replace(msg)
}
