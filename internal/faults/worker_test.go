package faults_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestWorkerSIGKILL kills the worker process with SIGKILL at random points
// of an ingest, starting a new worker each time (full: 100,000 items, 5
// kills; short: 5,000 items, 2 kills). The last worker finishes the run;
// the tables equal the source, and the fake served no more requests than
// the walks counted plus one page in flight per kill.
func TestWorkerSIGKILL(t *testing.T) {
	t.Parallel()
	bills, members, kills := size(4000, 80000), size(1000, 20000), size(2, 5)
	s := e2e.New(t, e2e.Options{Timeout: 40 * time.Minute, Fake: congresstest.Options{ItemsPerEndpoint: 1,
		Items: map[string]int{"bill": bills, "member": members}, Latency: 20 * time.Millisecond, Seed: 21}})
	t.Cleanup(func() { s.RequireNoSecrets(t, []string{e2e.Key}) })
	bin := e2e.BuildWorker(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("kill points drawn with seed %d", seed)
	// Pages of the whole walk, about: the kills are spread over its first
	// two thirds so that each one lands mid-walk.
	pages := (bills + members) / 250
	step := max(2, 2*pages/3/kills)

	run := s.Start(t, "faults-sigkill", workflows.IngestInput{Endpoints: []string{"bill", "member"}, MaxParallel: 1, PagesPerActivity: 5})
	for kill := 1; kill <= kills; kill++ {
		w := s.Spawn(t, bin, kill)
		seq0, ahead := s.MaxSeq(t), 1+rng.IntN(step)
		require.Eventually(t, func() bool { return s.MaxSeq(t) >= seq0+ahead }, 10*time.Minute, 20*time.Millisecond,
			"kill %d: the walk did not advance %d pages", kill, ahead)
		// Somewhere inside the next page, not always right after a commit.
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		require.NoError(t, w.Process.Signal(syscall.SIGKILL))
		_ = w.Wait()
		t.Logf("kill %d at cursor seq %d", kill, s.MaxSeq(t))
	}
	w := s.Spawn(t, bin, kills+1)
	t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() })
	var res workflows.IngestResult
	require.NoError(t, run.Get(s.Ctx, &res))
	t.Log(res.Summary)
	served := s.Fake.Requests()
	record(t, s, "worker-sigkill", fmt.Sprintf("%d kills; walks counted %d requests, %d read again", kills, res.Requests, served-int64(res.Requests)),
		"bill", "member")
	require.LessOrEqual(t, served-int64(res.Requests), int64(kills), "only the pages in flight at the kills were read again")
}
