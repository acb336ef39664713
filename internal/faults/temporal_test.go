package faults_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestTemporalRestart kills the Temporal dev server (SIGKILL) while a
// worker process ingests, and starts it again on the same port and the
// same SQLite file: the worker reconnects by itself, the run completes and
// the tables equal the source.
func TestTemporalRestart(t *testing.T) {
	t.Parallel()
	bills, members := size(3000, 30000), size(1000, 10000)
	s := e2e.New(t, e2e.Options{Timeout: 30 * time.Minute, DevDB: filepath.Join(t.TempDir(), "temporal.db"),
		Fake: congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"bill": bills, "member": members},
			Latency: 20 * time.Millisecond, Seed: 24}})
	t.Cleanup(func() { s.RequireNoSecrets(t, []string{e2e.Key}) })
	w := s.Spawn(t, e2e.BuildWorker(t), 1)
	exited := make(chan struct{})
	go func() { _ = w.Wait(); close(exited) }()
	t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); <-exited })
	run := s.Start(t, "faults-temporal-restart", workflows.IngestInput{Endpoints: []string{"bill", "member"}, MaxParallel: 2, PagesPerActivity: 5})

	seq0, step := s.MaxSeq(t), max(2, (bills+members)/250/4)
	require.Eventually(t, func() bool { return s.MaxSeq(t) >= seq0+step }, 10*time.Minute, 20*time.Millisecond)
	require.NoError(t, s.DevProcess.Kill())
	killedAt := s.MaxSeq(t)
	// The worker goes on with the pages it holds, then finds no server.
	time.Sleep(3 * time.Second)
	ctx, cancel := context.WithTimeout(s.Ctx, 3*time.Minute)
	require.NoError(t, s.DevProcess.Start(ctx))
	cancel()
	t.Logf("dev server killed at cursor seq %d, started again at %d", killedAt, s.MaxSeq(t))

	// The handle's long poll may have died with the server: ask again
	// until the run is done.
	var res workflows.IngestResult
	for {
		ctx, cancel := context.WithTimeout(s.Ctx, time.Minute)
		err := s.Client.GetWorkflow(ctx, run.GetID(), "").Get(ctx, &res)
		cancel()
		var failed *temporal.WorkflowExecutionError
		if err == nil || errors.As(err, &failed) || s.Ctx.Err() != nil {
			require.NoError(t, err)
			break
		}
		t.Logf("waiting for the run: %v", err)
		time.Sleep(time.Second)
	}
	t.Log(res.Summary)
	select {
	case <-exited:
		t.Fatal("the worker exited instead of reconnecting")
	default:
	}
	record(t, s, "temporal-restart", fmt.Sprintf("dev server killed once, same worker; %d retries", res.Retries), "bill", "member")
}
