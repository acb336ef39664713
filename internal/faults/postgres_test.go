package faults_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestPostgresRestart restarts PostgreSQL (pg_ctl restart -m fast) twice
// while a worker process ingests into it. The cluster is the test's own,
// so no other test sees the restarts. The run completes and the tables
// equal the source.
func TestPostgresRestart(t *testing.T) {
	t.Parallel()
	const restarts = 2
	bills, members := size(4000, 40000), size(1000, 10000)
	cluster := pgtest.Start(t)
	s := e2e.New(t, e2e.Options{Timeout: 30 * time.Minute, DatabaseURL: cluster.URL("postgres"), Fake: congresstest.Options{
		ItemsPerEndpoint: 1, Items: map[string]int{"bill": bills, "member": members}, Latency: 20 * time.Millisecond, Seed: 22}})
	t.Cleanup(func() { s.RequireNoSecrets(t, []string{e2e.Key}) })
	w := s.Spawn(t, e2e.BuildWorker(t), 1)
	t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() })
	run := s.Start(t, "faults-pg-restart", workflows.IngestInput{Endpoints: []string{"bill", "member"}, MaxParallel: 2, PagesPerActivity: 5})

	step := max(2, (bills+members)/250/(restarts+2))
	for i := 1; i <= restarts; i++ {
		seq0 := s.MaxSeq(t)
		require.Eventually(t, func() bool { return s.MaxSeq(t) >= seq0+step }, 10*time.Minute, 20*time.Millisecond,
			"restart %d: the walk did not advance %d pages", i, step)
		ctx, cancel := context.WithTimeout(s.Ctx, 2*time.Minute)
		require.NoError(t, cluster.Restart(ctx), "restart %d", i)
		cancel()
		// The test's own connections died with the server; the worker's
		// must find that out themselves.
		s.Pool.Reset()
		t.Logf("restart %d at cursor seq %d", i, s.MaxSeq(t))
	}
	var res workflows.IngestResult
	require.NoError(t, run.Get(s.Ctx, &res))
	t.Log(res.Summary)
	record(t, s, "postgres-restart", fmt.Sprintf("%d restarts; %d retries", restarts, res.Retries), "bill", "member")
}
