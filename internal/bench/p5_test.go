package bench_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/bench"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestBenchP5Requests walks the default endpoints with the defaults and
// compares the requests used with the minimum (ceil(items/250) per list the
// API forces): over a quiet source, and over one that moves during the walk
// (items updated and inserted, ties reordered on every request).
func TestBenchP5Requests(t *testing.T) {
	b := setup(t)
	bills := b.size(20000, 5000)
	for _, tt := range []struct {
		id, name string
		moving   bool
	}{{"P5a", "clean full walk", false}, {"P5b", "moving source", true}} {
		var samples, used, least []float64
		for run := range b.count {
			t.Run(fmt.Sprintf("%s-run-%d", tt.id, run+1), func(t *testing.T) {
				opts := congresstest.Options{ItemsPerEndpoint: 1000, Items: map[string]int{"bill": bills}, Seed: int64(71 + run)}
				if tt.moving {
					opts.TouchEvery, opts.TouchCount, opts.InsertEvery, opts.InsertCount, opts.ShuffleTies = 2, 3, 3, 2, true
				}
				s := e2e.New(t, e2e.Options{Fake: opts, Timeout: 20 * time.Minute})
				s.StartWorker(t, e2e.Key)
				wf := s.Start(t, "bench-p5", workflows.IngestInput{})
				var res workflows.IngestResult
				require.NoError(t, wf.Get(s.Ctx, &res))
				require.Empty(t, res.Failed)
				if !tt.moving {
					s.RequireTablesEqualSource(t, workflows.DefaultEndpoints...)
				}
				samples = append(samples, float64(res.Requests)/float64(res.MinRequests))
				used = append(used, float64(res.Requests))
				least = append(least, float64(res.MinRequests))
				t.Logf("%s: %d requests, minimum %d", tt.name, res.Requests, res.MinRequests)
			})
		}
		b.record(t, bench.Result{ID: tt.id, Name: "requests vs the minimum, " + tt.name, Target: 1.25, AtLeast: false,
			Samples: samples, Ours: fmt.Sprintf("%.0f requests", bench.Median(used)), Baseline: fmt.Sprintf("%.0f requests (minimum)", bench.Median(least)),
			Settings: fmt.Sprintf("default endpoints, %d bills + 1,000 items per other endpoint; input {} (defaults)", bills)})
	}
}
