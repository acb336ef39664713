package pgtune_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type bundle struct {
	ctx     context.Context
	cluster *pgtest.Cluster
	pool    *pgxpool.Pool
	conn    *pgx.Conn
}

// setup starts a cluster of the test's own: ALTER SYSTEM and restarts are
// cluster-wide, so these tests cannot share one.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	c := pgtest.Start(t)
	pool := pgtest.MigratedPool(t, c.URL("postgres"))
	b := &bundle{ctx: ctx, cluster: c, pool: pool}
	b.reconnect(t)
	return b
}

// reconnect opens a fresh tuning session (a restart ends the old one).
func (b *bundle) reconnect(t *testing.T) {
	t.Helper()
	if b.conn != nil {
		_ = b.conn.Close(b.ctx)
	}
	b.pool.Reset()
	conn, err := pgtune.Connect(b.ctx, b.pool)
	require.NoError(t, err)
	b.conn = conn
	t.Cleanup(func() { _ = conn.Close(context.WithoutCancel(b.ctx)) })
}

func (b *bundle) plan(t *testing.T, req pgtune.Request, preload []string) pgtune.Plan {
	t.Helper()
	rec, err := pgtune.Recommend(req.Input(0, 0, 15, preload))
	require.NoError(t, err)
	rec, err = pgtune.ApplyOverrides(rec, req.Overrides)
	require.NoError(t, err)
	p, err := pgtune.PlanFor(b.ctx, b.conn, rec, pgtune.Hardware{Source: pgtune.HardwareInput})
	require.NoError(t, err)
	return p
}

// settings returns pg_settings.setting for names, as a fresh session sees
// them.
func (b *bundle) settings(t *testing.T, names []string) map[string]string {
	t.Helper()
	rows, err := b.conn.Query(b.ctx, `SELECT name, setting FROM pg_settings WHERE name = ANY($1)`, names)
	require.NoError(t, err)
	out := map[string]string{}
	for rows.Next() {
		var n, s string
		require.NoError(t, rows.Scan(&n, &s))
		out[n] = s
	}
	require.NoError(t, rows.Err())
	return out
}

