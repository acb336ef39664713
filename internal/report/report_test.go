package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestCleanQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "normalised", in: "SELECT * FROM congress.bill WHERE congress = $1", want: "SELECT * FROM congress.bill WHERE congress = $1"},
		{name: "password", in: "ALTER ROLE app PASSWORD 'S3CRET'", want: "ALTER ROLE app PASSWORD '?'"},
		{name: "doubled quote", in: "SELECT 'it''s', 1", want: "SELECT '?', 1"},
		{name: "escape string", in: `SELECT E'a\'b' AS x`, want: "SELECT '?' AS x"},
		{name: "identifier ending in e", in: "SELECT name FROM t WHERE name='x'", want: "SELECT name FROM t WHERE name='?'"},
		{name: "dollar quoted", in: "DO $$ BEGIN PERFORM 1; END $$; SELECT $tag$secret$tag$", want: "DO '?'; SELECT '?'"},
		{name: "parameters stay", in: "SELECT $1, $2", want: "SELECT $1, $2"},
		{name: "unterminated", in: "SELECT 'abc", want: "SELECT '?'"},
		{name: "whitespace", in: "SELECT\n\t  1\n  FROM   t", want: "SELECT 1 FROM t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, report.CleanQuery(tt.in))
		})
	}
	long := report.CleanQuery("SELECT " + strings.Repeat("x, ", 200))
	require.Equal(t, 300, len([]rune(long)))
	require.True(t, strings.HasSuffix(long, "…"))
}

func TestEstimateBloat(t *testing.T) {
	t.Parallel()
	// 8 kB pages: (8192-24)/(ceil(100/8)*8+28) = 61 rows of 100 bytes a page.
	tests := []struct {
		name      string
		heap, est int64
		width     float64
		want      *float64
	}{
		{name: "packed", heap: 100 * 8192, est: 6100, width: 100, want: ptr(0.0)},
		{name: "half empty", heap: 200 * 8192, est: 6100, width: 100, want: ptr(50.0)},
		{name: "never analysed", heap: 8192, est: -1, width: 100},
		{name: "no width", heap: 8192, est: 10},
		{name: "empty heap", heap: 0, est: 0, width: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, report.EstimateBloat(tt.heap, tt.est, tt.width, 8192))
		})
	}
}

func ptr(v float64) *float64 { return &v }

