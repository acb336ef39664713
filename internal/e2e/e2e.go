// Package e2e assembles the real parts of an ingest for integration tests,
// the fault suite and the benchmarks: a Temporal dev server, a fresh
// PostgreSQL database, the fake Congress.gov API and workers, in this
// process or as processes of their own. It also holds the checks every one
// of them ends with: the tables against the fake's ground truth, and no
// secret anywhere a user can look.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/devserver"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/internal/workerapp"
	"github.com/opendiscourse/congressflow/workflows"
)

// Key is the API key the fake accepts by default: no history, log or
// output may contain it.
const Key = "INGEST-TEST-KEY-7f3a9c1e5b"

// Stack is a dev server, a database and a fake Congress.gov API; workers
// join it with StartWorker (in this process) or Spawn (a process).
type Stack struct {
	Ctx    context.Context
	Fake   *congresstest.Server
	Client client.Client
	Dev    string // the dev server's host:port
	Pool   *pgxpool.Pool
	DBURL  string
	Queue  string
	Log    *SyncBuffer // every worker's log
	Out    *SyncBuffer // what every starter and CLI run printed
	// DevProcess is the dev server when Options.DevDB asked for one that
	// can be killed and started again; nil otherwise.
	DevProcess *devserver.Process
}

// Options choose the parts of a Stack.
type Options struct {
	Fake congresstest.Options
	// DevArgs go to `temporal server start-dev`.
	DevArgs []string
	// DevDB, when set, runs the dev server as a process on a fixed port
	// with its state in this SQLite file (Stack.DevProcess), so that a
	// test can kill it and start it again.
	DevDB string
	// DatabaseURL, when set, is used instead of a fresh database of the
	// shared test cluster.
	DatabaseURL string
	// Timeout bounds the whole test; 10 minutes when zero.
	Timeout time.Duration
}

// New starts the parts and stops them when the test ends.
func New(t testing.TB, opts Options) *Stack {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	t.Cleanup(cancel)
	if len(opts.Fake.APIKeys) == 0 {
		opts.Fake.APIKeys = []string{Key}
	}
	fake := congresstest.NewServer(opts.Fake)
	t.Cleanup(fake.Close)
	dbURL := opts.DatabaseURL
	if dbURL == "" {
		dbURL = pgtest.Database(t)
	}
	s := &Stack{Ctx: ctx, Fake: fake, DBURL: dbURL,
		Queue: "test-" + strings.ReplaceAll(t.Name(), "/", "-"), Log: &SyncBuffer{}, Out: &SyncBuffer{}}
	if opts.DevDB != "" {
		s.DevProcess = devserver.StartProcess(t, opts.DevDB, nil, opts.DevArgs...)
		s.Dev = s.DevProcess.HostPort()
		c, err := client.DialContext(ctx, client.Options{HostPort: s.Dev, Namespace: "default",
			Logger: tlog.NewStructuredLogger(slog.New(slog.NewJSONHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))})
		if err != nil {
			t.Fatalf("dial the dev server: %v", err)
		}
		t.Cleanup(c.Close)
		s.Client = c
	} else {
		dev := devserver.Start(t, opts.DevArgs...)
		s.Client, s.Dev = dev.Client(), dev.FrontendHostPort()
	}
	s.Pool = pgtest.MigratedPool(t, dbURL)
	return s
}

// StartWorker runs the real worker code in this process with key until
// the test ends.
func (s *Stack) StartWorker(t testing.TB, key string) {
	t.Helper()
	cfg := workerapp.Config{
		DatabaseURL: s.DBURL, TaskQueue: s.Queue, TemporalClient: s.Client, StopTimeout: 5 * time.Second,
		Congress: congress.Config{BaseURL: s.Fake.URL(), APIKey: key},
		// The fake has no rate limit unless a test sets one; the budget
		// must not be what a test measures.
		APIRequestsPerHour: 10_000_000,
	}
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(s.Log, testLog{t}), &slog.HandlerOptions{Level: slog.LevelInfo}))
	runCtx, stop := context.WithCancel(s.Ctx)
	done := make(chan error, 1)
	go func() { done <- workerapp.Run(runCtx, cfg, logger) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

// Start starts an IngestWorkflow on the stack's task queue.
func (s *Stack) Start(t testing.TB, id string, in workflows.IngestInput) client.WorkflowRun {
	t.Helper()
	run, err := s.Client.ExecuteWorkflow(s.Ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.Queue}, workflows.IngestWorkflow, in)
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	return run
}

