package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/metrics"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// scrape returns the registry's text exposition.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func newMetrics(t *testing.T) *metrics.Metrics {
	t.Helper()
	m := metrics.New(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

func TestIngestCountersAreExposed(t *testing.T) {
	t.Parallel()
	m := newMetrics(t)
	in := m.Ingest()
	in.Request("bill", "ok")
	in.Request("bill", "ok")
	in.Request("bill", "rate_limited")
	in.Page("bill", 250, 200, 30, 20)
	in.Page("bill", 10, 0, 0, 10)

	out := scrape(t, m)
	for _, line := range []string{
		`congressflow_ingest_pages_total{endpoint="bill"} 2`,
		`congressflow_ingest_items_total{endpoint="bill"} 260`,
		`congressflow_ingest_rows_total{endpoint="bill",result="inserted"} 200`,
		`congressflow_ingest_rows_total{endpoint="bill",result="updated"} 30`,
		`congressflow_ingest_rows_total{endpoint="bill",result="unchanged"} 30`,
		`congressflow_api_requests_total{endpoint="bill",result="ok"} 2`,
		`congressflow_api_requests_total{endpoint="bill",result="rate_limited"} 1`,
		`congressflow_api_limiter_wait_seconds_total 0`,
		`process_resident_memory_bytes`,
		`go_goroutines`,
	} {
		require.Contains(t, out, line)
	}

	var nilIngest *metrics.Ingest
	nilIngest.Page("bill", 1, 1, 0, 0) // a worker without metrics counts nothing
	nilIngest.Request("bill", "ok")
}

func TestTemporalSeriesGoThroughTheRegistry(t *testing.T) {
	t.Parallel()
	m := newMetrics(t)
	h := m.Temporal().WithTags(map[string]string{"namespace": "default"})
	h.Counter("temporal_request").Inc(3)
	h.Timer("temporal_request_latency").Record(20 * time.Millisecond)
	// tally reports every second.
	require.Eventually(t, func() bool {
		out := scrape(t, m)
		return strings.Contains(out, `temporal_request_total{namespace="default"} 3`) &&
			strings.Contains(out, `temporal_request_latency_seconds_count{namespace="default"} 1`)
	}, 5*time.Second, 100*time.Millisecond)
}

type pausingLimiter struct {
	wait   time.Duration
	paused time.Duration
}

func (l *pausingLimiter) Wait(context.Context) error { time.Sleep(l.wait); return nil }
func (l *pausingLimiter) Observe(congress.RateLimit) {}
func (l *pausingLimiter) Pause(d time.Duration)      { l.paused = d }

func TestTimeLimiterCountsTheWaitAndForwardsPause(t *testing.T) {
	t.Parallel()
	m := newMetrics(t)
	inner := &pausingLimiter{wait: 30 * time.Millisecond}
	l := m.TimeLimiter(inner)
	require.NoError(t, l.Wait(context.Background()))
	p, ok := l.(congress.Pauser)
	require.True(t, ok, "the client pauses every request after a 429")
	p.Pause(7 * time.Second)
	require.Equal(t, 7*time.Second, inner.paused)

	var waited float64
	for _, line := range strings.Split(scrape(t, m), "\n") {
		if v, ok := strings.CutPrefix(line, "congressflow_api_limiter_wait_seconds_total "); ok {
			_, err := fmt.Sscan(v, &waited)
			require.NoError(t, err)
		}
	}
	require.GreaterOrEqual(t, waited, 0.03)
}

func TestPoolStatisticsAreReadAtScrape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := store.Open(ctx, store.PoolConfig{URL: pgtest.Database(t), MaxConns: 3})
	require.NoError(t, err)
	defer pool.Close()
	m := newMetrics(t)
	m.ObservePool(pool)

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	out := scrape(t, m)
	require.Contains(t, out, "congressflow_pool_acquired_conns 1")
	require.Contains(t, out, "congressflow_pool_max_conns 3")
	conn.Release()
	out = scrape(t, m)
	require.Contains(t, out, "congressflow_pool_acquired_conns 0")
	require.Regexp(t, `congressflow_pool_acquires_total [1-9]`, out)
	require.Contains(t, out, "congressflow_pool_acquires_waited_total")
	require.Contains(t, out, "congressflow_pool_acquire_seconds_total")
}

func TestHealth(t *testing.T) {
	t.Parallel()
	dbDown := errors.New("connect to PostgreSQL at u@db:5432/x: connection refused")
	tests := []struct {
		name       string
		polling    bool
		why        string
		dbErr      error
		wantStatus int
		wantChecks map[string]string
	}{
		{name: "healthy", polling: true, wantStatus: 200,
			wantChecks: map[string]string{"worker": "polling", "database": "ok"}},
		{name: "starting", why: "starting", wantStatus: 503,
			wantChecks: map[string]string{"worker": "starting", "database": "ok"}},
		{name: "database down", polling: true, dbErr: dbDown, wantStatus: 503,
			wantChecks: map[string]string{"worker": "polling", "database": dbDown.Error()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h metrics.Health
			h.SetPolling(tt.polling, tt.why)
			h.AddCheck("database", func(context.Context) error { return tt.dbErr })
			srv, err := metrics.Listen("127.0.0.1:0", nil, &h)
			require.NoError(t, err)
			defer func() { require.NoError(t, srv.Close()) }()

			resp, err := http.Get("http://" + srv.Addr() + metrics.PathHealth)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tt.wantStatus, resp.StatusCode, "%s", body)
			rep := h.Check(context.Background())
			require.Equal(t, tt.wantChecks, rep.Checks)

			err = metrics.Probe(context.Background(), srv.Addr())
			if tt.wantStatus == 200 {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "503 Service Unavailable")
			}
		})
	}
}

func TestHealthCheckThatHangsIsBounded(t *testing.T) {
	t.Parallel()
	var h metrics.Health
	h.SetPolling(true, "")
	h.AddCheck("database", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	start := time.Now()
	rep := h.Check(context.Background())
	require.Less(t, time.Since(start), 10*time.Second)
	require.Equal(t, metrics.StatusUnavailable, rep.Status)
	require.Equal(t, "context deadline exceeded", rep.Checks["database"])
}

func TestListenNamesTheSetting(t *testing.T) {
	t.Parallel()
	_, err := metrics.Listen("not-an-address", nil, &metrics.Health{})
	require.ErrorContains(t, err, `WORKER_METRICS_ADDR="not-an-address"`)
	require.ErrorContains(t, metrics.Probe(context.Background(), "nonsense"), `WORKER_METRICS_ADDR="nonsense"`)
}