func (b *bundle) pendingRestart(t *testing.T) []string {
	t.Helper()
	rows, err := b.conn.Query(b.ctx, `SELECT name FROM pg_settings WHERE pending_restart ORDER BY name`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func (b *bundle) startTime(t *testing.T) time.Time {
	t.Helper()
	st, err := pgtune.PostmasterStartTime(b.ctx, b.conn)
	require.NoError(t, err)
	return st
}

func (b *bundle) restart(t *testing.T) {
	t.Helper()
	before, err := pgtune.PostmasterStartTime(b.ctx, b.conn)
	require.NoError(t, err)
	out, err := pgtune.RunCommand(b.ctx, b.cluster.RestartCommand())
	require.NoError(t, err, "restart: %s\n%s", out, b.cluster.Log())
	b.reconnect(t)
	after, err := pgtune.PostmasterStartTime(b.ctx, b.conn)
	require.NoError(t, err)
	require.True(t, after.After(before), "the server restarted")
}

// TestApplyRestartVerifyRevert is the tune stage end to end on a real
// PostgreSQL 15: the plan for a 2GB/2CPU host is applied, only the
// postmaster settings wait for a restart, the restart makes everything
// live, and a revert brings every setting back.
func TestApplyRestartVerifyRevert(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := pgtune.Request{Memory: "2GB", CPUs: 2, Workload: "oltp", Storage: "ssd"}
	preload := []string{"no_such_library"}
	p := b.plan(t, req, preload)
	require.Empty(t, p.Blocked)
	require.Positive(t, p.Changes)

	spl, ok := p.Get("shared_preload_libraries")
	require.True(t, ok)
	require.Equal(t, "pg_stat_statements", spl.Value, "a library missing from pkglibdir is never listed")
	require.Contains(t, spl.Note, "left out no_such_library")
	pss, _ := p.Get("pg_stat_statements.max")
	require.Equal(t, pgtune.ActionChange, pss.Action, "planned with its library, before the server knows it")
	require.Equal(t, pgtune.ContextRestart, pss.Context)

	names := make([]string, len(p.Items))
	for i, it := range p.Items {
		names[i] = it.Name
	}
	before := b.settings(t, names)
	autoConf := filepath.Join(b.cluster.DataDir(), "postgresql.auto.conf")
	autoBefore, err := os.ReadFile(autoConf)
	require.NoError(t, err)

	rep, err := pgtune.Apply(b.ctx, b.conn, p, pgtune.ApplyOptions{WorkflowID: "wf", RunID: "run-1"})
	require.NoError(t, err)
	require.Empty(t, rep.Rejected)
	require.Empty(t, rep.NotLive)
	require.Len(t, rep.Changes, p.Changes)

	// pending_restart lists exactly the postmaster settings that changed;
	// the report adds the library's settings, which wait for it to load.
	var wantPending, wantLive, librarySettings []string
	for _, c := range rep.Changes {
		switch {
		case strings.HasPrefix(c.Name, "pg_stat_statements."):
			librarySettings = append(librarySettings, c.Name)
		case c.Context == pgtune.ContextRestart:
			wantPending = append(wantPending, c.Name)
		default:
			wantLive = append(wantLive, c.Name)
		}
	}
	slices.Sort(wantPending)
	require.Equal(t, wantPending, b.pendingRestart(t))
	require.ElementsMatch(t, append(slices.Clone(wantPending), librarySettings...), rep.PendingRestart)
	require.Len(t, librarySettings, 2)
	require.ElementsMatch(t, wantLive, rep.Live)
	require.Contains(t, wantPending, "shared_buffers")
	require.Contains(t, wantPending, "shared_preload_libraries")
	require.Contains(t, wantLive, "effective_cache_size")

	// One literal per library: the file lists the name, not a quoted list.
	auto, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	require.Contains(t, string(auto), "shared_preload_libraries = 'pg_stat_statements'")
	require.Contains(t, string(auto), "pg_stat_statements.max = '10000'")

	// The run kept the file as it was before its first ALTER SYSTEM, and
	// as it left it.
	snap, err := store.GetTuningSnapshot(b.ctx, b.pool, "run-1")
	require.NoError(t, err)
	require.Equal(t, string(autoBefore), snap.Before)
	require.Equal(t, store.SnapshotFromFile, snap.Source)
	require.Equal(t, b.cluster.DataDir(), snap.DataDirectory)
	require.NotNil(t, snap.After)
	require.Equal(t, string(auto), *snap.After)
	require.Equal(t, []string{"shared_buffers = '512MB'"}, pgtune.AutoConfLines(*snap.After, []string{"shared_buffers"}))

	vr, err := pgtune.Verify(b.ctx, b.conn, p, false)
	require.NoError(t, err)
	require.Empty(t, vr.Mismatches)
	require.ElementsMatch(t, rep.PendingRestart, vr.PendingRestart)

	// The same input again changes nothing, and says so.
	again := b.plan(t, req, preload)
	require.Zero(t, again.Changes, "%+v", again.Items)
	rep2, err := pgtune.Apply(b.ctx, b.conn, again, pgtune.ApplyOptions{WorkflowID: "wf", RunID: "run-2"})
	require.NoError(t, err)
	require.Empty(t, rep2.Changes)
	require.Contains(t, rep2.Message, "nothing to change")
	rows, err := store.ListTuningChanges(b.ctx, b.pool, "run-2")
	require.NoError(t, err)
	require.Empty(t, rows)
	_, err = store.GetTuningSnapshot(b.ctx, b.pool, "run-2")
	require.ErrorIs(t, err, store.ErrNotFound, "a run that changes nothing keeps no snapshot")

	b.restart(t)
	vr, err = pgtune.Verify(b.ctx, b.conn, p, true)
	require.NoError(t, err)
	require.Empty(t, vr.Mismatches)
	require.Empty(t, vr.PendingRestart)
	require.Empty(t, b.pendingRestart(t))
	got := b.settings(t, []string{"shared_buffers", "max_connections", "shared_preload_libraries", "track_activity_query_size",
		"pg_stat_statements.max", "pg_stat_statements.track"})
	require.Equal(t, map[string]string{"shared_buffers": "65536", "max_connections": "300",
		"shared_preload_libraries": "pg_stat_statements", "track_activity_query_size": "4096",
		"pg_stat_statements.max": "10000", "pg_stat_statements.track": "all"}, got)

	// After the restart, the same input still changes nothing.
	after := b.plan(t, req, preload)
	require.Zero(t, after.Changes, "%+v", after.Items)

	recorded, err := store.ListTuningChanges(b.ctx, b.pool, "run-1")
	require.NoError(t, err)
	require.Len(t, recorded, len(rep.Changes))
	for _, r := range recorded {
		require.Equal(t, store.TuningApplied, r.Status, r.Name)
	}

	rr, err := pgtune.Revert(b.ctx, b.conn, "run-1", pgtune.ApplyOptions{})
	require.NoError(t, err)
	require.Len(t, rr.Reverted, len(rep.Changes))
	require.Equal(t, b.startTime(t), rr.PostmasterStartTime, "what a restart for the revert must move")
	require.ElementsMatch(t, append(slices.Clone(wantPending), "pg_stat_statements.max"), rr.PendingRestart)
	auto, err = os.ReadFile(autoConf)
	require.NoError(t, err)
	require.Equal(t, string(autoBefore), string(auto), "postgresql.auto.conf is back to what it was")

	b.restart(t)
	require.Equal(t, before, b.settings(t, names), "every recorded setting is back to its old value")
	require.Empty(t, b.pendingRestart(t))

	rr, err = pgtune.Revert(b.ctx, b.conn, "run-1", pgtune.ApplyOptions{})
	require.NoError(t, err)
	require.Empty(t, rr.Reverted, "a second revert has nothing to do")
}

// TestPlanForRefusesValuesOutOfRange: values pg_settings says the server
// refuses fail the plan, each named, before anything is applied. 100kB of
// memory (which the request's own validation refuses, but PG_HOST_MEMORY
// or a probe could give) once half-applied: shared_buffers and
// maintenance_work_mem were refused while effective_cache_size went live.
func TestPlanForRefusesValuesOutOfRange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	autoConf := filepath.Join(b.cluster.DataDir(), "postgresql.auto.conf")
	autoBefore, err := os.ReadFile(autoConf)
	require.NoError(t, err)

	rec, err := pgtune.Recommend(pgtune.Input{MemoryBytes: 100 << 10, CPUs: 2, PGVersion: 15})
	require.NoError(t, err)
	_, err = pgtune.PlanFor(b.ctx, b.conn, rec, pgtune.Hardware{Source: pgtune.HardwareConfig})
	require.ErrorIs(t, err, pgtune.ErrInvalidInput)
	require.ErrorContains(t, err, "shared_buffers = 25kB: outside the range this server accepts, 16 to 1073741823 in units of 8kB (25kB is 3)")
	require.ErrorContains(t, err, "maintenance_work_mem = 6kB: outside the range this server accepts, 1024 to 2147483647 in units of kB")
	require.NotContains(t, err.Error(), "effective_cache_size", "75kB is within its range")

	rec, err = pgtune.Recommend(pgtune.Input{MemoryBytes: 1 << 30, CPUs: 1, PGVersion: 15})
	require.NoError(t, err)
	rec, err = pgtune.ApplyOverrides(rec, []pgtune.Override{
		{Name: "work_mem", Value: "64MB"},
		{Name: "max_connections", Value: "0"},
		{Name: "shared_buffers", Value: "1kB"},
		{Name: "checkpoint_timeout", Value: "2d"},
	})
	require.NoError(t, err)
	_, err = pgtune.PlanFor(b.ctx, b.conn, rec, pgtune.Hardware{Source: pgtune.HardwareInput})
	require.ErrorIs(t, err, pgtune.ErrInvalidInput)
	var se *pgtune.SettingError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "overrides[1]", se.Field)
	require.ErrorContains(t, err, "overrides[1]: max_connections = 0: outside the range this server accepts, 1 to 262143")
	require.ErrorContains(t, err, "overrides[2]: shared_buffers = 1kB")
	require.ErrorContains(t, err, "overrides[3]: checkpoint_timeout = 2d: outside the range this server accepts, 30 to 86400 in units of s (2d is 172800)")
	require.NotContains(t, err.Error(), "work_mem")

	auto, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	require.Equal(t, string(autoBefore), string(auto), "nothing applied")
}

