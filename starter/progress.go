package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/term"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/workflows"
)

// progressCommand follows a running workflow.
func progressCommand() command {
	return command{name: "progress", summary: "follow a workflow's progress (one line per endpoint during an ingest) until it ends", run: runProgress}
}

func runProgress(ctx context.Context, a *app, args []string) error {
	fs := flag.NewFlagSet("progress", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	every := fs.Duration("every", time.Second, "how often to ask")
	once := fs.Bool("once", false, "print the progress once and return")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("progress: name the workflow ID, e.g. starter progress congressflow-pipeline-…")
	}
	c, err := a.dial(ctx)
	if err != nil {
		return err
	}
	id := fs.Arg(0)
	if *once {
		lines, _, err := progressLines(ctx, c, id, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, strings.Join(lines, "\n"))
		return nil
	}
	typ, err := follow(ctx, c, newProgressView(a.stdout), id, *every)
	if err != nil {
		return err
	}
	return printResult(ctx, a.stdout, c, id, typ)
}

// progressView draws progress lines: redrawn in place on a terminal, one
// plain block every few seconds (when something changed) otherwise.
type progressView struct {
	w        io.Writer
	tty      bool
	drawn    int // lines on screen from the last draw (terminal)
	last     string
	lastAt   time.Time
	interval time.Duration
}

func newProgressView(w io.Writer) *progressView {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressView{w: w, tty: tty, interval: 5 * time.Second}
}

func (v *progressView) draw(lines []string, now time.Time) {
	text := strings.Join(lines, "\n")
	if !v.tty {
		if text == v.last || now.Sub(v.lastAt) < v.interval {
			return
		}
		v.last, v.lastAt = text, now
		stamp := now.UTC().Format("15:04:05")
		for _, l := range lines {
			fmt.Fprintf(v.w, "%s %s\n", stamp, l)
		}
		return
	}
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA", v.drawn) // back to the first line drawn
	}
	for _, l := range lines {
		fmt.Fprintf(v.w, "\x1b[2K%s\n", l)
	}
	for i := len(lines); i < v.drawn; i++ {
		fmt.Fprint(v.w, "\x1b[2K\n")
	}
	v.drawn = max(v.drawn, len(lines))
	v.last = text
}

// follow draws a workflow's progress until it closes and returns its type.
func follow(ctx context.Context, c client.Client, v *progressView, id string, every time.Duration) (string, error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		lines, typ, err := progressLines(ctx, c, id, time.Now())
		if err != nil {
			return "", err
		}
		desc, err := c.DescribeWorkflow(ctx, id, "")
		if err != nil {
			return "", fmt.Errorf("describe %s: %w", id, err)
		}
		if len(lines) > 0 {
			v.draw(lines, time.Now())
		}
		if desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return typ, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return "", fmt.Errorf("stopped following %s (it keeps running): %w", id, ctx.Err())
		}
	}
}

// progressLines asks a workflow (and, for a pipeline, its running stage's
// child) for its progress and renders it.
func progressLines(ctx context.Context, c client.Client, id string, now time.Time) ([]string, string, error) {
	desc, err := c.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return nil, "", fmt.Errorf("describe %s: %w (check the workflow ID with `temporal workflow list`)", id, err)
	}
	typ := desc.WorkflowType.Name
	query := func(wid string, v any) bool {
		r, err := c.QueryWorkflow(ctx, wid, "", config.QueryProgress)
		return err == nil && r.Get(v) == nil
	}
	switch typ {
	case "PipelineWorkflow":
		var p workflows.PipelineProgress
		if !query(id, &p) {
			return nil, typ, nil
		}
		lines := []string{pipelineLine(p)}
		switch p.Current {
		case workflows.StageIngest:
			var ip workflows.IngestProgress
			if query(config.IngestIDPrefix+id, &ip) {
				lines = append(lines, ingestLines(ip, now)...)
			}
		case workflows.StageTune:
			var tp workflows.TuneProgress
			if query(config.TuneIDPrefix+id, &tp) {
				lines = append(lines, tuneLine(tp, config.TuneIDPrefix+id))
			}
		}
		return lines, typ, nil
	case "IngestWorkflow":
		var ip workflows.IngestProgress
		if !query(id, &ip) {
			return nil, typ, nil
		}
		return ingestLines(ip, now), typ, nil
	case "IngestEndpointWorkflow":
		var ep workflows.EndpointProgress
		if !query(id, &ep) {
			return nil, typ, nil
		}
		return []string{endpointLine(ep, now)}, typ, nil
	case "TuneWorkflow":
		var tp workflows.TuneProgress
		if !query(id, &tp) {
			return nil, typ, nil
		}
		return []string{tuneLine(tp, id)}, typ, nil
	case "RevertTuningWorkflow":
		var rp workflows.RevertProgress
		if !query(id, &rp) {
			return nil, typ, nil
		}
		return []string{fmt.Sprintf("revert of run %s: %s", rp.RunID, rp.Step)}, typ, nil
	}
	return []string{typ + " " + desc.Status.String()}, typ, nil
}

