package workerapp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/devserver"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/internal/workerapp"
	"github.com/opendiscourse/congressflow/workflows"
)

// ingestKey is the API key of the ingest tests: no history, log or output
// may contain it.
const ingestKey = "INGEST-TEST-KEY-7f3a9c1e5b"

// ingestBundle is a dev server, a database, a fake Congress.gov API and a
// worker (in this process) pointed at them.
type ingestBundle struct {
	ctx    context.Context
	srv    *congresstest.Server
	client client.Client
	dev    string // the dev server's address
	pool   *pgxpool.Pool
	dbURL  string
	queue  string
	log    *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ingestSetup starts the parts; with inProcess false no worker is started
// (the test runs worker processes itself). devArgs go to the dev server.
func ingestSetup(t *testing.T, opts congresstest.Options, inProcess bool, devArgs ...string) *ingestBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	if len(opts.APIKeys) == 0 {
		opts.APIKeys = []string{ingestKey}
	}
	fake := congresstest.NewServer(opts)
	t.Cleanup(fake.Close)
	dev := devserver.Start(t, devArgs...)
	dbURL := pgtest.Database(t)
	b := &ingestBundle{ctx: ctx, srv: fake, client: dev.Client(), dev: dev.FrontendHostPort(), dbURL: dbURL,
		queue: "test-" + t.Name(), log: &syncBuffer{}}
	if inProcess {
		b.startWorker(t, ingestKey)
	}
	b.pool = pgtest.MigratedPool(t, dbURL)
	t.Cleanup(func() { b.requireNoKeyAnywhere(t) })
	return b
}

// startWorker runs the real worker code in this process with key.
func (b *ingestBundle) startWorker(t *testing.T, key string) {
	t.Helper()
	cfg := workerapp.Config{
		DatabaseURL: b.dbURL, TaskQueue: b.queue, TemporalClient: b.client, StopTimeout: 5 * time.Second,
		Congress: congress.Config{BaseURL: b.srv.URL(), APIKey: key},
		// The fake has no rate limit; the budget must not be what the
		// test measures.
		APIRequestsPerHour: 10_000_000,
	}
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(b.log, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelInfo}))
	runCtx, stop := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- workerapp.Run(runCtx, cfg, logger) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})
}

func (b *ingestBundle) start(t *testing.T, id string, in workflows.IngestInput) client.WorkflowRun {
	t.Helper()
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: id, TaskQueue: b.queue}, workflows.IngestWorkflow, in)
	require.NoError(t, err)
	return run
}

// requireTablesEqualSource compares each endpoint's table with the fake's
// items: the same keys, the same data, no duplicates (the primary key).
func (b *ingestBundle) requireTablesEqualSource(t *testing.T, endpoints ...string) {
	t.Helper()
	for _, e := range endpoints {
		src, err := b.srv.Items(e)
		require.NoError(t, err)
		raws := make([]string, len(src))
		for i, it := range src {
			raws[i] = string(it.Raw)
		}
		var total, equal int
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*), count(*) FILTER (WHERE data = ANY($1::jsonb[])) FROM congress.`+
			store.TableName(e), raws).Scan(&total, &equal))
		require.Equal(t, len(src), total, "%s: rows vs source items", e)
		require.Equal(t, len(src), equal, "%s: rows whose data equals a source item", e)
		t.Logf("%s: %d source items, %d rows, all equal", e, len(src), total)
	}
}

// requireNoKeyAnywhere checks what a user can see: every workflow's
// history as `temporal workflow show --output json` prints it, and the
// worker logs.
func (b *ingestBundle) requireNoKeyAnywhere(t *testing.T) {
	t.Helper()
	require.NotContains(t, b.log.String(), ingestKey, "worker log")
	cli, err := devserver.CLIPath()
	require.NoError(t, err)
	var executions []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		page, err := b.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: "default", NextPageToken: token})
		require.NoError(t, err)
		executions = append(executions, page.GetExecutions()...)
		if token = page.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	shown := 0
	for _, info := range executions {
		ex := info.GetExecution()
		out, err := exec.Command(cli, "workflow", "show", "--address", b.dev, "--namespace", "default",
			"--workflow-id", ex.GetWorkflowId(), "--run-id", ex.GetRunId(), "--output", "json").CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.NotContains(t, string(out), ingestKey, "history of %s", ex.GetWorkflowId())
		shown++
	}
	require.Positive(t, shown)
}

// TestIngestFullWalkEqualsTheSource is `temporal workflow start --type
// IngestWorkflow --input '{}'` against 20,000 bills, 3,000 members and a
// few hundred of every other default endpoint: every table equals the
// source. The dev server suggests continuing as new early, so bill's walk
// continues as new; its histories and the parent's join the replay
// fixtures.
func TestIngestFullWalkEqualsTheSource(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 300, Items: map[string]int{"bill": 20000, "member": 3000}, Seed: 3}, true,
		"--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40")
	run := b.start(t, "ingest-default", workflows.IngestInput{PagesPerActivity: 10})
	var res workflows.IngestResult
	require.NoError(t, run.Get(b.ctx, &res))
	t.Log(res.Summary)
	b.requireTablesEqualSource(t, workflows.DefaultEndpoints...)
	require.Empty(t, res.Failed)
	require.LessOrEqual(t, float64(res.Requests), 1.25*float64(res.MinRequests), "requests vs the minimum")
	require.Len(t, res.Rows, len(workflows.DefaultEndpoints))
	require.EqualValues(t, 20000, res.Rows[0].Rows)

	var runs, complete int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'completed' AND gap = 0 AND confirmed = count_reported)
