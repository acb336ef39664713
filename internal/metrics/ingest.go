package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// Ingest counts what the ingest activities do, per endpoint. It
// implements activities.IngestMetrics. A nil *Ingest counts nothing.
type Ingest struct {
	pages    *prometheus.CounterVec
	items    *prometheus.CounterVec
	rows     *prometheus.CounterVec
	requests *prometheus.CounterVec
}

func newIngest(reg prometheus.Registerer) *Ingest {
	in := &Ingest{
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ingest", Name: "pages_total",
			Help: "List pages fetched and committed, by endpoint.",
		}, []string{"endpoint"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ingest", Name: "items_total",
			Help: "Items those pages held, by endpoint.",
		}, []string{"endpoint"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ingest", Name: "rows_total",
			Help: "What the upserts did with each item, by endpoint: inserted, updated or unchanged.",
		}, []string{"endpoint", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "api", Name: "requests_total",
			Help: "Congress.gov API requests, by endpoint and result: ok, rate_limited (HTTP 429), budget (the shared budget asked to wait), error.",
		}, []string{"endpoint", "result"}),
	}
	reg.MustRegister(in.pages, in.items, in.rows, in.requests)
	return in
}

// Request counts one API request for endpoint with its result.
func (in *Ingest) Request(endpoint, result string) {
	if in == nil {
		return
	}
	in.requests.WithLabelValues(endpoint, result).Inc()
}

// Page counts a committed page of endpoint: its items and what the
// upserts did with them.
func (in *Ingest) Page(endpoint string, items int, inserted, updated, unchanged int64) {
	if in == nil {
		return
	}
	in.pages.WithLabelValues(endpoint).Inc()
	in.items.WithLabelValues(endpoint).Add(float64(items))
	in.rows.WithLabelValues(endpoint, "inserted").Add(float64(inserted))
	in.rows.WithLabelValues(endpoint, "updated").Add(float64(updated))
	in.rows.WithLabelValues(endpoint, "unchanged").Add(float64(unchanged))
}

// TimeLimiter returns l, adding the time each Wait blocks to
// congressflow_api_limiter_wait_seconds_total. A Pause after a 429 still
// reaches l when it pauses.
func (m *Metrics) TimeLimiter(l congress.Limiter) congress.Limiter {
	return timedLimiter{Limiter: l, wait: m.limiter}
}

type timedLimiter struct {
	congress.Limiter
	wait prometheus.Counter
}

func (t timedLimiter) Wait(ctx context.Context) error {
	start := time.Now()
	err := t.Limiter.Wait(ctx)
	t.wait.Add(time.Since(start).Seconds())
	return err
}

// Pause forwards to the wrapped limiter when it is a [congress.Pauser].
func (t timedLimiter) Pause(d time.Duration) {
	if p, ok := t.Limiter.(congress.Pauser); ok {
		p.Pause(d)
	}
}