func pipelineLine(p workflows.PipelineProgress) string {
	var parts []string
	for _, s := range p.Done {
		parts = append(parts, "✓ "+s)
	}
	if p.Current != "" {
		parts = append(parts, "▶ "+p.Current)
	}
	for _, s := range p.Pending {
		parts = append(parts, "· "+s)
	}
	return "pipeline: " + strings.Join(parts, "  ")
}

func tuneLine(p workflows.TuneProgress, id string) string {
	s := "tune: " + p.Step
	if p.WaitingForSignal {
		s += fmt.Sprintf(" (waiting: restart PostgreSQL, then `temporal workflow signal --workflow-id %s --name %s`)", id, config.SignalPostgresRestarted)
	}
	return s
}

func ingestLines(p workflows.IngestProgress, now time.Time) []string {
	lines := []string{"ingest: " + p.Summary}
	for _, e := range p.Endpoints {
		lines = append(lines, "  "+endpointLine(e, now))
	}
	return lines
}

// barWidth is the width of an endpoint's progress bar.
const barWidth = 24

// endpointLine is one endpoint: a bar, items of the count, rate and ETA
// while it runs; what it did when done.
func endpointLine(e workflows.EndpointProgress, now time.Time) string {
	name := fmt.Sprintf("%-26s", e.Endpoint)
	switch e.Status {
	case workflows.StatusPending:
		return "· " + name + " waiting"
	case workflows.StatusFailed:
		return "✗ " + name + " " + e.Error
	case workflows.StatusDone:
		return fmt.Sprintf("✓ %s %s items (%d inserted, %d updated, %d unchanged), %d requests", name,
			thousands(int64(e.Confirmed)), e.Inserted, e.Updated, e.Unchanged, e.Requests)
	}
	if e.Pages == 0 && e.Count == 0 {
		return "▶ " + name + " starting"
	}
	frac := 0.0
	if e.Count > 0 {
		frac = min(float64(e.Confirmed)/float64(e.Count), 1)
	}
	filled := int(frac * barWidth)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	s := fmt.Sprintf("▶ %s %s %s/%s %3.0f%%", name, bar, thousands(int64(e.Confirmed)), thousands(int64(e.Count)), 100*frac)
	if e.Rate > 0 {
		s += fmt.Sprintf("  %.0f items/s", e.Rate)
	}
	if e.ETASeconds > 0 {
		s += "  ETA " + (time.Duration(e.ETASeconds) * time.Second).String()
	}
	if e.Retries > 0 {
		s += fmt.Sprintf("  %d retries", e.Retries)
	}
	if !e.UpdatedAt.IsZero() && now.Sub(e.UpdatedAt) > time.Minute {
		s += fmt.Sprintf("  (last news %s ago)", now.Sub(e.UpdatedAt).Round(time.Second))
	}
	return s
}

// printResult prints a closed workflow's result as its summary.
func printResult(ctx context.Context, w io.Writer, c client.Client, id, typ string) error {
	run := c.GetWorkflow(ctx, id, "")
	switch typ {
	case "PipelineWorkflow":
		var res workflows.PipelineResult
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("pipeline %s: %w", id, err)
		}
		printPipelineSummary(w, res)
	case "IngestWorkflow":
		var res workflows.IngestResult
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("ingest %s: %w", id, err)
		}
		printIngestSummary(w, res)
	default:
		var res struct {
			Summary string `json:"summary"`
		}
		if err := run.Get(ctx, &res); err != nil {
			return fmt.Errorf("%s %s: %w", typ, id, err)
		}
		fmt.Fprintf(w, "%s completed: %s\n", typ, res.Summary)
	}
	return nil
}

// printIngestSummary prints the ingest stage: a table with a row per
// endpoint, the rows per table, and the requests used against the
// minimum.
func printIngestSummary(w io.Writer, r workflows.IngestResult) {
	fmt.Fprintf(w, "  ingest:     %s\n", r.Summary)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "              endpoint\titems\tinserted\tupdated\tunchanged\trequests\tminimum\tretries\t429s\tgap\ttime\t")
	for _, e := range r.Endpoints {
		took := "-"
		if !e.StartedAt.IsZero() && !e.UpdatedAt.IsZero() {
			took = e.UpdatedAt.Sub(e.StartedAt).Round(100 * time.Millisecond).String()
		}
		name := e.Endpoint
		if e.Status != workflows.StatusDone {
			name += " (" + e.Status + ")"
		}
		fmt.Fprintf(tw, "              %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", name, e.Confirmed, e.Inserted, e.Updated,
			e.Unchanged, e.Requests, e.MinRequests, e.Retries, e.RateLimited, e.Gap, took)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "              rows per table:")
	for _, t := range r.Rows {
		fmt.Fprintf(w, "                %-36s %10d\n", t.Table, t.Rows)
	}
	ratio := 0.0
	if r.MinRequests > 0 {
		ratio = float64(r.Requests) / float64(r.MinRequests)
	}
	fmt.Fprintf(w, "              requests used: %d (minimum %d, ratio %.2f; %d retried, %d rate-limited)\n",
		r.Requests, r.MinRequests, ratio, r.Retries, r.RateLimited)
	for _, e := range r.Endpoints {
		if e.Status == workflows.StatusFailed {
			fmt.Fprintf(w, "              %s failed: %s\n", e.Endpoint, e.Error)
		}
	}
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
