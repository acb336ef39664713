// Package workerapp is the congressflow worker process without its flag
// parsing: probe the host, size the worker from what it found, open the
// database, dial Temporal, register every workflow and activity, and run
// until the context ends. worker/main.go and the integration tests share it.
package workerapp

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/budget"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/logging"
	"github.com/opendiscourse/congressflow/internal/metrics"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/sizing"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
	"github.com/opendiscourse/congressflow/workflows"
)

// Config is the worker's configuration. The zero value is usable: every
// field states its default.
type Config struct {
	// TaskQueue the worker polls. Default [config.DefaultTaskQueue].
	TaskQueue string
	// DatabaseURL of the PostgreSQL server the pipeline works on. Empty
	// means the libpq PG* environment variables.
	DatabaseURL string
	// ProbePaths are the filesystem paths whose disks the probe reports.
	// Default: the working directory.
	ProbePaths []string
	// Sizing overrides single numbers of the computed sizing plan.
	Sizing sizing.Overrides
	// APIRequestsPerHour caps the Congress.gov request budget of the key
	// (per APIRateWindow), below what the API announces in
	// X-Ratelimit-Limit, and is the limit until it announces one. Default
	// 0: the announced limit, 5000 (api.data.gov's default) until then.
	// Every worker on the same database and key shares the budget.
	APIRequestsPerHour int
	// APIRateWindow is the rolling window of the API's limit. Default one
	// hour, as api.data.gov counts; tests use shorter ones.
	APIRateWindow time.Duration
	// ResourceTuner switches activity slots from a fixed count to the SDK's
	// resource-based tuner (target 80 % memory, 90 % CPU of the effective,
	// cgroup-aware limits), bounded by the sizing plan's activity slots.
	ResourceTuner bool
	// PGRestartCommand is the shell command line the tune stage's "command"
	// restart policy runs with `sh -c`, for example
	// "pg_ctlcluster 15 main restart". Empty disables that policy.
	PGRestartCommand string
	// PGHostMemory and PGHostCPUs describe the database host for the tune
	// stage when the server is not on this host and the input gives no
	// memory/cpus, e.g. "16GB" and 4. Empty: unknown.
	PGHostMemory string
	PGHostCPUs   int
	// Congress configures the Congress.gov client (base URL, key); its
	// String and LogValue redact the key. The worker fills the connection
	// count from the sizing plan and the limiter from APIRequestsPerHour
	// when they are unset. Default: the real API with DEMO_KEY.
	Congress congress.Config
	// StopTimeout is how long a stopping worker lets running activities
	// finish. Default 30s.
	StopTimeout time.Duration
	// TemporalClient, when set, is used instead of dialling Temporal from
	// the environment (tests hand in a dev server's client).
	TemporalClient client.Client
	// TemporalNamespace is TemporalClient's namespace. Default "default".
	TemporalNamespace string
	// MetricsAddr is where the worker serves Prometheus metrics on
	// /metrics and its health on /healthz: host:port, such as
	// 127.0.0.1:9090 or :9090 (every interface). Empty (the default)
	// serves neither.
	MetricsAddr string
}

// defaultAPIRequestsPerHour is api.data.gov's hourly limit per key.
const defaultAPIRequestsPerHour = 5000

func (c Config) withDefaults() Config {
	if c.TaskQueue == "" {
		c.TaskQueue = config.DefaultTaskQueue
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 30 * time.Second
	}
	if len(c.ProbePaths) == 0 {
		c.ProbePaths = []string{"."}
	}
	return c
}

// Plan probes the host, reads the database's connection budget when it can,
// and computes the sizing plan. dbErr reports why the database could not be
// asked (the plan then sizes without that bound); err is fatal.
func Plan(ctx context.Context, cfg Config, logger *slog.Logger) (plan sizing.Plan, profile sysprobe.Profile, dbErr, err error) {
	cfg = cfg.withDefaults()
	return probeAndSize(ctx, cfg, newProber(cfg, logger))
}

func newProber(cfg Config, logger *slog.Logger) *sysprobe.Prober {
	return sysprobe.New(sysprobe.Options{Paths: cfg.ProbePaths, Logger: logger})
}

