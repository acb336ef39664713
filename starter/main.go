// Command starter starts and watches congressflow's workflows: the pipeline,
// the tuning and extension stages on their own, and prints plans and
// catalogs that need no server.
//
//	starter run [--wait] [--stages analyze,tune] [--input '{...}']
//	starter tune --plan-only --memory 32GB --cpus 8
//	starter extensions --catalog
//	starter report [--since 7d] [--json]
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/logging"
)

// command is one starter subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

func commands() []command {
	return []command{
		reportCommand(),
		runCommand(),
		tuneCommand(),
		extensionsCommand(),
		scheduleCommand(),
		progressCommand(),
	}
}

// app carries what every subcommand shares: output streams, the logger,
// configuration from the environment and a lazily dialled Temporal client.
type app struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
	getenv         func(string) string
	taskQueue      string
	webUI          string
	namespace      string
	client         client.Client
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return errors.New("name a subcommand")
		}
		return nil
	}
	logger, err := logging.New(stderr, logging.Options{Level: getenv(config.EnvLogLevel), Format: getenv(config.EnvLogFormat)})
	if err != nil {
		return err
	}
	a := &app{
		stdout:    stdout,
		stderr:    stderr,
		logger:    logger,
		getenv:    getenv,
		taskQueue: cmp.Or(getenv(config.EnvTaskQueue), config.DefaultTaskQueue),
		webUI:     strings.TrimRight(cmp.Or(getenv(config.EnvWebUI), config.DefaultWebUI), "/"),
	}
	defer a.close()
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, a, args[1:])
		}
	}
	usage(stderr, cmds)
	return fmt.Errorf("unknown subcommand %q", args[0])
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: starter <subcommand> [flags]   (starter <subcommand> -h for its flags)")
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
}

// dial connects to Temporal once, from the standard environment
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, config profile).
func (a *app) dial(ctx context.Context) (client.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	c, ns, err := config.DialTemporal(ctx, a.logger)
	if err != nil {
		return nil, err
	}
	a.client, a.namespace = c, ns
	return c, nil
}

func (a *app) close() {
	if a.client != nil {
		a.client.Close()
	}
}

// workflowURL links a workflow execution in the Temporal Web UI.
func (a *app) workflowURL(workflowID, runID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", a.webUI, cmp.Or(a.namespace, client.DefaultNamespace), workflowID, runID)
}

// start starts a workflow on the task queue and prints where to follow it
// to w, once. An ID already in use by a running workflow fails the start:
// it never attaches to that run.
func (a *app) start(ctx context.Context, w io.Writer, id, summary string, wf, in any) (client.WorkflowRun, error) {
	c, err := a.dial(ctx)
	if err != nil {
		return nil, err
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                a.taskQueue,
		StaticSummary:                            summary,
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, wf, in)
	var running *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &running):
		return nil, fmt.Errorf("start workflow %s: a workflow with this ID is already running (run %s), so nothing was started: give another --id, or leave --id out for a unique one",
			id, running.RunId)
	case err != nil:
		return nil, fmt.Errorf("start workflow %s: %w", id, err)
	}
	fmt.Fprintf(w, "started %s\n  workflow id: %s\n  run id:      %s\n  web ui:      %s\n",
		summary, run.GetID(), run.GetRunID(), a.workflowURL(run.GetID(), run.GetRunID()))
	return run, nil
}

// statusWriter is where `starter run` prints what it started: stdout,
// where it is the command's result, or stderr when stdout carries JSON.
// Commands that wait and print a result print it to stderr.
func (a *app) statusWriter(asJSON bool) io.Writer {
	if asJSON {
		return a.stderr
	}
	return a.stdout
}

// newWorkflowID is a unique, time-sortable workflow ID with the prefix.
func newWorkflowID(prefix string) string {
	return config.UniqueWorkflowID(prefix, time.Now())
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
