package workerapp_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/metrics"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/workerapp"
	"github.com/opendiscourse/congressflow/workflows"
)

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// get fetches a path of the worker's metrics address.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// sample returns the value of the series in a scrape (0 when absent).
func sample(t *testing.T, scrape, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(scrape)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// TestMetricsDuringAnIngest scrapes the worker's /metrics while it walks
// 6,000 bills from a fake that allows 10 requests in any 2 seconds (the
// worker believes 1 second, so a fast walk overshoots) and runs dry for a
// second at every 8th request (so a walk slowed by a loaded machine meets
// 429s too): the SDK's temporal_ series are there, and our counters
// (pages, items, upserts, requests, 429s, time waiting for the budget)
// grow during the walk and end equal to what the walk reports.
func TestMetricsDuringAnIngest(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"bill": 6000}, Seed: 13,
		Latency: 20 * time.Millisecond, RateLimit: 10, RateWindow: 2 * time.Second,
		ThrottleEvery: 8, ThrottleFor: time.Second}, false)
	addr := freeAddr(t)
	cfg := workerapp.Config{
		DatabaseURL: b.DBURL, TaskQueue: b.Queue, TemporalClient: b.Client, StopTimeout: 5 * time.Second,
		Congress:           congress.Config{BaseURL: b.Fake.URL(), APIKey: ingestKey},
		APIRequestsPerHour: 10_000_000,
		// The worker counts the announced 10 requests in 1 s, the fake in
		// 2 s: when it walks fast it overshoots, and the fake answers 429.
		APIRateWindow: time.Second,
		MetricsAddr:   addr,
	}
	logger := slog.New(slog.NewJSONHandler(b.Log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	runCtx, stop := context.WithCancel(b.Ctx)
	done := make(chan error, 1)
	go func() { done <- workerapp.Run(runCtx, cfg, logger) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
		if t.Failed() {
			t.Logf("worker log:\n%s", b.Log.String())
		}
	})
	waitForWorker(t, &testBundle{ctx: b.Ctx, client: b.Client, queue: b.Queue})

	run := b.Start(t, "ingest-metrics", workflows.IngestInput{Endpoints: []string{"bill"}, PagesPerActivity: 2})
	finished := make(chan error, 1)
	var res workflows.IngestResult
	go func() { finished <- run.Get(b.Ctx, &res) }()

	const pages = `congressflow_ingest_pages_total{endpoint="bill"}`
	var seen []float64 // distinct page counts scraped while the walk ran
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-finished:
			require.NoError(t, err)
			break wait
		case <-tick.C:
			code, body := get(t, addr, metrics.PathMetrics)
			require.Equal(t, http.StatusOK, code)
			if v := sample(t, body, pages); v > 0 && (len(seen) == 0 || v > seen[len(seen)-1]) {
				seen = append(seen, v)
			}
		}
	}
	t.Logf("%s while the walk ran: %v", pages, seen)
	require.GreaterOrEqual(t, len(seen), 3, "the page counter grew during the walk")

	code, body := get(t, addr, metrics.PathMetrics)
	require.Equal(t, http.StatusOK, code)
	require.Regexp(t, `(?m)^temporal_request_total\{`, body)
	require.Regexp(t, `(?m)^temporal_activity_execution_latency_seconds_count\{.*activity_type="FetchPages"`, body)
	require.Regexp(t, `(?m)^temporal_workflow_completed_total\{`, body)
	require.NotContains(t, body, ingestKey)

	bill := res.Endpoints[0]
	t.Logf("walk: %s", bill.Summary)
	require.EqualValues(t, bill.Pages, sample(t, body, pages))
	require.EqualValues(t, bill.Items, sample(t, body, `congressflow_ingest_items_total{endpoint="bill"}`))
	require.EqualValues(t, bill.Inserted, sample(t, body, `congressflow_ingest_rows_total{endpoint="bill",result="inserted"}`))
	require.EqualValues(t, 6000, bill.Inserted)
	ok := sample(t, body, `congressflow_api_requests_total{endpoint="bill",result="ok"}`)
	limited := sample(t, body, `congressflow_api_requests_total{endpoint="bill",result="rate_limited"}`)
	budget := sample(t, body, `congressflow_api_requests_total{endpoint="bill",result="budget"}`)
	failed := sample(t, body, `congressflow_api_requests_total{endpoint="bill",result="error"}`)
	require.EqualValues(t, bill.Requests, ok+limited+budget+failed)
	require.EqualValues(t, bill.RateLimited, limited+budget)
	require.Positive(t, limited, "the fake answered 429")
	require.EqualValues(t, b.Fake.Responses(http.StatusTooManyRequests), limited, "every 429 counted once")
	require.Positive(t, sample(t, body, `congressflow_api_limiter_wait_seconds_total`), "requests waited after the 429s")
	require.Positive(t, sample(t, body, `congressflow_pool_acquires_total`))
	require.Positive(t, sample(t, body, `congressflow_pool_max_conns`))
	require.Positive(t, sample(t, body, `process_resident_memory_bytes`))
}

// TestHealthzFollowsTheDatabase: /healthz answers 200 while the worker
// polls and reaches PostgreSQL, 503 naming the database while it is
// stopped, and 200 again once it is back.
func TestHealthzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	addr := freeAddr(t)
	b := setupWith(t, workerapp.Config{DatabaseURL: cluster.URL("postgres"), MetricsAddr: addr})
	waitForWorker(t, b)

	health := func() (int, metrics.HealthReport) {
		code, body := get(t, addr, metrics.PathHealth)
		var rep metrics.HealthReport
		if code != 0 {
			require.NoError(t, json.Unmarshal([]byte(body), &rep), "%s", body)
		}
		return code, rep
	}
	require.Eventually(t, func() bool { code, _ := health(); return code == http.StatusOK }, time.Minute, 100*time.Millisecond)
	_, rep := health()
	require.Equal(t, map[string]string{"worker": "polling", "database": "ok", "temporal": "ok"}, rep.Checks)

	require.NoError(t, cluster.Stop(b.ctx))
	stopped := time.Now()
	require.Eventually(t, func() bool { code, _ := health(); return code == http.StatusServiceUnavailable }, 30*time.Second, 100*time.Millisecond)
	code, rep := health()
	t.Logf("database stopped: /healthz %d %v after %s", code, rep.Checks, time.Since(stopped).Round(time.Millisecond))
	require.Equal(t, metrics.StatusUnavailable, rep.Status)
	require.NotEqual(t, "ok", rep.Checks["database"])
	require.Contains(t, rep.Checks["database"], "ping postgres@")
	require.Equal(t, "polling", rep.Checks["worker"])

	require.NoError(t, cluster.Start(b.ctx))
	require.Eventually(t, func() bool { code, _ := health(); return code == http.StatusOK }, time.Minute, 200*time.Millisecond)
}