FROM ops.ingest_runs`).Scan(&runs, &complete))
	require.Equal(t, len(workflows.DefaultEndpoints), runs, "one ops.ingest_runs row per endpoint walk")
	require.Equal(t, runs, complete)

	// bill continued as new: its first run and its last both replay.
	child := run.GetID() + "-bill"
	desc, err := b.client.DescribeWorkflow(b.ctx, child, "")
	require.NoError(t, err)
	first := desc.RawResponse.WorkflowExecutionInfo.GetFirstRunId()
	last := desc.RawResponse.WorkflowExecutionInfo.GetExecution().GetRunId()
	require.NotEqual(t, first, last, "the bill walk continued as new")
	replay(t, &testBundle{ctx: b.ctx, client: b.client}, run.GetID(), run.GetRunID())
	replayAs(t, b, child, first, child+"~first-run.json")
	replayAs(t, b, child, last, child+".json")
}

// replayAs replays a run and, with -update-history, records it under name.
func replayAs(t *testing.T, b *ingestBundle, id, runID, name string) {
	t.Helper()
	tb := &testBundle{ctx: b.ctx, client: b.client}
	checkReplay(t, tb, id, runID)
	if *updateHistory {
		writeHistory(t, tb, id, runID, name)
	}
}

// TestIngestMovingSourceThenQuietRun updates and inserts items while the
// default endpoints are walked, and reorders ties on every request: every
// item that did not change during the walk is stored as served; a second
// run over the settled source makes every table equal to it.
func TestIngestMovingSourceThenQuietRun(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 600, Items: map[string]int{"bill": 4000}, Seed: 5,
		TouchEvery: 2, TouchCount: 3, InsertEvery: 3, InsertCount: 2, ShuffleTies: true}, true)
	first := b.start(t, "ingest-moving", workflows.IngestInput{MaxParallel: 6})
	var res workflows.IngestResult
	require.NoError(t, first.Get(b.ctx, &res))
	t.Log(res.Summary)
	for _, e := range workflows.DefaultEndpoints {
		src, err := b.srv.Items(e)
		require.NoError(t, err)
		var to time.Time
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT window_to FROM ops.ingest_runs WHERE endpoint = $1`, e).Scan(&to))
		var unchanged []string
		for _, it := range src {
			if start, width := it.UpdateSlot(); start.Add(width).Before(to) {
				unchanged = append(unchanged, string(it.Raw))
			}
		}
		var stored int
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM congress.`+store.TableName(e)+` WHERE data = ANY($1::jsonb[])`,
			unchanged).Scan(&stored))
		require.Equal(t, len(unchanged), stored, "%s: items unchanged during the walk, stored as served", e)
	}

	b.srv.Settle()
	second := b.start(t, "ingest-moving-again", workflows.IngestInput{MaxParallel: 6})
	require.NoError(t, second.Get(b.ctx, &res))
	t.Log(res.Summary)
	b.requireTablesEqualSource(t, workflows.DefaultEndpoints...)
}

// TestIngestThroughFaults walks the default endpoints through 10 % server
// errors (half of them HTML pages), slow pages, a count that lies by one,
// short pages and empty pages before the end: every table equals the
// source.
func TestIngestThroughFaults(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 400, Items: map[string]int{"bill": 3000}, Seed: 9,
		ServerErrorRate: 0.1, SlowRate: 0.05, SlowLatency: 2 * time.Second, CountLiesBy: 1, ShortPageEvery: 4, EmptyPageEvery: 5}, true)
	run := b.start(t, "ingest-faults", workflows.IngestInput{MaxParallel: 6})
	var res workflows.IngestResult
	require.NoError(t, run.Get(b.ctx, &res))
	t.Log(res.Summary)
	require.Positive(t, res.Retries, "the faults were met")
	require.Positive(t, b.srv.HTMLErrors())
	b.requireTablesEqualSource(t, workflows.DefaultEndpoints...)
}

// TestIngestFailsFastOnABadKey: the API rejects the key; the run fails
// within seconds, non-retryably, naming API_KEY_INVALID.
func TestIngestFailsFastOnABadKey(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 100, APIKeys: []string{"THE-ONLY-GOOD-KEY"}}, false)
	b.startWorker(t, ingestKey)
	began := time.Now()
	run := b.start(t, "ingest-bad-key", workflows.IngestInput{})
	err := run.Get(b.ctx, nil)
	took := time.Since(began)
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "got %v", err)
	require.Equal(t, congress.CodeAPIKeyInvalid, ae.Type())
	require.True(t, ae.NonRetryable())
	require.Contains(t, err.Error(), "API_KEY_INVALID")
	require.Less(t, took, 10*time.Second)
	t.Logf("failed after %s: %v", took.Round(time.Millisecond), err)
}

// TestIngestSurvivesSIGKILL runs the worker as a process of its own and
// kills it with SIGKILL twice while FetchPages runs; a new worker finishes
// the run. The tables equal the source, and the fake served no more
// requests than the walk counted plus the pages in flight when it died.
func TestIngestSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"bill": 8000, "member": 2500},
		Latency: 40 * time.Millisecond, Seed: 11}, false)
	bin := buildWorker(t)
	run := b.start(t, "ingest-sigkill", workflows.IngestInput{Endpoints: []string{"bill", "member"}, MaxParallel: 1, PagesPerActivity: 5})

	for kill := 1; kill <= 2; kill++ {
		w := b.spawn(t, bin, kill)
		// Wait until the walk is some pages further, then kill mid-way.
		seq0 := b.maxSeq(t)
		require.Eventually(t, func() bool { return b.maxSeq(t) >= seq0+4 }, 3*time.Minute, 50*time.Millisecond)
		require.NoError(t, w.Process.Signal(syscall.SIGKILL))
		_ = w.Wait()
		t.Logf("kill %d at cursor seq %d", kill, b.maxSeq(t))
	}
	w := b.spawn(t, bin, 3)
	t.Cleanup(func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() })
	var res workflows.IngestResult
	require.NoError(t, run.Get(b.ctx, &res))
	t.Log(res.Summary)
	b.requireTablesEqualSource(t, "bill", "member")
	served := b.srv.EndpointRequests("bill") + b.srv.EndpointRequests("member") + b.srv.EndpointRequests("congress")
	require.LessOrEqual(t, served-int64(res.Requests), int64(2), "only the pages in flight at the two kills were read again")
	t.Logf("fake served %d requests, the walks counted %d", served, res.Requests)
}

// buildWorker builds the worker binary once for the test.
func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/opendiscourse/congressflow/worker").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// spawn starts a worker process configured from the environment, as a
// user runs it; its log joins the bundle's.
func (b *ingestBundle) spawn(t *testing.T, bin string, n int) *exec.Cmd {
	t.Helper()
	return b.spawnWith(t, bin, n, "CONGRESS_API_REQUESTS_PER_HOUR=10000000")
}

// spawnWith is spawn with more environment.
func (b *ingestBundle) spawnWith(t *testing.T, bin string, n int, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--log-format", "json", "--log-level", "info")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+b.dbURL, "TEMPORAL_ADDRESS="+b.dev, "TEMPORAL_NAMESPACE=default",
		"CONGRESSFLOW_TASK_QUEUE="+b.queue, "CONGRESS_API_BASE_URL="+b.srv.URL(), "CONGRESS_API_KEY="+ingestKey,
		"WORKER_ACTIVITY_SLOTS=4",
		// Keep the worker's caches out of the user's home.
		fmt.Sprintf("XDG_CACHE_HOME=%s", t.TempDir()))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = b.log, b.log
	require.NoError(t, cmd.Start())
	t.Logf("worker %d: pid %d", n, cmd.Process.Pid)
	return cmd
}

// maxSeq is the furthest cursor any walk has committed.
func (b *ingestBundle) maxSeq(t *testing.T) int {
	t.Helper()
	var seq int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT coalesce(sum(seq), 0) FROM ops.ingest_cursors`).Scan(&seq))
	return seq
}
