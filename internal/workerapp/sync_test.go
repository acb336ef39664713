package workerapp_test

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// watermarks returns every endpoint's watermark across congresses.
func (b *ingestBundle) watermarks(t *testing.T) map[string]time.Time {
	t.Helper()
	rows, err := b.Pool.Query(b.Ctx, `SELECT endpoint, watermark FROM ops.sync_state WHERE congress = 0`)
	require.NoError(t, err)
	out := map[string]time.Time{}
	for rows.Next() {
		var e string
		var w time.Time
		require.NoError(t, rows.Scan(&e, &w))
		out[e] = w
	}
	require.NoError(t, rows.Err())
	return out
}

// TestIncrementalSyncAfterAFullRun: after a full run, 100 bills change and
// 50 are added; an incremental run reports exactly that, leaves the rest
// untouched, costs a small fraction of the full run's requests, advances
// every watermark, and the tables equal the source.
func TestIncrementalSyncAfterAFullRun(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 300, Items: map[string]int{"bill": 3000}, Seed: 21}, true)
	full := b.Start(t, "ingest-full-then-incremental", workflows.IngestInput{})
	var first workflows.IngestResult
	require.NoError(t, full.Get(b.Ctx, &first))
	marks := b.watermarks(t)
	require.Len(t, marks, len(workflows.DefaultEndpoints), "a full run sets every endpoint's watermark")

	time.Sleep(1100 * time.Millisecond) // changes land after the watermark's second
	_, err := b.Fake.Touch("bill", 100)
	require.NoError(t, err)
	_, err = b.Fake.Insert("bill", 50)
	require.NoError(t, err)

	inc := b.Start(t, "ingest-incremental", workflows.IngestInput{Mode: "incremental"})
	var res workflows.IngestResult
	require.NoError(t, inc.Get(b.Ctx, &res))
	t.Logf("full: %s", first.Summary)
	t.Logf("incremental: %s", res.Summary)
	for _, e := range res.Endpoints {
		t.Logf("  %s [%s, window %s … %s]", e.Summary, e.Mode, e.WindowFrom.Format(time.RFC3339), e.WindowTo.Format(time.RFC3339))
		require.Equal(t, "incremental", e.Mode, e.Endpoint)
		if e.Endpoint == "bill" {
			require.EqualValues(t, 50, e.Inserted)
			require.EqualValues(t, 100, e.Updated)
			continue
		}
		if e.Endpoint == "law" {
			require.Greater(t, e.Lists, 1, "law walks the congresses whose bills changed, not only the current one")
		}
		require.Zero(t, e.Inserted+e.Updated, "%s is untouched", e.Endpoint)
	}
	require.Less(t, float64(res.Requests), 0.25*float64(first.Requests), "an incremental run costs a fraction of a full one")
	after := b.watermarks(t)
	for e, m := range marks {
		require.True(t, after[e].After(m), "%s: the watermark advances", e)
	}
	b.RequireTablesEqualSource(t, workflows.DefaultEndpoints...)

	// A quiet hour later (nothing changed): a few dozen requests at most.
	quiet := b.Start(t, "ingest-quiet", workflows.IngestInput{Mode: "incremental"})
	require.NoError(t, quiet.Get(b.Ctx, &res))
	t.Logf("quiet: %s", res.Summary)
	require.LessOrEqual(t, res.Requests, 40)
	require.Zero(t, res.Inserted+res.Updated)
}

