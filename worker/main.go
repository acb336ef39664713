// Command worker is the congressflow Temporal worker. It probes the host it
// runs on, sizes itself from what it finds (see --print-sizing), opens the
// PostgreSQL pool, applies the schema migrations, and runs every workflow
// and activity on the congressflow task queue until SIGINT or SIGTERM.
//
// Each flag falls back to an environment variable, then to a default:
// flag > env > default.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/logging"
	"github.com/opendiscourse/congressflow/internal/metrics"
	"github.com/opendiscourse/congressflow/internal/workerapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var (
		cfg          workerapp.Config
		printSizing  = fs.Bool("print-sizing", false, "print the sizing plan with the reason for every number, then exit")
		healthCheck  = fs.Bool("health-check", false, "ask the /healthz of the worker serving on --metrics-addr and exit 0 when it answers 200 (a container health check)")
		logLevel     = fs.String("log-level", env(config.EnvLogLevel, "info"), "debug, info, warn or error (env LOG_LEVEL)")
		logFormat    = fs.String("log-format", env(config.EnvLogFormat, "auto"), "text, json or auto: text on a terminal (env LOG_FORMAT)")
		probePaths   = fs.String("probe-paths", env("CONGRESSFLOW_PROBE_PATHS", "."), "comma-separated paths whose disks the probe reports (env CONGRESSFLOW_PROBE_PATHS)")
		restartCmd   = fs.String("pg-restart-command", env("PG_RESTART_COMMAND", ""), "shell command line (run with sh -c) the tune stage's \"command\" restart policy runs, e.g. \"pg_ctlcluster 15 main restart\" (env PG_RESTART_COMMAND)")
		intOverrides = []struct {
			flag, env, usage string
			dst              *int
		}{
			{"activity-slots", "WORKER_ACTIVITY_SLOTS", "concurrent activities", &cfg.Sizing.ActivitySlots},
			{"workflow-slots", "WORKER_WORKFLOW_SLOTS", "concurrent workflow tasks", &cfg.Sizing.WorkflowTaskSlots},
			{"activity-pollers", "WORKER_ACTIVITY_POLLERS", "activity task pollers", &cfg.Sizing.ActivityPollers},
			{"workflow-pollers", "WORKER_WORKFLOW_POLLERS", "workflow task pollers", &cfg.Sizing.WorkflowTaskPollers},
			{"pool-min-conns", "WORKER_POOL_MIN_CONNS", "pgx pool minimum connections", &cfg.Sizing.PoolMinConns},
			{"pool-max-conns", "WORKER_POOL_MAX_CONNS", "pgx pool maximum connections", &cfg.Sizing.PoolMaxConns},
			{"http-conns", "WORKER_HTTP_CONNS_PER_HOST", "HTTP connections per API host", &cfg.Sizing.HTTPConnsPerHost},
			{"api-requests-per-hour", "CONGRESS_API_REQUESTS_PER_HOUR", "Congress.gov requests per window for the key, shared by every worker on the database (default: what the API announces, 5000 until it does)", &cfg.APIRequestsPerHour},
			{"pg-host-cpus", "PG_HOST_CPUS", "database host CPUs, for tuning a server on another host", &cfg.PGHostCPUs},
		}
	)
	fs.StringVar(&cfg.TaskQueue, "task-queue", env(config.EnvTaskQueue, config.DefaultTaskQueue), "task queue to poll (env CONGRESSFLOW_TASK_QUEUE)")
	// No default shown for the URL: usage text would print its password.
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL URL (env DATABASE_URL; empty: the libpq PG* variables)")
	fs.StringVar(&cfg.PGHostMemory, "pg-host-memory", getenv("PG_HOST_MEMORY"), "database host memory such as 16GB, for tuning a server on another host (env PG_HOST_MEMORY)")
	fs.DurationVar(&cfg.APIRateWindow, "api-rate-window", time.Hour, "rolling window of the API's limit (env CONGRESS_API_RATE_WINDOW)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("WORKER_METRICS_ADDR", ""), "serve Prometheus metrics on /metrics and health on /healthz at host:port, such as :9090 (env WORKER_METRICS_ADDR; default: off)")
	fs.BoolVar(&cfg.ResourceTuner, "resource-tuner", env("WORKER_RESOURCE_TUNER", "") == "true", "size activity slots by memory/CPU use, bounded by the plan (env WORKER_RESOURCE_TUNER=true)")
	for _, o := range intOverrides {
		fs.Func(o.flag, fmt.Sprintf("override: %s (env %s)", o.usage, o.env), intSetter(o.flag, o.dst))
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Env fallbacks for the overrides a flag did not set.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, o := range intOverrides {
		if v := getenv(o.env); v != "" && !set[o.flag] {
			if err := intSetter(o.env, o.dst)(v); err != nil {
				return err
			}
		}
	}
	if v := getenv("CONGRESS_API_RATE_WINDOW"); v != "" && !set["api-rate-window"] {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("CONGRESS_API_RATE_WINDOW=%q: want a duration such as 1h", v)
		}
		cfg.APIRateWindow = d
	}
	if !set["database-url"] {
		cfg.DatabaseURL = getenv(config.EnvDatabase)
	}
	if *healthCheck {
		if cfg.MetricsAddr == "" {
			return errors.New("--health-check: set --metrics-addr or WORKER_METRICS_ADDR to the address the worker serves /healthz on")
		}
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := metrics.Probe(hctx, cfg.MetricsAddr); err != nil {
			return fmt.Errorf("unhealthy: %w", err)
		}
		fmt.Fprintln(stdout, "healthy")
		return nil
	}
	cfg.ProbePaths = config.SplitList(*probePaths)
	cfg.PGRestartCommand = strings.TrimSpace(*restartCmd)

	logger, err := logging.New(stderr, logging.Options{Level: *logLevel, Format: *logFormat})
	if err != nil {
		return err
	}
	cfg.Congress = congress.ConfigFromEnv(getenv, logger)
	if *printSizing {
		plan, profile, dbErr, err := workerapp.Plan(ctx, cfg, logger)
		if err != nil {
			return err
		}
		return workerapp.PrintSizing(stdout, plan, profile, dbErr)
	}
	return workerapp.Run(ctx, cfg, logger)
}

func intSetter(name string, dst *int) func(string) error {
	return func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return fmt.Errorf("%s=%q: want a whole number ≥ 0", name, s)
		}
		*dst = n
		return nil
	}
}