func probeAndSize(ctx context.Context, cfg Config, prober *sysprobe.Prober) (plan sizing.Plan, profile sysprobe.Profile, dbErr, err error) {
	profile, err = prober.Probe(ctx)
	if err != nil {
		return plan, profile, nil, fmt.Errorf("probe host: %w", err)
	}
	in := sizing.InputsFromProfile(profile)
	in.APIRequestsPerHour = cmp.Or(cfg.APIRequestsPerHour, defaultAPIRequestsPerHour)
	if cfg.APIRateWindow > 0 && cfg.APIRateWindow != time.Hour {
		in.APIRequestsPerHour = int(float64(in.APIRequestsPerHour) * float64(time.Hour) / float64(cfg.APIRateWindow))
	}
	in.Overrides = urlPoolOverrides(cfg.DatabaseURL, cfg.Sizing)
	in.DBMaxConnections, in.DBReservedConnections, dbErr = dbBudget(ctx, cfg.DatabaseURL)
	plan, err = sizing.Compute(in)
	if err != nil {
		return plan, profile, dbErr, fmt.Errorf("size worker: %w", err)
	}
	return plan, profile, dbErr, nil
}

// urlPoolOverrides treats pool_max_conns/pool_min_conns in the database URL
// as overrides (the pool honours them, see store.Open), so the sizing table
// shows the pool the worker really gets. Flag and env overrides win.
func urlPoolOverrides(url string, o sizing.Overrides) sizing.Overrides {
	if !strings.Contains(url, "pool_m") {
		return o
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return o
	}
	if o.PoolMaxConns == 0 && strings.Contains(url, "pool_max_conns") {
		o.PoolMaxConns = int(pc.MaxConns)
	}
	if o.PoolMinConns == 0 && strings.Contains(url, "pool_min_conns") {
		o.PoolMinConns = int(pc.MinConns)
	}
	return o
}

// dbBudget reads max_connections through a one-connection pool, so the
// real pool can be sized before it is built. It parses and reports errors
// exactly as the real pool does (pool_* URL keys, one-line messages without
// the password).
func dbBudget(ctx context.Context, url string) (maxConns, reserved int, err error) {
	pool, err := store.Open(ctx, store.PoolConfig{URL: url, MaxConns: 1, MinConns: 1})
	if err != nil {
		return 0, 0, err
	}
	defer pool.Close()
	return store.MaxConnections(ctx, pool)
}

// Validate checks the configuration a worker cannot start with, naming the
// setting to fix.
func (c Config) Validate() error {
	if c.PGHostMemory != "" {
		if b, err := pgtune.ParseSize(c.PGHostMemory); err != nil || b == 0 {
			return fmt.Errorf("PG_HOST_MEMORY=%q: want a size such as 16GB or 512MB", c.PGHostMemory)
		}
	}
	if c.PGHostCPUs < 0 {
		return fmt.Errorf("PG_HOST_CPUS=%d: want a whole number ≥ 1", c.PGHostCPUs)
	}
	return nil
}

// Run runs the worker until ctx ends, then stops it gracefully.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	// /healthz answers from the start: 503 until the worker polls.
	var (
		health metrics.Health
		met    *metrics.Metrics
	)
	health.SetPolling(false, "starting")
	if cfg.MetricsAddr != "" {
		met = metrics.New(logger)
		defer met.Close()
		srv, err := metrics.Listen(cfg.MetricsAddr, met, &health)
		if err != nil {
			return err
		}
		defer srv.Close()
		logger.InfoContext(ctx, "worker: serving metrics and health",
			"metrics", "http://"+srv.Addr()+metrics.PathMetrics, "health", "http://"+srv.Addr()+metrics.PathHealth)
	}
	prober := newProber(cfg, logger)
	plan, profile, dbErr, err := probeAndSize(ctx, cfg, prober)
	if err != nil {
		return err
	}
	if dbErr != nil {
		// The worker cannot work without its database: the pool would fail
		// the same way.
		return dbErr
	}
	logger.InfoContext(ctx, "worker: host probed", "summary", profile.Summary())
	for _, r := range plan.Rows() {
		logger.InfoContext(ctx, "worker: sizing", "setting", r.Name, "value", r.Value, "bound", r.Bound, "reason", r.Reason)
	}

	pool, err := store.Open(ctx, store.PoolConfig{
		URL:      cfg.DatabaseURL,
		MinConns: int32(plan.PoolMinConns.N),
		MaxConns: int32(plan.PoolMaxConns.N),
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	logger.InfoContext(ctx, "worker: database ready", "migrations_applied", len(applied), "pool", store.LogValue(pool.Config()))
	if met != nil {
		met.ObservePool(pool)
	}
	health.AddCheck("database", func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("ping %s: %w", store.Describe(pool.Config().ConnConfig), store.Translate(err))
		}
		return nil
	})

	c, err := temporalClient(ctx, cfg, met, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	health.AddCheck("temporal", func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	})

	opts, err := workerOptions(plan, cfg, prober.SysInfo(profile))
	if err != nil {
		return err
	}
	api, err := newCongressClient(ctx, cfg, plan, pool, met, logger)
	if err != nil {
		return err
	}
	fatal := make(chan error, 1)
	opts.OnFatalError = func(err error) {
		select {
		case fatal <- err:
		default:
		}
	}
	w := worker.New(c, cfg.TaskQueue, opts)
	Register(w, Deps{Pool: pool, Logger: logger, Prober: prober, Config: cfg, Congress: api, Metrics: met})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	health.SetPolling(true, "")
	logger.InfoContext(ctx, "worker: polling", "task_queue", cfg.TaskQueue)
	var runErr error
	select {
	case <-ctx.Done():
		health.SetPolling(false, "stopping")
	case err := <-fatal:
		health.SetPolling(false, "stopped: "+err.Error())
		runErr = fmt.Errorf("run worker: %w", err)
	}
	w.Stop()
	logger.Info("worker: stopped")
	return runErr
}