// TestApplyRefusedValueLeavesNothingApplied: Apply checks the ranges
// itself before changing anything, and a value the server still refuses
// (max_connections = 262143 is within pg_settings' range, but with the
// worker counts it exceeds the server's limit, a check hook the catalog
// cannot show) stops it and reverts what the run had already changed.
func TestApplyRefusedValueLeavesNothingApplied(t *testing.T) {
	t.Parallel()
	b := setup(t)
	autoConf := filepath.Join(b.cluster.DataDir(), "postgresql.auto.conf")
	autoBefore, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	names := []string{"work_mem", "checkpoint_timeout", "max_connections"}
	before := b.settings(t, names)
	require.Equal(t, map[string]string{"work_mem": "4096", "checkpoint_timeout": "300", "max_connections": "100"}, before)

	p := b.plan(t, pgtune.Request{Memory: "1GB", CPUs: 1, Overrides: []pgtune.Override{
		{Name: "work_mem", Value: "64MB"},
		{Name: "max_connections", Value: "262143"},
	}}, nil)
	// Only these three, the refused one last, so that two are changed
	// before the server says no.
	var items []pgtune.Item
	for _, n := range names {
		it, ok := p.Get(n)
		require.True(t, ok, n)
		require.Equal(t, pgtune.ActionChange, it.Action, n)
		items = append(items, it)
	}
	p.Items = items

	// A plan changed after PlanFor checked it is checked again.
	bad := p
	bad.Items = slices.Clone(items)
	bad.Items[0].Value = "10kB"
	_, err = pgtune.Apply(b.ctx, b.conn, bad, pgtune.ApplyOptions{WorkflowID: "wf", RunID: "run-bad"})
	require.ErrorIs(t, err, pgtune.ErrInvalidInput)
	require.ErrorContains(t, err, "overrides[0]: work_mem = 10kB: outside the range this server accepts, 64 to 2147483647 in units of kB")
	rows, err := store.ListTuningChanges(b.ctx, b.pool, "run-bad")
	require.NoError(t, err)
	require.Empty(t, rows, "nothing recorded, nothing changed")

	_, err = pgtune.Apply(b.ctx, b.conn, p, pgtune.ApplyOptions{WorkflowID: "wf", RunID: "run-refused"})
	require.ErrorIs(t, err, pgtune.ErrInvalidInput)
	var se *pgtune.SettingError
	require.ErrorAs(t, err, &se)
	require.Equal(t, pgtune.SettingError{Name: "max_connections", Value: "262143", Field: "overrides[1]",
		Problem: `the server refused it: invalid value for parameter "max_connections": 262143`}, *se)
	require.ErrorContains(t, err, "reverted the 2 settings run run-refused had changed, so none of the plan stays applied")

	rows, err = store.ListTuningChanges(b.ctx, b.pool, "run-refused")
	require.NoError(t, err)
	status := map[string]string{}
	for _, r := range rows {
		status[r.Name] = r.Status
	}
	require.Equal(t, map[string]string{"work_mem": store.TuningReverted, "checkpoint_timeout": store.TuningReverted, "max_connections": store.TuningFailed}, status)

	auto, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	require.Equal(t, string(autoBefore), string(auto), "postgresql.auto.conf is as it was")
	require.Equal(t, before, b.settings(t, names), "nothing is live")
	require.Empty(t, b.pendingRestart(t))

	rr, err := pgtune.Revert(b.ctx, b.conn, "run-refused", pgtune.ApplyOptions{})
	require.NoError(t, err)
	require.Empty(t, rr.Reverted, "nothing left to revert")
	require.Equal(t, "nothing to revert: run run-refused was already reverted", rr.Message)

	// A run that never applied anything here is not an already reverted
	// one: run-bad recorded nothing, no-such-run never ran.
	for _, id := range []string{"run-bad", "no-such-run"} {
		_, err = pgtune.Revert(b.ctx, b.conn, id, pgtune.ApplyOptions{})
		require.ErrorIs(t, err, pgtune.ErrRunNotFound)
		require.ErrorContains(t, err, "run "+id+": no such tune run: no change of that run is recorded in ops.tuning_changes on this server")
	}
	b.restart(t)
	require.Equal(t, before, b.settings(t, names))
}