// Comparison is one endpoint's table against the fake's items.
type Comparison struct {
	Endpoint string
	Source   int // items the fake holds
	Rows     int // rows in the table
	Equal    int // rows whose data equals a source item
	Distinct int // distinct data among the rows: Rows minus duplicates
}

// OK says the table is the source: the same number of rows, each one an
// item as served, no key twice.
func (c Comparison) OK() bool {
	return c.Rows == c.Source && c.Equal == c.Source && c.Distinct == c.Rows
}

func (c Comparison) String() string {
	return fmt.Sprintf("%s: %d source items, %d rows, %d equal, %d duplicates", c.Endpoint, c.Source, c.Rows, c.Equal, c.Rows-c.Distinct)
}

// Compare compares each endpoint's table with the fake's items.
func (s *Stack) Compare(t testing.TB, endpoints ...string) []Comparison {
	t.Helper()
	var out []Comparison
	for _, e := range endpoints {
		src, err := s.Fake.Items(e)
		if err != nil {
			t.Fatalf("%s: source items: %v", e, err)
		}
		raws := make([]string, len(src))
		for i, it := range src {
			raws[i] = string(it.Raw)
		}
		c := Comparison{Endpoint: e, Source: len(src)}
		// The primary key is the natural key, so no key is stored twice;
		// one item stored under two keys shows as data counted twice.
		if err := s.Pool.QueryRow(s.Ctx, `SELECT count(*), count(*) FILTER (WHERE data = ANY($1::jsonb[])), count(DISTINCT data)
FROM congress.`+store.TableName(e), raws).Scan(&c.Rows, &c.Equal, &c.Distinct); err != nil {
			t.Fatalf("%s: compare: %v", e, err)
		}
		out = append(out, c)
	}
	return out
}

// RequireTablesEqualSource fails the test unless every endpoint's table
// equals the fake's items.
func (s *Stack) RequireTablesEqualSource(t testing.TB, endpoints ...string) {
	t.Helper()
	for _, c := range s.Compare(t, endpoints...) {
		if !c.OK() {
			t.Fatalf("table differs from the source: %s", c)
		}
		t.Logf("%s", c)
	}
}

// RequireUnchangedStored fails the test unless every item of each
// endpoint that did not change during its last walk (its update slot ends
// before the walk's frozen window end) is stored exactly as served: what
// a walk of a moving source must hold before any second run.
func (s *Stack) RequireUnchangedStored(t testing.TB, endpoints ...string) {
	t.Helper()
	for _, e := range endpoints {
		src, err := s.Fake.Items(e)
		if err != nil {
			t.Fatalf("%s: source items: %v", e, err)
		}
		var to time.Time
		if err := s.Pool.QueryRow(s.Ctx, `SELECT max(window_to) FROM ops.ingest_runs WHERE endpoint = $1`, e).Scan(&to); err != nil {
			t.Fatalf("%s: the walk's window: %v", e, err)
		}
		var unchanged []string
		for _, it := range src {
			if start, width := it.UpdateSlot(); start.Add(width).Before(to) {
				unchanged = append(unchanged, string(it.Raw))
			}
		}
		var stored int
		if err := s.Pool.QueryRow(s.Ctx, `SELECT count(*) FROM congress.`+store.TableName(e)+` WHERE data = ANY($1::jsonb[])`,
			unchanged).Scan(&stored); err != nil {
			t.Fatalf("%s: compare: %v", e, err)
		}
		if stored != len(unchanged) {
			t.Errorf("%s: %d of %d items unchanged during the walk are stored as served; not stored: %s",
				e, stored, len(unchanged), s.missing(t, e, src, to))
			continue
		}
		t.Logf("%s: all %d items unchanged during the walk stored as served (%d in the source now)", e, stored, len(src))
	}
}