// temporalClient is the worker's Temporal client: cfg.TemporalClient, or
// one dialled from the environment. With metrics, it reports the SDK's
// series to them (a given client is shared, under a client of its own).
// Close it when done.
func temporalClient(ctx context.Context, cfg Config, met *metrics.Metrics, logger *slog.Logger) (client.Client, error) {
	if cfg.TemporalClient == nil {
		c, _, err := config.DialTemporal(ctx, logger, func(o *client.Options) {
			if met != nil {
				o.MetricsHandler = met.Temporal()
			}
		})
		return c, err
	}
	opts := client.Options{Namespace: cmp.Or(cfg.TemporalNamespace, client.DefaultNamespace), Logger: tlog.NewStructuredLogger(logger)}
	if met != nil {
		opts.MetricsHandler = met.Temporal()
	}
	c, err := client.NewClientFromExistingWithContext(ctx, cfg.TemporalClient, opts)
	if err != nil {
		return nil, fmt.Errorf("share the Temporal client: %w", err)
	}
	return c, nil
}

func workerOptions(plan sizing.Plan, cfg Config, info worker.SysInfoProvider) (worker.Options, error) {
	opts := worker.Options{
		MaxConcurrentWorkflowTaskPollers: plan.WorkflowTaskPollers.N,
		MaxConcurrentActivityTaskPollers: plan.ActivityPollers.N,
		WorkerStopTimeout:                cfg.StopTimeout,
	}
	if !cfg.ResourceTuner {
		opts.MaxConcurrentActivityExecutionSize = plan.ActivitySlots.N
		opts.MaxConcurrentWorkflowTaskExecutionSize = plan.WorkflowTaskSlots.N
		opts.MaxConcurrentLocalActivityExecutionSize = plan.ActivitySlots.N
		return opts, nil
	}
	tuner, err := resourceTuner(plan, info)
	if err != nil {
		return opts, err
	}
	opts.Tuner = tuner
	return opts, nil
}

// resourceTuner keeps workflow-task slots fixed (they are short CPU bursts)
// and lets activity slots follow the host's effective memory and CPU use,
// never beyond the static plan: activities wait on PostgreSQL and the API,
// whose limits a CPU or memory reading cannot see.
func resourceTuner(plan sizing.Plan, info worker.SysInfoProvider) (worker.WorkerTuner, error) {
	ctrlOpts := worker.DefaultResourceControllerOptions()
	ctrlOpts.MemTargetPercent = 0.8
	ctrlOpts.CpuTargetPercent = 0.9
	ctrlOpts.InfoSupplier = info
	ctrl := worker.NewResourceController(ctrlOpts)

	actOpts := worker.DefaultActivityResourceBasedSlotSupplierOptions()
	actOpts.MaxSlots = plan.ActivitySlots.N
	actOpts.MinSlots = min(actOpts.MinSlots, plan.ActivitySlots.N)
	act, err := worker.NewResourceBasedSlotSupplier(ctrl, actOpts)
	if err != nil {
		return nil, fmt.Errorf("resource-based activity slots: %w", err)
	}
	wf, err := worker.NewFixedSizeSlotSupplier(plan.WorkflowTaskSlots.N)
	if err != nil {
		return nil, fmt.Errorf("workflow-task slots: %w", err)
	}
	local, err := worker.NewFixedSizeSlotSupplier(plan.ActivitySlots.N)
	if err != nil {
		return nil, fmt.Errorf("local activity slots: %w", err)
	}
	nexus, err := worker.NewFixedSizeSlotSupplier(1)
	if err != nil {
		return nil, fmt.Errorf("nexus slots: %w", err)
	}
	return worker.NewCompositeTuner(worker.CompositeTunerOptions{
		WorkflowSlotSupplier:      wf,
		ActivitySlotSupplier:      act,
		LocalActivitySlotSupplier: local,
		NexusSlotSupplier:         nexus,
	})
}