// TestPlanForCronDatabaseNeedsTheLibrary: cron.database_name is planned
// only when pg_cron goes into shared_preload_libraries; this machine has
// no pg_cron, so it is left out with the library.
func TestPlanForCronDatabaseNeedsTheLibrary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st, err := pgtune.ReadState(b.ctx, b.conn, nil, nil)
	require.NoError(t, err)
	require.Equal(t, "postgres", st.Database)

	p := b.plan(t, pgtune.Request{Memory: "1GB", CPUs: 1}, []string{"pg_cron"})
	spl, _ := p.Get("shared_preload_libraries")
	require.Equal(t, "pg_stat_statements", spl.Value)
	require.Contains(t, spl.Note, "left out pg_cron")
	_, ok := p.Get("cron.database_name")
	require.False(t, ok, "no pg_cron, no cron.database_name")
}

// TestPreloadLibrariesMustLoad: a library goes into shared_preload_libraries
// only when its file is in the server's pkglibdir and LOAD loads it in a
// session. auto_explain loads; sepgsql refuses a LOAD outside
// shared_preload_libraries, which shows that it loaded; pgxs is a directory
// in pkglibdir, not a library. Apply checks again: a plan edited after
// PlanFor to add a library that does not load, or a path, changes nothing.
func TestPreloadLibrariesMustLoad(t *testing.T) {
	t.Parallel()
	b := setup(t)
	autoConf := filepath.Join(b.cluster.DataDir(), "postgresql.auto.conf")
	autoBefore, err := os.ReadFile(autoConf)
	require.NoError(t, err)

	st, err := pgtune.ReadState(b.ctx, b.conn, nil, []string{"auto_explain", "sepgsql", "pgxs", "no_such_library"})
	require.NoError(t, err)
	require.Equal(t, map[string]pgtune.LibraryStatus{
		"auto_explain": pgtune.LibraryPresent, "sepgsql": pgtune.LibraryPresent,
		"pgxs": pgtune.LibraryMissing, "no_such_library": pgtune.LibraryMissing,
	}, st.Libraries)

	p := b.plan(t, pgtune.Request{Memory: "1GB", CPUs: 1, Overrides: []pgtune.Override{
		{Name: "shared_preload_libraries", Value: "auto_explain, pgxs, no_such_library"},
	}}, nil)
	spl, ok := p.Get("shared_preload_libraries")
	require.True(t, ok)
	require.Equal(t, pgtune.ActionChange, spl.Action)
	require.Equal(t, "pg_stat_statements, auto_explain", spl.Value)
	require.Contains(t, spl.Note, "left out pgxs: its file is not in the server's pkglibdir")
	require.Contains(t, spl.Note, "left out no_such_library")

	for _, tt := range []struct{ value, wantErr string }{
		{"pg_stat_statements, no_such_library", "shared_preload_libraries = pg_stat_statements, no_such_library: no_such_library is not in the server's pkglibdir (install its package first), and the server would not start with it"},
		{"/etc/passwd", `"/etc/passwd" is not a bare library name`},
	} {
		bad := p
		bad.Items = []pgtune.Item{spl}
		bad.Items[0].Value = tt.value
		_, err = pgtune.Apply(b.ctx, b.conn, bad, pgtune.ApplyOptions{WorkflowID: "wf", RunID: "run-libs"})
		require.ErrorIs(t, err, pgtune.ErrInvalidInput)
		require.ErrorContains(t, err, tt.wantErr)
	}
	rows, err := store.ListTuningChanges(b.ctx, b.pool, "run-libs")
	require.NoError(t, err)
	require.Empty(t, rows, "nothing recorded, nothing changed")
	auto, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	require.Equal(t, string(autoBefore), string(auto))
}

