package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/workflows"
)

// runCommand starts PipelineWorkflow and optionally waits for its result.
func runCommand() command {
	return command{name: "run", summary: "start the pipeline (--wait: follow it and print the result)", run: runPipeline}
}

func runPipeline(ctx context.Context, a *app, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	wait := fs.Bool("wait", false, "wait for the pipeline, print progress and the result")
	stages := fs.String("stages", "", "comma-separated stages to run (default: all)")
	input := fs.String("input", "", `full PipelineInput as JSON, e.g. '{"stages":["analyze"]}'`)
	id := fs.String("id", "", "workflow ID (default: "+config.PipelineIDPrefix+"<UTC timestamp>)")
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
		in.Stages = splitList(*stages)
	}
	if err := in.Validate(); err != nil {
		return err
	}
	c, err := a.dial(ctx)
	if err != nil {
		return err
	}
	wfID := *id
	if wfID == "" {
		wfID = config.PipelineIDPrefix + time.Now().UTC().Format("20060102T150405Z")
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            wfID,
		TaskQueue:     a.taskQueue,
		StaticSummary: "congressflow pipeline: " + strings.Join(orAll(in.Stages), ", "),
	}, workflows.PipelineWorkflow, in)
	if err != nil {
		return fmt.Errorf("start PipelineWorkflow: %w", err)
	}
	fmt.Fprintf(a.stdout, "started PipelineWorkflow\n  workflow id: %s\n  run id:      %s\n  web ui:      %s\n",
		run.GetID(), run.GetRunID(), a.workflowURL(run.GetID(), run.GetRunID()))
	if !*wait {
		return nil
	}
	done := make(chan error, 1)
	var res workflows.PipelineResult
	go func() { done <- run.Get(ctx, &res) }()
	last := ""
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("pipeline %s: %w", run.GetID(), err)
			}
			fmt.Fprintln(a.stdout, "pipeline completed; result:")
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		case <-tick.C:
			var p workflows.PipelineProgress
			v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), config.QueryProgress)
			if err != nil || v.Get(&p) != nil {
				continue
			}
			line := fmt.Sprintf("  progress: running=%s done=[%s] pending=[%s]", orDash(p.Current), strings.Join(p.Done, ","), strings.Join(p.Pending, ","))
			if line != last {
				fmt.Fprintln(a.stdout, line)
				last = line
			}
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting for %s (it keeps running): %w", run.GetID(), ctx.Err())
		}
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
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