// newCongressClient builds the process's one Congress.gov client: every
// ingest activity of this worker shares its connections, and every worker
// on this database shares the key's rate budget (internal/budget).
func newCongressClient(ctx context.Context, cfg Config, plan sizing.Plan, pool *pgxpool.Pool, met *metrics.Metrics, logger *slog.Logger) (*congress.Client, error) {
	cc := cfg.Congress
	if cc.APIKey == "" {
		cc.APIKey = congress.DemoKey
	}
	if cc.MaxConnsPerHost == 0 {
		cc.MaxConnsPerHost = plan.HTTPConnsPerHost.N
	}
	if cc.Limiter == nil {
		b, err := budget.Open(ctx, pool, budget.Config{Key: cc.APIKey, Limit: cfg.APIRequestsPerHour, Window: cfg.APIRateWindow, Logger: logger})
		if err != nil {
			return nil, err
		}
		cc.Limiter = b
	}
	if met != nil {
		cc.Limiter = met.TimeLimiter(cc.Limiter)
	}
	cc.Logger = logger
	api, err := congress.New(cc)
	if err != nil {
		return nil, err
	}
	logger.Info("worker: Congress.gov client ready", "congress", cc.WithDefaults())
	return api, nil
}

// Deps are what the activities need.
type Deps struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	Prober *sysprobe.Prober
	// Config carries the tune stage's settings (restart command, database
	// host hardware) and the API base URL.
	Config Config
	// Congress is the Congress.gov client of the ingest activities.
	Congress *congress.Client
	// Metrics, when the worker serves them, counts what the activities
	// do. Nil counts nothing.
	Metrics *metrics.Metrics
}

// Register registers every workflow and activity on w.
func Register(w worker.Registry, d Deps) {
	workflows.Register(w)
	w.RegisterActivity(&activities.System{
		Prober: d.Prober,
		Pool:   d.Pool,
		Logger: d.Logger,
	})
	w.RegisterActivity(&activities.Extensions{Pool: d.Pool, Catalog: pgext.Default(), Logger: d.Logger})
	ingest := &activities.Ingest{
		Pool:    d.Pool,
		Client:  d.Congress,
		BaseURL: d.Config.Congress.WithDefaults().BaseURL,
		Logger:  d.Logger,
	}
	if d.Metrics != nil {
		ingest.Metrics = d.Metrics.Ingest()
	}
	w.RegisterActivity(ingest)
	w.RegisterActivity(&activities.Reporter{Pool: d.Pool, Logger: d.Logger})
	w.RegisterActivity(&activities.Tuning{
		Pool:           d.Pool,
		Prober:         d.Prober,
		Preload:        pgext.Default(),
		RestartCommand: d.Config.PGRestartCommand,
		DBHostMemory:   d.Config.PGHostMemory,
		DBHostCPUs:     d.Config.PGHostCPUs,
		Logger:         d.Logger,
	})
}

// PrintSizing writes the plan as a table, with the probe summary and the
// database budget's source.
func PrintSizing(w io.Writer, plan sizing.Plan, profile sysprobe.Profile, dbErr error) error {
	fmt.Fprintf(w, "host: %s\n", profile.Summary())
	if dbErr != nil {
		fmt.Fprintf(w, "database: not consulted (%s); pool sized without max_connections\n", logging.OneLine(dbErr))
	} else {
		fmt.Fprintf(w, "database: max_connections=%d (reserved %d)\n", plan.Inputs.DBMaxConnections, plan.Inputs.DBReservedConnections)
	}
	for _, warn := range profile.Warnings {
		fmt.Fprintf(w, "probe warning: %s\n", warn)
	}
	fmt.Fprintln(w)
	return plan.WriteTable(w)
}