// TestReadAutoConfWithoutFileAccess: a role that may read the settings
// files' view but not server files (granted pg_file_settings, not
// pg_read_server_files) gets postgresql.auto.conf rebuilt from
// pg_file_settings, the same text ALTER SYSTEM writes.
func TestReadAutoConfWithoutFileAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, stmt := range []string{
		`ALTER SYSTEM SET work_mem = '64MB'`,
		`ALTER SYSTEM SET log_line_prefix = 'it''s %m \ %p '`,
		`CREATE ROLE settings_reader LOGIN IN ROLE pg_read_all_settings`,
		`GRANT SELECT ON pg_file_settings TO settings_reader`,
		`GRANT EXECUTE ON FUNCTION pg_show_all_file_settings() TO settings_reader`,
	} {
		_, err := b.conn.Exec(b.ctx, stmt)
		require.NoError(t, err, stmt)
	}
	file, err := os.ReadFile(filepath.Join(b.cluster.DataDir(), pgtune.AutoConfName))
	require.NoError(t, err)

	content, source, err := pgtune.ReadAutoConf(b.ctx, b.conn)
	require.NoError(t, err)
	require.Equal(t, store.SnapshotFromFile, source)
	require.Equal(t, string(file), content)

	cfg := b.conn.Config().Copy()
	cfg.User = "settings_reader"
	reader, err := pgx.ConnectConfig(b.ctx, cfg)
	require.NoError(t, err)
	defer reader.Close(b.ctx)
	content, source, err = pgtune.ReadAutoConf(b.ctx, reader)
	require.NoError(t, err)
	require.Equal(t, store.SnapshotFromFileSettings, source)
	require.Equal(t, string(file), content)
}