// missing names up to ten items unchanged before to that are not stored
// as served, with their update times.
func (s *Stack) missing(t testing.TB, endpoint string, src []congress.Item, to time.Time) string {
	t.Helper()
	var raws []string
	byRaw := map[string]congress.Item{}
	for _, it := range src {
		if start, width := it.UpdateSlot(); start.Add(width).Before(to) {
			raws = append(raws, string(it.Raw))
			byRaw[string(it.Raw)] = it
		}
	}
	rows, err := s.Pool.Query(s.Ctx, `SELECT r FROM unnest($1::text[]) AS r
WHERE NOT EXISTS (SELECT FROM congress.`+store.TableName(endpoint)+` WHERE data = r::jsonb) LIMIT 10`, raws)
	if err != nil {
		t.Fatalf("%s: %v", endpoint, err)
	}
	gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", endpoint, err)
	}
	out := make([]string, len(gone))
	for i, raw := range gone {
		it := byRaw[raw]
		out[i] = fmt.Sprintf("%s (updated %s)", it.Key, it.UpdateDate.Format(time.RFC3339))
	}
	return strings.Join(out, ", ")
}

// RequireNoSecrets checks what a user can see for each secret: every
// workflow's history as `temporal workflow show --output json` prints it,
// the worker logs, what starters and CLI runs printed (Stack.Out) and the
// extra texts given. It
// returns the number of histories read.
func (s *Stack) RequireNoSecrets(t testing.TB, secrets []string, extra ...string) int {
	t.Helper()
	texts := append([]string{s.Log.String(), s.Out.String()}, extra...)
	for _, secret := range secrets {
		for i, text := range texts {
			if n := strings.Count(text, secret); n > 0 {
				t.Errorf("a secret appears %d times in log %d", n, i)
			}
		}
	}
	cli, err := devserver.CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	var executions []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		page, err := s.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: "default", NextPageToken: token})
		if err != nil {
			t.Fatalf("list workflows: %v", err)
		}
		executions = append(executions, page.GetExecutions()...)
		if token = page.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	for _, info := range executions {
		ex := info.GetExecution()
		out, err := exec.Command(cli, "workflow", "show", "--address", s.Dev, "--namespace", "default",
			"--workflow-id", ex.GetWorkflowId(), "--run-id", ex.GetRunId(), "--output", "json").CombinedOutput()
		if err != nil {
			t.Fatalf("temporal workflow show %s: %v\n%s", ex.GetWorkflowId(), err, out)
		}
		for _, secret := range secrets {
			if strings.Contains(string(out), secret) {
				t.Errorf("a secret appears in the history of %s", ex.GetWorkflowId())
			}
		}
	}
	if len(executions) == 0 {
		t.Error("no workflow history to check")
	}
	return len(executions)
}

// BuildWorker builds the worker binary for the test.
func BuildWorker(t testing.TB) string {
	t.Helper()
	return build(t, "worker")
}

// build builds the project's command name (worker, starter) into the
// test's temporary directory.
func build(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, "github.com/opendiscourse/congressflow/"+name).CombinedOutput()
	if err != nil {
		t.Fatalf("build the %s: %v\n%s", name, err, out)
	}
	return bin
}

// Spawn starts a worker process configured from the environment, as a
// user runs it, with the fake's key and no budget to speak of; env adds to
// or overrides that environment. Its log joins the stack's.
func (s *Stack) Spawn(t testing.TB, bin string, n int, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--log-format", "json", "--log-level", "info")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+s.DBURL, "TEMPORAL_ADDRESS="+s.Dev, "TEMPORAL_NAMESPACE=default",
		"CONGRESSFLOW_TASK_QUEUE="+s.Queue, "CONGRESS_API_BASE_URL="+s.Fake.URL(), "CONGRESS_API_KEY="+Key,
		"CONGRESS_API_REQUESTS_PER_HOUR=10000000", "WORKER_ACTIVITY_SLOTS=4",
		// Keep the worker's caches out of the user's home.
		"XDG_CACHE_HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
	if err := cmd.Start(); err != nil {
		t.Fatalf("worker %d: %v", n, err)
	}
	t.Logf("worker %d: pid %d", n, cmd.Process.Pid)
	return cmd
}

// MaxSeq is the sum of the cursors every walk has committed: it grows with
// each page stored.
func (s *Stack) MaxSeq(t testing.TB) int {
	t.Helper()
	var seq int
	if err := s.Pool.QueryRow(s.Ctx, `SELECT coalesce(sum(seq), 0) FROM ops.ingest_cursors`).Scan(&seq); err != nil {
		t.Fatalf("cursors: %v", err)
	}
	return seq
}

// SyncBuffer is a bytes.Buffer safe for the writers of several workers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLog sends a log line to the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}
