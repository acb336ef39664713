package bench_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/bench"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestBenchP1Orchestration ingests 100,000 items of five endpoints from the
// fake (no rate limit) through a worker process and the dev server, and
// with [bench.Loop] (the same client and store code without Temporal),
// alternately, into emptied tables. The ratio is throughput ours/baseline.
func TestBenchP1Orchestration(t *testing.T) {
	b := setup(t)
	scale := b.size(1, 10)
	items := map[string]int{"bill": 50000 / scale, "amendment": 20000 / scale, "member": 10000 / scale,
		"summaries": 10000 / scale, "nomination": 10000 / scale}
	endpoints := []string{"bill", "amendment", "member", "summaries", "nomination"}
	total := 0
	for _, n := range items {
		total += n
	}
	pages := envInt(t, "BENCH_P1_PAGES", 100)
	parallel := envInt(t, "BENCH_P1_PARALLEL", len(endpoints))
	slots := envInt(t, "BENCH_P1_SLOTS", len(endpoints))

	s := e2e.New(t, e2e.Options{Fake: congresstest.Options{ItemsPerEndpoint: 1, Items: items, Seed: 31}, Timeout: time.Hour})
	bin := e2e.BuildWorker(t)
	w := s.Spawn(t, bin, 1, fmt.Sprintf("WORKER_ACTIVITY_SLOTS=%d", slots))
	t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() })
	s.WaitPolling(t, 1)
	api, err := congress.New(congress.Config{BaseURL: s.Fake.URL(), APIKey: e2e.Key, Limiter: bench.Unlimited{}})
	require.NoError(t, err)
	// The loop gets a pool as large as the worker's (one connection per
	// walk and then some), so it never waits for a connection.
	loopPool, err := store.Open(s.Ctx, store.PoolConfig{URL: s.DBURL, MaxConns: int32(parallel + 2)})
	require.NoError(t, err)
	t.Cleanup(loopPool.Close)

	checkRows := func() {
		rows, err := store.TableRows(s.Ctx, s.Pool, endpoints)
		require.NoError(t, err)
		for _, e := range endpoints {
			require.EqualValues(t, items[e], rows[e], e)
		}
	}
	var ours, base []time.Duration
	var samples []float64
	for run := range b.count {
		truncate(t, s, endpoints)
		began := time.Now()
		st, err := bench.Loop(s.Ctx, loopPool, api, endpoints, congress.MaxLimit, parallel)
		require.NoError(t, err)
		base = append(base, time.Since(began))
		checkRows()

		truncate(t, s, endpoints)
		began = time.Now()
		wf := s.Start(t, fmt.Sprintf("bench-p1-%d", run), workflows.IngestInput{Endpoints: endpoints,
			PagesPerActivity: pages, MaxParallel: parallel})
		var res workflows.IngestResult
		require.NoError(t, wf.Get(s.Ctx, &res))
		ours = append(ours, time.Since(began))
		checkRows()
		samples = append(samples, base[run].Seconds()/ours[run].Seconds())
		t.Logf("run %d: baseline %s (%d requests), ours %s (%d requests)", run+1, base[run], st.Requests, ours[run], res.Requests)
	}
	b.record(t, bench.Result{ID: "P1", Name: "orchestration overhead (throughput ours/baseline)", Target: 0.90, AtLeast: true,
		Samples: samples, Ours: itemsPerSecond(total, bench.MedianDuration(ours)), Baseline: itemsPerSecond(total, bench.MedianDuration(base)),
		Settings: fmt.Sprintf("%d items (%v); pages_per_activity %d, max_parallel %d, worker activity slots %d, page size %d; worker process + dev server vs plain Go loop",
			total, items, pages, parallel, slots, congress.MaxLimit)})
}
