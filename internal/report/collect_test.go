package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/store"
)

// secret is a value that must never reach a report.
const secret = "S3CRET-in-a-literal"

// TestCollectReadsEverySection on the shared cluster (PostgreSQL without
// pg_stat_statements preloaded): a walk recorded, a query running long and
// a session idle in its transaction.
func TestCollectReadsEverySection(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := pgtest.Database(t)
	pool := pgtest.MigratedPool(t, url)
	end := time.Now().Add(-time.Minute)
	require.NoError(t, store.SaveIngestRun(ctx, pool, store.IngestRun{WalkID: "w1", WorkflowID: "wf", RunID: "run", Endpoint: "bill",
		Mode: "full", WindowTo: end, Status: store.RunCompleted, Pages: 4, Items: 1000, Inserted: 1000, Requests: 5, MinRequests: 4,
		Retries: 1, Limited: 1, Count: 1000, Confirmed: 1000}))
	_, err := pool.Exec(ctx, `UPDATE ops.ingest_runs SET started_at = finished_at - interval '10 seconds'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)

	// One session idle in a transaction after a statement with a secret
	// literal, another running a long query.
	idle, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer idle.Close(context.WithoutCancel(ctx))
	tx, err := idle.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, fmt.Sprintf(`SELECT '%s'`, secret))
	require.NoError(t, err)
	busy, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer busy.Close(context.WithoutCancel(ctx))
	slept := make(chan error, 1)
	go func() {
		_, err := busy.Exec(ctx, fmt.Sprintf(`SELECT pg_sleep(4), '%s'`, secret))
		slept <- err
	}()
	time.Sleep(1500 * time.Millisecond)

	r, err := report.Collect(ctx, pool, report.Options{LongRunning: time.Second, IdleInTransaction: time.Second})
	require.NoError(t, err)
	require.NoError(t, <-slept)
	require.NoError(t, tx.Rollback(ctx))
	r.Summarize()
	t.Log(r.Summary)

	require.Empty(t, r.Notes)
	require.GreaterOrEqual(t, r.Server.VersionNum, 130000)
	require.True(t, strings.HasPrefix(r.Server.Database, "t_"))
	require.False(t, r.Statements.Available)
	require.Contains(t, r.Statements.Hint, "shared_preload_libraries")
	require.Contains(t, r.Statements.Hint, "starter tune --apply --restart command --extensions pg_stat_statements")

	require.Equal(t, 200, r.Connections.Max)
	require.GreaterOrEqual(t, r.Connections.Used, 3)
	require.Len(t, r.Connections.LongRunning, 1)
	require.Equal(t, "SELECT pg_sleep(4), '?'", r.Connections.LongRunning[0].Query)
	require.GreaterOrEqual(t, r.Connections.LongRunning[0].Seconds, 1.0)
	require.Len(t, r.Connections.IdleInTransaction, 1)
	require.Equal(t, "SELECT '?'", r.Connections.IdleInTransaction[0].Query)

	require.Positive(t, r.Sizes.DatabaseBytes)
	require.Equal(t, len(r.Tables), r.Sizes.Tables)
	require.GreaterOrEqual(t, len(r.Tables), 20, "a table per endpoint")
	for _, tb := range r.Tables {
		require.True(t, strings.HasPrefix(tb.Name, "congress."), tb.Name)
		require.Positive(t, tb.TotalBytes, tb.Name)
	}
	require.NotNil(t, r.Cache.HitPct)
	require.NotEmpty(t, r.UnusedIndexes, "the congress indexes were never scanned")
	require.Equal(t, "pg_stat_bgwriter", r.Checkpoints.Source)
	require.NotNil(t, r.Checkpoints.BuffersBackend)

	require.Zero(t, r.Settings.Applied)
	require.Nil(t, r.Settings.LastTune)
	require.Empty(t, r.Settings.Drift)

	require.Len(t, r.Ingest, 1)
	in := r.Ingest[0]
	require.Equal(t, "bill", in.Endpoint)
	require.Equal(t, 80.0, in.SuccessPct)
	require.Equal(t, 100.0, *in.CompletePct)
	require.Positive(t, in.ItemsPerSecond)

	raw, err := json.Marshal(r)
	require.NoError(t, err)
	require.NotContains(t, string(raw), secret)
}

// TestCollectStatementsDriftPendingAndFileErrors on a cluster of its own
// (it preloads pg_stat_statements and changes server settings): the top
// statements with their literals blanked, a setting tuning applied and
// someone changed since, one waiting for a restart, and a configuration
// line the server rejects.
func TestCollectStatementsDriftPendingAndFileErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster := pgtest.Start(t, "shared_preload_libraries = 'pg_stat_statements'")
	pool := pgtest.MigratedPool(t, cluster.URL("postgres"))
	for _, q := range []string{
		`CREATE EXTENSION pg_stat_statements`,
		`SELECT pg_stat_statements_reset()`, // the migrations' statements aside
		`CREATE ROLE reporter LOGIN PASSWORD '` + secret + `'`,
		`SELECT count(*) FROM congress.bill WHERE title = 'x'`,
		`ALTER SYSTEM SET shared_buffers = '256MB'`,
		`ALTER SYSTEM SET work_mem = '8MB'`,
		// A configuration file with an error is not applied: reload the
		// changes above before the bad line below goes in.
		`SELECT pg_reload_conf()`,
	} {
		_, err := pool.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	// Tuning applied work_mem = 16MB and max_wal_size = 2GB (still so);
	// someone set work_mem to 8MB since.
	for _, c := range []store.TuningChange{
		{Name: "work_mem", NewValue: "16MB"},
		{Name: "max_wal_size", NewValue: "1GB"},
	} {
		c.WorkflowID, c.RunID, c.Context, c.Source = "wf-tune", "tune-run", "reload", "pgtune"
		rec, err := store.RecordTuningChange(ctx, pool, c)
		require.NoError(t, err)
		require.NoError(t, store.SetTuningChangeStatus(ctx, pool, rec.ID, store.TuningApplied, ""))
	}
	// The reload is asynchronous: wait until sessions see it, or the
	// postmaster might read the file once the bad line is in.
	require.Eventually(t, func() bool {
		var wm string
		return pool.QueryRow(ctx, `SELECT current_setting('work_mem')`).Scan(&wm) == nil && wm == "8MB"
	}, 30*time.Second, 50*time.Millisecond)
	conf := filepath.Join(cluster.DataDir(), "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\nno_such_setting = 1\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = pool.Exec(ctx, `SELECT pg_reload_conf()`)
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond)

	r, err := report.Collect(ctx, pool, report.Options{Top: 50})
	require.NoError(t, err)
	r.Summarize()
	t.Log(r.Summary)
	require.Empty(t, r.Notes)

	require.True(t, r.Statements.Available, r.Statements.Hint)
	require.NotEmpty(t, r.Statements.Version)
	require.NotEmpty(t, r.Statements.Top)
	var sawBill, sawRole bool
	for _, s := range r.Statements.Top {
		t.Logf("%d calls: %s", s.Calls, s.Query)
		sawBill = sawBill || strings.Contains(s.Query, "FROM congress.bill WHERE title = $1")
		sawRole = sawRole || strings.HasPrefix(s.Query, "CREATE ROLE reporter LOGIN PASSWORD")
		require.Positive(t, s.Calls)
	}
	require.True(t, sawBill, "the statement is listed, normalised")
	require.True(t, sawRole, "the utility statement is listed, its password blanked")

	require.NotNil(t, r.Settings.LastTune)
	require.Equal(t, "tune-run", r.Settings.LastTune.RunID)
	require.Equal(t, 2, r.Settings.Applied)
	require.Equal(t, []report.Drift{{Name: "work_mem", Applied: "16MB", Running: "8MB", Source: "configuration file", RunID: "tune-run"}},
		r.Settings.Drift, "max_wal_size is as applied")
	require.Contains(t, r.Settings.PendingRestart, report.Pending{Name: "shared_buffers", Running: "128MB", Configured: "256MB"})
	require.True(t, r.Settings.FileSettingsReadable)
	require.Len(t, r.Settings.FileErrors, 1)
	require.Equal(t, "no_such_setting", r.Settings.FileErrors[0].Name)
	require.Equal(t, conf, r.Settings.FileErrors[0].File)

	raw, err := json.Marshal(r)
	require.NoError(t, err)
	require.NotContains(t, string(raw), secret)
}
