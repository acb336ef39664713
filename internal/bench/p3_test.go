package bench_test

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/bench"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestBenchP3RateBudget: the fake enforces 300 requests in any rolling
// minute (5/s) per key; one or two worker processes on one key, sharing the
// budget in PostgreSQL, walk the default endpoints (about a minute of
// requests). The ratio is the achieved rate over the allowed one, with no
// 429.
func TestBenchP3RateBudget(t *testing.T) {
	b := setup(t)
	const perMinute = 300
	bills := b.size(60000, 10000)
	bin := e2e.BuildWorker(t)
	for _, tt := range []struct {
		id    string
		procs int
		min   float64
	}{{"P3a", 1, 0.98}, {"P3b", 2, 0.95}} {
		var samples, rates []float64
		var requests []float64
		var limited int64
		for run := range b.count {
			t.Run(fmt.Sprintf("%d-procs-run-%d", tt.procs, run+1), func(t *testing.T) {
				s := e2e.New(t, e2e.Options{Fake: congresstest.Options{ItemsPerEndpoint: 300, Items: map[string]int{"bill": bills},
					RateLimit: perMinute, RateWindow: time.Minute, Seed: int64(51 + run)}, Timeout: 20 * time.Minute})
				for i := range tt.procs {
					w := s.Spawn(t, bin, i+1, "CONGRESS_API_RATE_WINDOW=1m", fmt.Sprintf("CONGRESS_API_REQUESTS_PER_HOUR=%d", perMinute))
					t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() })
				}
				s.WaitPolling(t, tt.procs)
				wf := s.Start(t, "bench-p3", workflows.IngestInput{MaxParallel: 6, PagesPerActivity: 100})
				var res workflows.IngestResult
				require.NoError(t, wf.Get(s.Ctx, &res))
				s.RequireTablesEqualSource(t, workflows.DefaultEndpoints...)
				n, achieved := s.Fake.Requests(), s.Fake.RequestRate()
				samples = append(samples, achieved/(perMinute/60.0))
				rates = append(rates, achieved)
				requests = append(requests, float64(n))
				limited += s.Fake.Responses(http.StatusTooManyRequests)
				t.Logf("%d process(es): %d requests, %.3f/s", tt.procs, n, achieved)
			})
		}
		r := bench.Result{ID: tt.id, Name: fmt.Sprintf("rate budget, %d worker process(es) (achieved/allowed)", tt.procs),
			Target: tt.min, AtLeast: true, Samples: samples,
			Ours:     fmt.Sprintf("%.3f req/s (%.0f requests), %d × 429", bench.Median(rates), bench.Median(requests), limited),
			Baseline: fmt.Sprintf("%.3f req/s allowed (%d per rolling minute)", perMinute/60.0, perMinute),
			Settings: fmt.Sprintf("default endpoints, %d bills + 300 items per other endpoint; max_parallel 6, pages_per_activity 100", bills)}
		if limited > 0 {
			r.Note = fmt.Sprintf("%d responses were 429", limited)
			r.Samples = append([]float64(nil), 0) // a 429 fails the claim
		}
		b.record(t, r)
	}
}