// TestWatermarkNeverPassesAnUnfinishedWindow kills the worker during an
// incremental walk: the watermark stays where it was until a new worker
// finishes the walk, then moves to the walk's window end.
func TestWatermarkNeverPassesAnUnfinishedWindow(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"bill": 4000}, Latency: 30 * time.Millisecond, Seed: 23}, false)
	bin := e2e.BuildWorker(t)
	w := b.Spawn(t, bin, 1)
	full := b.Start(t, "ingest-before-kill", workflows.IngestInput{Endpoints: []string{"bill"}})
	require.NoError(t, full.Get(b.Ctx, nil))
	before := b.watermarks(t)["bill"]
	require.False(t, before.IsZero())

	time.Sleep(1100 * time.Millisecond)
	_, err := b.Fake.Touch("bill", 2500) // an incremental window of ten pages
	require.NoError(t, err)
	run := b.Start(t, "ingest-killed", workflows.IngestInput{Endpoints: []string{"bill"}, Mode: "incremental", PagesPerActivity: 3})
	var walk string
	require.Eventually(t, func() bool {
		return b.Pool.QueryRow(b.Ctx, `SELECT walk_id FROM ops.ingest_cursors c JOIN ops.ingest_runs r USING (walk_id)
WHERE r.mode = 'incremental' AND c.seq >= 4`).Scan(&walk) == nil
	}, 2*time.Minute, 20*time.Millisecond)
	require.NoError(t, w.Process.Signal(syscall.SIGKILL))
	_ = w.Wait()
	require.Equal(t, before, b.watermarks(t)["bill"], "killed mid-walk: the watermark has not moved")

	w = b.Spawn(t, bin, 2)
	t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() })
	require.NoError(t, run.Get(b.Ctx, nil))
	var to time.Time
	require.NoError(t, b.Pool.QueryRow(b.Ctx, `SELECT window_to FROM ops.ingest_runs WHERE walk_id = $1`, walk).Scan(&to))
	require.Equal(t, to, b.watermarks(t)["bill"], "finished: the watermark is the walk's window end")
	b.RequireTablesEqualSource(t, "bill")
}

// TestSharedBudgetHoldsTheRate: a fake enforcing 5 requests a second (300
// in any rolling minute) and one or two worker processes on one key ingest
// everything with no 429, using most of the rate. The speed targets (98 %
// with one process, 95 % with two) are measured by make bench (P3), away
// from the load of the other tests; here a loose floor only catches a
// budget that starves its workers.
func TestSharedBudgetHoldsTheRate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		procs int
		min   float64
	}{{1, 0.8}, {2, 0.8}} {
		t.Run(map[int]string{1: "one process", 2: "two processes"}[tt.procs], func(t *testing.T) {
			t.Parallel()
			const perMinute = 300
			b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 300, Items: map[string]int{"bill": 20000, "member": 3000},
				RateLimit: perMinute, RateWindow: time.Minute, Seed: 25}, false)
			bin := e2e.BuildWorker(t)
			for i := range tt.procs {
				w := b.Spawn(t, bin, i+1, "CONGRESS_API_RATE_WINDOW=1m", "CONGRESS_API_REQUESTS_PER_HOUR=300")
				t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() })
			}
			run := b.Start(t, "ingest-budget", workflows.IngestInput{MaxParallel: 6, PagesPerActivity: 100})
			var res workflows.IngestResult
			require.NoError(t, run.Get(b.Ctx, &res))
			b.RequireTablesEqualSource(t, workflows.DefaultEndpoints...)
			first, last := b.Fake.RequestSpan()
			n, achieved := b.Fake.Requests(), b.Fake.RequestRate()
			ratio := achieved / (perMinute / 60.0)
			t.Logf("%d process(es): %d requests in %s: %.3f requests/s, %.3f of the allowed 5/s; 429s: %d",
				tt.procs, n, last.Sub(first).Round(time.Millisecond), achieved, ratio, b.Fake.Responses(http.StatusTooManyRequests))
			require.Zero(t, b.Fake.Responses(http.StatusTooManyRequests), "no 429")
			require.GreaterOrEqual(t, ratio, tt.min)
			require.Len(t, b.workers(t, run.GetID()), tt.procs, "every process took part")
		})
	}
}

// workers returns the identities of the workers that ran the activities of
// an IngestWorkflow's endpoint walks.
func (b *ingestBundle) workers(t *testing.T, id string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range workflows.DefaultEndpoints {
		iter := b.Client.GetWorkflowHistory(b.Ctx, id+"-"+e, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
				seen[a.GetIdentity()] = true
			}
		}
	}
	return seen
}
