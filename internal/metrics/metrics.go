// Package metrics is the worker's observability endpoint: the Temporal
// SDK's metrics (temporal_… series, through the SDK's tally contrib and its
// Prometheus reporter), congressflow's own counters (pages, items, upserts,
// API requests and 429s, time spent waiting for the shared request budget)
// and the pgx pool's statistics, all on one Prometheus registry, plus the
// /healthz check. [Serve] serves both on the address WORKER_METRICS_ADDR
// names.
//
// Activities do not import this package: they count through small
// interfaces they declare themselves (activities.IngestMetrics), which
// [Metrics.Ingest] implements. Labels carry endpoint names and fixed
// result words only, never a key, URL or credential.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Namespace prefixes congressflow's own series.
const Namespace = "congressflow"

// reportEvery is how often tally hands the SDK's buffered counters and
// gauges to the Prometheus registry.
const reportEvery = time.Second

// Metrics holds the worker's registry: the SDK's series and ours.
type Metrics struct {
	registry *prometheus.Registry
	scope    tally.Scope
	closer   interface{ Close() error }
	ingest   *Ingest
	limiter  prometheus.Counter
}

// New returns a registry with the Go runtime and process collectors
// (process_cpu_seconds_total, process_resident_memory_bytes, ...), the
// tally scope the SDK reports into, and congressflow's counters. Errors the
// reporter meets registering an SDK series (a name seen with two label
// sets) go to logger instead of panicking. Close it when the worker stops.
func New(logger *slog.Logger) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		OnRegisterError: func(err error) {
			logger.Warn("metrics: cannot register an SDK series", slog.String("error", err.Error()))
		},
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, reportEvery)
	m := &Metrics{
		registry: reg,
		scope:    sdktally.NewPrometheusNamingScope(scope),
		closer:   closer,
		ingest:   newIngest(reg),
		limiter: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "api", Name: "limiter_wait_seconds_total",
			Help: "Seconds API requests waited for the key's shared request budget.",
		}),
	}
	reg.MustRegister(m.limiter)
	return m
}

// Temporal is the handler for client.Options.MetricsHandler: the SDK's
// temporal_… series.
func (m *Metrics) Temporal() client.MetricsHandler { return sdktally.NewMetricsHandler(m.scope) }

// Ingest is what the ingest activities count through.
func (m *Metrics) Ingest() *Ingest { return m.ingest }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Registry is the registry everything is registered on.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// ObservePool exports the pool's statistics, read at every scrape.
func (m *Metrics) ObservePool(pool *pgxpool.Pool) {
	m.registry.MustRegister(poolCollector{pool: pool})
}

// Close flushes the SDK's last buffered values and stops the reporting
// loop.
func (m *Metrics) Close() error { return m.closer.Close() }
