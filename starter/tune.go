package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/workflows"
)

// tuneCommand prints, applies and reverts the PostgreSQL tuning plan.
//
//	starter tune [--apply] [--workload oltp] [--memory 32GB --cpus 8] [--restart never|signal|command] [--set name=value]...
//	starter tune --plan-only --memory 32GB --cpus 8 --pg-version 15 [--workload oltp] [--storage ssd] [--json]
//	starter tune --revert RUN_ID [--restart never|command] [--json]
func tuneCommand() command {
	return command{name: "tune", summary: "plan, apply or revert PostgreSQL tuning (--plan-only: recommendation alone, no servers)", run: runTune}
}

// revertedByReset is what pgtune.Revert reports as the restored value when
// it ran ALTER SYSTEM RESET.
const revertedByReset = "(reset)"

// revertFlags are the flags --revert combines with.
var revertFlags = []string{"revert", "restart", "restart-timeout", "id", "json"}

// tuneOverrides collects repeated --set name=value flags.
type tuneOverrides []pgtune.Override

func (o *tuneOverrides) String() string {
	parts := make([]string, len(*o))
	for i, v := range *o {
		parts[i] = v.Name + "=" + v.Value
	}
	return strings.Join(parts, ",")
}

func (o *tuneOverrides) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("%q: write name=value, such as work_mem=64MB", s)
	}
	*o = append(*o, pgtune.Override{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	return nil
}

func runTune(ctx context.Context, a *app, args []string) error {
	fs := flag.NewFlagSet("tune", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	var in workflows.TuneInput
	var sets tuneOverrides
	input := fs.String("input", "", `full TuneInput as JSON, e.g. '{"workload":"oltp","memory":"32GB"}'; flags override it`)
	fs.BoolVar(&in.Apply, "apply", false, "apply the plan (default: dry run, change nothing)")
	planOnly := fs.Bool("plan-only", false, "print the recommendation alone; needs --memory and --pg-version, and neither a database nor Temporal")
	asJSON := fs.Bool("json", false, "print JSON (with --plan-only: an array of {name, value, unit, context, reason})")
	workload := fs.String("workload", "", "web, oltp, dw, desktop or mixed (default oltp)")
	storage := fs.String("storage", "", "ssd, hdd, san or nvme (default ssd)")
	dbSize := fs.String("db-size", "", "less_ram, mid_ram or greater_ram (default mid_ram)")
	osType := fs.String("os", "", "linux, windows or mac (default linux)")
	memory := fs.String("memory", "", "database host memory, such as 32GB (default: probed when the database is local)")
	cpus := fs.Int("cpus", 0, "database host CPUs (default: probed when the database is local)")
	force := fs.Bool("force", false, "plan for --memory/--cpus beyond what the probe finds on a local database host")
	maxConns := fs.Int("max-connections", 0, "max_connections to plan for (default: the workload's)")
	pgVersion := fs.Int("pg-version", 0, "PostgreSQL major version (default: the server's)")
	syncOff := fs.Bool("synchronous-commit-off", false, "add synchronous_commit = off (commits return before the WAL flush)")
	extProfile := fs.String("extension-profile", "", "extension profile whose libraries must be preloaded")
	extNames := fs.String("extensions", "", "comma-separated extensions whose libraries must be preloaded")
	fs.Var(&sets, "set", "explicit setting name=value (repeatable); names come from the allow-list")
	policy := fs.String("restart", "", "restart policy when a setting needs it: never, signal or command (default never)")
	restartTimeout := fs.String("restart-timeout", "", "bound on the restart step, such as 10m (default 10m)")
	id := fs.String("id", "", "workflow ID (default: "+config.TuneIDPrefix+"<UTC time>-<random>); one already running fails the start")
	revert := fs.String("revert", "", "revert what the tune run with this run ID applied (the run_id starter tune --apply prints); with --restart command, restart if a reverted setting needs it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("tune: unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	reverting, others := false, []string{}
	fs.Visit(func(f *flag.Flag) {
		reverting = reverting || f.Name == "revert"
		if !slices.Contains(revertFlags, f.Name) {
			others = append(others, "--"+f.Name)
		}
	})
	if reverting {
		if len(others) > 0 {
			return fmt.Errorf("tune: --revert takes only --restart, --restart-timeout, --id and --json, not %s", strings.Join(others, ", "))
		}
		rin := workflows.RevertInput{RunID: *revert, RestartPolicy: *policy, RestartTimeout: *restartTimeout}
		if err := rin.Validate(); err != nil {
			return fmt.Errorf("tune: --revert: %w", err)
		}
		return tuneRevert(ctx, a, rin, *id, *asJSON)
	}
	if *input != "" {
		apply := in.Apply
		dec := json.NewDecoder(strings.NewReader(*input))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("tune: --input: %w", err)
		}
		in.Apply = in.Apply || apply
	}
	r := &in.Request
	for _, f := range []struct {
		dst *string
		v   string
	}{{&r.Workload, *workload}, {&r.Storage, *storage}, {&r.DBSize, *dbSize}, {&r.OS, *osType}, {&r.Memory, *memory},
		{&r.ExtensionProfile, *extProfile}, {&in.RestartPolicy, *policy}, {&in.RestartTimeout, *restartTimeout}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	for _, f := range []struct {
		dst *int
		v   int
	}{{&r.CPUs, *cpus}, {&r.MaxConnections, *maxConns}, {&r.PGVersion, *pgVersion}} {
		if f.v != 0 {
			*f.dst = f.v
		}
	}
	r.SynchronousCommitOff = r.SynchronousCommitOff || *syncOff
	r.Force = r.Force || *force
	r.Overrides = append(r.Overrides, sets...)
	if *extNames != "" {
		r.ExtensionNames = append(r.ExtensionNames, config.SplitList(*extNames)...)
	}
	if err := in.Validate(); err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	if *planOnly {
		return tunePlanOnly(a, in, *asJSON)
	}
	return tuneWithWorkflow(ctx, a, in, *id, *asJSON)
}

// tunePlanOnly computes the recommendation locally: no database, no
// Temporal.
func tunePlanOnly(a *app, in workflows.TuneInput, asJSON bool) error {
	var missing []string
	if in.Memory == "" {
		missing = append(missing, "--memory (e.g. 32GB)")
	}
	if in.PGVersion == 0 {
		missing = append(missing, fmt.Sprintf("--pg-version (%d to %d)", pgtune.MinVersion, pgtune.MaxVersion))
	}
	if len(missing) > 0 {
		return fmt.Errorf("tune: --plan-only asks no server, so it needs %s", strings.Join(missing, " and "))
	}
	if in.Apply {
		return errors.New("tune: --plan-only and --apply exclude each other")
	}
	if in.ExtensionProfile != "" || len(in.ExtensionNames) > 0 {
		return errors.New("tune: --plan-only cannot resolve extension libraries (the worker's catalog does); add them with --set shared_preload_libraries=name")
	}
	rec, err := pgtune.Recommend(in.Input(0, 0, 0, nil))
	if err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	if rec, err = pgtune.ApplyOverrides(rec, in.Overrides); err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	for _, w := range rec.Warnings {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
	if asJSON {
		type row struct {
			Name    string `json:"name"`
			Value   string `json:"value"`
			Unit    string `json:"unit"`
			Context string `json:"context"`
			Reason  string `json:"reason"`
		}
		rows := make([]row, len(rec.Settings))
		for i, s := range rec.Settings {
			rows[i] = row{Name: s.Name, Value: s.Value, Unit: s.Unit, Context: string(s.Context), Reason: s.Reason}
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	items := make([]pgtune.Item, len(rec.Settings))
	for i, s := range rec.Settings {
		items[i] = pgtune.Item{Setting: s}
	}
	in2 := rec.Input
	fmt.Fprintf(a.stdout, "PostgreSQL %d, %s workload, %s storage, %s, %s memory, %s CPUs\n\n",
		in2.PGVersion, in2.Workload, in2.Storage, in2.DBSize, pgtune.FormatBytes(in2.MemoryBytes), tuneCPUs(in2.CPUs))
	return printTunePlan(a.stdout, items, false)
}

// tuneWithWorkflow starts TuneWorkflow, waits for it and prints the plan,
// the statements and what happened.
func tuneWithWorkflow(ctx context.Context, a *app, in workflows.TuneInput, id string, asJSON bool) error {
	if id == "" {
		id = newWorkflowID(config.TuneIDPrefix)
	}
	mode := "dry run"
	if in.Apply {
		mode = "apply"
	}
	run, err := a.start(ctx, a.stderr, id, "congressflow tune ("+mode+")", workflows.TuneWorkflow, in)
	if err != nil {
		return err
	}
	if in.Apply && in.RestartPolicy == workflows.RestartSignal {
		fmt.Fprintf(a.stderr, "if settings need a restart, the workflow waits: restart PostgreSQL, then run\n  temporal workflow signal --workflow-id %s --name %s\n",
			run.GetID(), config.SignalPostgresRestarted)
	}
	var res workflows.TuneResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("TuneWorkflow %s: %w", run.GetID(), err)
	}
	if asJSON {
		return writeJSON(a.stdout, res)
	}
	return printTuneResult(a.stdout, res)
}

// printTuneResult writes the plan table, the statements and the outcome.
func printTuneResult(w io.Writer, res workflows.TuneResult) error {
	p := res.Plan
	fmt.Fprintf(w, "server %s, PostgreSQL %d; hardware %s memory, %s CPUs (from %s)\n\n",
		orDash(p.Server), p.PGVersion, p.Hardware.Memory, tuneCPUs(p.Hardware.CPUs), p.Hardware.Source)
	if err := printTunePlan(w, p.Items, true); err != nil {
		return err
	}
	for _, warn := range p.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	if len(p.Statements) > 0 {
		verb := "would run"
		if !res.DryRun {
			verb = "ran"
		}
		fmt.Fprintf(w, "\nALTER SYSTEM statements it %s:\n", verb)
		for _, s := range p.Statements {
			fmt.Fprintf(w, "  %s;\n", s)
		}
	}
	if p.Blocked != "" {
		fmt.Fprintln(w, "\nblocked:", p.Blocked)
	}
	if rep := res.Apply; rep != nil {
		for _, r := range rep.Rejected {
			fmt.Fprintf(w, "rejected: %s = %s: %s\n", r.Name, r.Value, r.Error)
		}
		if len(rep.Changes) > 0 && res.Revert == nil {
			fmt.Fprintf(w, "run ID %s; to undo it: starter tune --revert %s\n", rep.RunID, rep.RunID)
		}
	}
	if len(res.PendingRestart) > 0 {
		fmt.Fprintf(w, "waiting for a restart: %s\n", strings.Join(res.PendingRestart, ", "))
	}
	fmt.Fprintf(w, "\n%s\n", res.Summary)
	return nil
}

// tuneRevert starts RevertTuningWorkflow for a tune run, waits for it and
// prints what was restored.
func tuneRevert(ctx context.Context, a *app, in workflows.RevertInput, id string, asJSON bool) error {
	if id == "" {
		id = newWorkflowID(config.RevertIDPrefix)
	}
	run, err := a.start(ctx, a.stderr, id, "congressflow tune revert "+in.RunID, workflows.RevertTuningWorkflow, in)
	if err != nil {
		return err
	}
	var res workflows.RevertResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("RevertTuningWorkflow %s: %w", run.GetID(), err)
	}
	if asJSON {
		return writeJSON(a.stdout, res)
	}
	return printRevertResult(a.stdout, res)
}

// printRevertResult writes the restored settings, the restart and the
// outcome.
func printRevertResult(w io.Writer, res workflows.RevertResult) error {
	if len(res.Revert.Reverted) > 0 {
		fmt.Fprintf(w, "run %s: restored %d settings\n\n", res.Revert.RunID, len(res.Revert.Reverted))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tRUN SET\tRESTORED\tCONTEXT")
		for _, c := range res.Revert.Reverted {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, orDash(c.Old), orDash(c.New), c.Context)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if slices.ContainsFunc(res.Revert.Reverted, func(c pgtune.Change) bool { return c.New == revertedByReset }) {
			fmt.Fprintln(w, "\n"+revertedByReset+": the run's ALTER SYSTEM entry is removed, so postgresql.conf or the default applies")
		}
	}
	if r := res.Restart; r != nil {
		fmt.Fprintf(w, "restarted with %s: the server started at %s\n", orDash(r.Command), r.StartedAfter.Format(time.RFC3339))
	}
	if len(res.PendingRestart) > 0 {
		fmt.Fprintf(w, "waiting for a restart: %s\n", strings.Join(res.PendingRestart, ", "))
	}
	fmt.Fprintf(w, "\n%s\n", res.Summary)
	return nil
}

// printTunePlan writes one row per setting. withCurrent adds the server's
// values and what the plan does.
func printTunePlan(w io.Writer, items []pgtune.Item, withCurrent bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if withCurrent {
		fmt.Fprintln(tw, "NAME\tCURRENT\tRECOMMENDED\tUNIT\tCONTEXT\tACTION\tREASON")
	} else {
		fmt.Fprintln(tw, "NAME\tRECOMMENDED\tUNIT\tCONTEXT\tREASON")
	}
	for _, it := range items {
		reason := it.Reason
		if it.Note != "" {
			reason += " [" + it.Note + "]"
		}
		if withCurrent {
			current := orDash(it.Current)
			if it.Pending != "" {
				current += " (" + it.Pending + " after restart)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Name, current, orDash(it.Value), orDash(it.Unit), it.Context, it.Action, reason)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Name, it.Value, orDash(it.Unit), it.Context, reason)
		}
	}
	return tw.Flush()
}

func tuneCPUs(n int) string {
	if n == 0 {
		return "unknown"
	}
	return fmt.Sprint(n)
}
