package bench_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/bench"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestBenchP4Memory ingests 100,000 and then 1,000,000 bills, each run with
// a fresh worker process, and reads the process's peak RSS (VmHWM) when the
// ingest is done. The ratio is peak at 1M over peak at 100k.
func TestBenchP4Memory(t *testing.T) {
	b := setup(t)
	small, large := b.size(100000, 20000), b.size(1000000, 200000)
	bin := e2e.BuildWorker(t)
	peaks := map[int][]float64{}
	for _, n := range []int{small, large} {
		t.Run(fmt.Sprintf("%d-items", n), func(t *testing.T) {
			s := e2e.New(t, e2e.Options{Fake: congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"bill": n}, Seed: 61},
				Timeout: time.Hour})
			for run := range b.count {
				truncate(t, s, []string{"bill"})
				w := s.Spawn(t, bin, run+1)
				s.WaitPolling(t, run+1)
				began := time.Now()
				wf := s.Start(t, fmt.Sprintf("bench-p4-%d-%d", n, run), workflows.IngestInput{Endpoints: []string{"bill"}})
				var res workflows.IngestResult
				require.NoError(t, wf.Get(s.Ctx, &res))
				peak, err := bench.PeakRSS(w.Process.Pid)
				require.NoError(t, err)
				require.NoError(t, w.Process.Signal(syscall.SIGTERM))
				_ = w.Wait()
				require.EqualValues(t, n, res.Rows[0].Rows)
				peaks[n] = append(peaks[n], float64(peak))
				t.Logf("%d items in %s: peak RSS %.1f MiB", n, time.Since(began).Round(time.Millisecond), float64(peak)/(1<<20))
			}
		})
	}
	var samples []float64
	for i := range peaks[large] {
		samples = append(samples, peaks[large][i]/peaks[small][i])
	}
	mib := func(xs []float64) string { return fmt.Sprintf("%.1f MiB peak RSS", bench.Median(xs)/(1<<20)) }
	b.record(t, bench.Result{ID: "P4", Name: fmt.Sprintf("worker peak RSS, %dk vs %dk items (ratio)", large/1000, small/1000),
		Target: 1.10, AtLeast: false, Samples: samples, Ours: mib(peaks[large]), Baseline: mib(peaks[small]),
		Settings: "bill only, defaults (pages_per_activity 20, max_parallel 4); a fresh worker process per run; VmHWM after the ingest"})
}