func TestParseSince(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "2w", want: 14 * 24 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "36h", want: 36 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "0d", wantErr: true},
		{in: "-1h", wantErr: true},
		{in: "week", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := report.ParseSince(tt.in)
		if tt.wantErr {
			require.ErrorContains(t, err, "is not a period such as 7d, 2w or 36h", tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

func TestIngestFromRun(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	end := start.Add(100 * time.Second)
	done := report.IngestFromRun(store.IngestRun{Endpoint: "bill", Status: store.RunCompleted, StartedAt: start, FinishedAt: &end,
		Pages: 40, Items: 10000, Requests: 44, Retries: 4, Limited: 2, Count: 10000, Confirmed: 9990, Gap: 10}, end.Add(time.Hour))
	require.Equal(t, 100.0, done.Seconds)
	require.Equal(t, 100.0, done.ItemsPerSecond)
	require.Equal(t, 0.4, done.PagesPerSecond)
	require.Equal(t, 90.9, done.SuccessPct)
	require.Equal(t, 99.9, *done.CompletePct)
	require.Equal(t, 2, done.RateLimited)

	running := report.IngestFromRun(store.IngestRun{Status: store.RunRunning, StartedAt: start, Items: 50}, start.Add(10*time.Second))
	require.Equal(t, 10.0, running.Seconds, "a running walk counts to now")
	require.Nil(t, running.CompletePct)
	failed := report.IngestFromRun(store.IngestRun{Status: store.RunFailed, StartedAt: start, UpdatedAt: start.Add(5 * time.Second)}, end)
	require.Equal(t, 5.0, failed.Seconds, "a failed walk counts to its last update")
}

// stored is a stored report with the given tables and walks.
func stored(t *testing.T, at time.Time, dbBytes int64, tables map[string]int64, walks ...report.IngestRun) store.StoredReport {
	t.Helper()
	r := report.Report{CollectedAt: at, Ingest: walks}
	for name, b := range tables {
		r.Tables = append(r.Tables, report.Table{Name: name, TotalBytes: b, RowEstimate: b / 100})
		r.Sizes.SchemaBytes += b
		r.Sizes.RowEstimate += b / 100
	}
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	return store.StoredReport{CollectedAt: at, DatabaseBytes: dbBytes, CongressBytes: r.Sizes.SchemaBytes, Report: raw}
}

func TestBuildTrend(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	since := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	walk := func(id string, started time.Time, status string, ips float64) report.IngestRun {
		return report.IngestRun{Endpoint: "bill", WalkID: id, Status: status, StartedAt: started, ItemsPerSecond: ips}
	}
	var reports []store.StoredReport
	for i := range 20 {
		at := since.Add(time.Duration(i) * 8 * time.Hour)
		walks := []report.IngestRun{walk("old", since.Add(-day), store.RunCompleted, 1)}
		switch {
		case i >= 15:
			walks = []report.IngestRun{walk("w3", since.Add(5*day), store.RunCompleted, 300)}
		case i >= 10:
			walks = []report.IngestRun{walk("w2", since.Add(3*day), store.RunCompleted, 200)}
		case i >= 5:
			// seen running first, then completed: counted once, as completed
			status := store.RunRunning
			if i >= 7 {
				status = store.RunCompleted
			}
			walks = []report.IngestRun{walk("w1", since.Add(day), status, float64(100+i))}
		}
		reports = append(reports, stored(t, at, int64(1000+100*i), map[string]int64{"congress.bill": int64(500 + 50*i), "congress.law": 100}, walks...))
	}
	tr, err := report.BuildTrend(since, reports)
	require.NoError(t, err)
	require.Equal(t, 20, tr.Reports)
	require.Len(t, tr.Points, 12)
	require.Equal(t, reports[0].CollectedAt, tr.Points[0].At)
	require.Equal(t, reports[19].CollectedAt, tr.Points[11].At)
	require.EqualValues(t, 2900, tr.Points[11].DatabaseBytes)

	require.Len(t, tr.Tables, 2)
	bill := tr.Tables[0]
	require.Equal(t, "congress.bill", bill.Name, "largest growth first")
	require.EqualValues(t, 500, bill.FirstBytes)
	require.EqualValues(t, 1450, bill.LastBytes)
	require.EqualValues(t, 950, bill.ChangeBytes)
	require.Equal(t, 150.0, bill.BytesPerDay, "950 bytes in 6⅓ days")
	require.Zero(t, tr.Tables[1].ChangeBytes)

	require.Equal(t, []report.IngestTrend{{Endpoint: "bill", Walks: 3, First: 109, Last: 300, Min: 109, Median: 200, Max: 300}}, tr.Ingest,
		"the walk before the period is left out; w1 counts once, at its completed rate")

	_, err = report.BuildTrend(since, []store.StoredReport{{ID: 9, Report: []byte("{")}})
	require.ErrorContains(t, err, "read stored report 9")
}

func sample() report.Report {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	hit := 99.3
	vac := now.Add(-2 * time.Hour)
	complete := 100.0
	r := report.Report{
		CollectedAt: now,
		Server:      report.Server{Version: "15.18 (Debian 15.18-0+deb12u1)", VersionNum: 150018, Database: "congressflow", StartedAt: now.Add(-time.Hour), Superuser: true},
		Statements:  report.Statements{Hint: "pg_stat_statements is not loaded (it is not in shared_preload_libraries): run `starter tune ...`"},
		Connections: report.Connections{Used: 7, Max: 100, Reserved: 3, ByState: []report.StateCount{{State: "active", Count: 2}, {State: "idle", Count: 5}},
			LongRunningAfterSeconds: 60, IdleInTransactionAfterSeconds: 10,
			IdleInTransaction: []report.Session{{PID: 42, User: "app", State: "idle in transaction", Seconds: 31, Query: "UPDATE t SET x = '?'"}}},
		Sizes:         report.Sizes{DatabaseBytes: 3 << 30, SchemaBytes: 2 << 30, Tables: 2, RowEstimate: 1234567},
		Cache:         report.Cache{HitPct: &hit, ClusterHitPct: &hit},
		Tables:        []report.Table{{Name: "congress.bill", TotalBytes: 2 << 30, HeapBytes: 1 << 30, RowEstimate: 1234567, LastVacuum: &vac}},
		UnusedIndexes: []report.Index{{Name: "congress.bill_introduced_date_idx", Table: "congress.bill", Bytes: 8 << 20}},
		Checkpoints:   report.Checkpoints{Source: "pg_stat_bgwriter", Timed: 8, Requested: 12, RequestedPct: 60},
		Settings: report.Settings{Applied: 20, LastTune: &report.TuneRun{RunID: "run-1", WorkflowID: "wf", At: now.Add(-time.Hour)},
			Drift:          []report.Drift{{Name: "work_mem", Applied: "16MB", Running: "4MB", Source: "default", RunID: "run-1"}},
			PendingRestart: []report.Pending{{Name: "shared_buffers", Running: "128MB", Configured: "1GB"}},
			FileErrors:     []report.FileError{}, FileSettingsReadable: true},
		Ingest: []report.IngestRun{{Endpoint: "bill", Status: "completed", Items: 20000, Seconds: 40, ItemsPerSecond: 500, Count: 20000,
			Confirmed: 20000, CompletePct: &complete, Requests: 80, MinRequests: 80, SuccessPct: 100, StartedAt: now.Add(-time.Hour)}},
		Worker: report.Worker{Hostname: "w1", PID: 7, Pool: report.Pool{MaxConns: 7, TotalConns: 2}},
	}
	r.Summarize()
	return r
}

func TestSummaryNamesWhatNeedsAttention(t *testing.T) {
	t.Parallel()
	r := sample()
	require.Equal(t, "PostgreSQL 15.18: database congressflow 3.0 GiB (congress 2.0 GiB in 2 tables, ~1,234,567 rows), cache hit 99.3%, "+
		"7 of 100 connections; last ingest: 1 endpoint, 100% complete, 500 items/s; attention: 1 setting drifted, "+
		"1 setting waits for a restart, 1 session idle in transaction, 1 unused index, pg_stat_statements off", r.Summary)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(raw), `{"summary":`), "the summary is the first field")
}

func TestWriteRendersEverySection(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, report.Write(&b, sample()))
	out := b.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"TOP STATEMENTS\npg_stat_statements is not loaded",
		"CONNECTIONS: 7 of max_connections 100 (3 reserved for superusers)",
		"sessions idle in a transaction longer than 10s:",
		"SIZES: database 3.0 GiB, schema congress 2.0 GiB in 2 tables, ~1,234,567 rows",
		"congress.bill",
		"CACHE: hit ratio 99.3% in this database",
		"UNUSED INDEXES",
		"congress.bill_introduced_date_idx",
		"timed 8, requested 12 (60.0% requested: max_wal_size is too small for the write load)",
		"work_mem  16MB     4MB",
		"shared_buffers  128MB    1GB",
		"INGEST (the last walk of each endpoint)",
		"WORKER w1 (pid 7",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "TREND")
	r := sample()
	r.Trend = &report.Trend{Since: r.CollectedAt.Add(-7 * 24 * time.Hour), Reports: 0}
	b.Reset()
	require.NoError(t, report.Write(&b, r))
	require.Contains(t, b.String(), "no stored reports in the period")
}

// TestSummaryRateIsOverTheWallClock: walks that ran side by side count
// their items over the time from the first start to the last end.
func TestSummaryRateIsOverTheWallClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	r := report.Report{Ingest: []report.IngestRun{
		{Endpoint: "bill", StartedAt: start, Seconds: 100, Items: 5000, Count: 5000, Confirmed: 5000},
		{Endpoint: "law", StartedAt: start.Add(50 * time.Second), Seconds: 150, Items: 5000, Count: 5000, Confirmed: 5000},
	}}
	r.Summarize()
	require.Contains(t, r.Summary, "last ingest: 2 endpoints, 100% complete, 50 items/s")
}
