package bench_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/bench"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// benchBundle is what every measurement needs: how often to run, how big,
// and where its result goes.
type benchBundle struct {
	count int
	quick bool
	dir   string
}

// setup skips the test unless CONGRESSFLOW_BENCH=1: timed claims stay out
// of `go test ./...` and `make test`.
func setup(t *testing.T) *benchBundle {
	t.Helper()
	if os.Getenv("CONGRESSFLOW_BENCH") != "1" {
		t.Skip("a benchmark: set CONGRESSFLOW_BENCH=1 (make bench) to run it")
	}
	b := &benchBundle{count: 3, quick: os.Getenv("BENCH_QUICK") == "1", dir: os.Getenv("BENCH_DIR")}
	if v := os.Getenv("BENCH_COUNT"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "BENCH_COUNT")
		b.count = max(n, 1)
	}
	if b.dir == "" {
		b.dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(b.dir, 0o755))
	return b
}

// size is full, or quick in quick mode.
func (b *benchBundle) size(full, quick int) int {
	if b.quick {
		return quick
	}
	return full
}

// envInt is the integer in the environment variable name, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

// record logs r and writes it for the report.
func (b *benchBundle) record(t *testing.T, r bench.Result) {
	t.Helper()
	r.Runs = len(r.Samples)
	r.Ratio = bench.Median(r.Samples)
	t.Logf("%s %s: %.3f (target %s, %s); ours %s, baseline %s; runs %v", r.ID, r.Name, r.Ratio, r.TargetText(), r.Status(),
		r.Ours, r.Baseline, r.Samples)
	require.NoError(t, r.Write(b.dir))
}

// truncate empties the endpoints' tables and the walks' bookkeeping.
func truncate(t *testing.T, s *e2e.Stack, endpoints []string) {
	t.Helper()
	tables := []string{"ops.ingest_seen", "ops.ingest_cursors", "ops.ingest_runs", "ops.sync_state"}
	for _, e := range endpoints {
		tables = append(tables, pgx.Identifier{store.CongressSchema, store.TableName(e)}.Sanitize())
	}
	_, err := s.Pool.Exec(s.Ctx, "TRUNCATE "+strings.Join(tables, ", "))
	require.NoError(t, err)
	_, err = s.Pool.Exec(s.Ctx, "CHECKPOINT")
	require.NoError(t, err)
}

// itemsPerSecond formats a throughput.
func itemsPerSecond(items int, d time.Duration) string {
	return strconv.FormatFloat(float64(items)/d.Seconds(), 'f', 0, 64) + " items/s (" + d.Round(time.Millisecond).String() + ")"
}
