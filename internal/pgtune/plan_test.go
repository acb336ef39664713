package pgtune

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func rec(settings ...Setting) Recommendation {
	for i := range settings {
		settings[i] = finish(settings[i], 15)
	}
	return Recommendation{Input: Input{PGVersion: 15}, Settings: settings}
}

func state(cs ...Current) ServerState {
	st := ServerState{Version: 15, Settings: map[string]Current{}, AllowAlterSystem: true, Superuser: true, FileSettingsReadable: true,
		Libraries: map[string]LibraryStatus{"pg_stat_statements": LibraryPresent, "pg_cron": LibraryMissing}}
	for _, c := range cs {
		st.Settings[c.Name] = c
	}
	return st
}

func TestBuildPlanDecidesEachSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		want       Setting
		cur        *Current
		action     Action
		value      string
		note       string
		statements []string
	}{
		{
			name: "equal in other units", want: Setting{Name: "shared_buffers", Value: "1GB"},
			cur:    &Current{Name: "shared_buffers", Setting: "131072", Unit: "8kB", Display: "1GB", Context: "postmaster"},
			action: ActionKeep, note: "already set",
		},
		{
			name: "within 5 percent", want: Setting{Name: "shared_buffers", Value: "1GB"},
			cur:    &Current{Name: "shared_buffers", Setting: "126000", Unit: "8kB", Display: "1008000kB", Context: "postmaster"},
			action: ActionKeep, note: "within 5% of the target",
		},
		{
			name: "beyond 5 percent", want: Setting{Name: "shared_buffers", Value: "1GB"},
			cur:    &Current{Name: "shared_buffers", Setting: "16384", Unit: "8kB", Display: "128MB", Context: "postmaster"},
			action: ActionChange, statements: []string{"ALTER SYSTEM SET shared_buffers = '1GB'", "SELECT pg_reload_conf()"},
		},
		{
			name: "configured and waiting for a restart", want: Setting{Name: "shared_buffers", Value: "1GB"},
			cur: &Current{Name: "shared_buffers", Setting: "16384", Unit: "8kB", Display: "128MB", Context: "postmaster",
				PendingRestart: true, Configured: "1GB", HasConfigured: true, ConfiguredError: "setting could not be applied"},
			action: ActionKeep, note: "already configured; waits for a restart",
		},
		{
			name: "time units", want: Setting{Name: "checkpoint_timeout", Value: "15min"},
			cur:    &Current{Name: "checkpoint_timeout", Setting: "900", Unit: "s", Display: "15min", Context: "sighup"},
			action: ActionKeep, note: "already set",
		},
		{
			name: "bool spelled differently", want: Setting{Name: "log_checkpoints", Value: "on"},
			cur:    &Current{Name: "log_checkpoints", Setting: "on", Display: "on", Context: "sighup", Configured: "true", HasConfigured: true},
			action: ActionKeep,
		},
		{
			name: "enum differs", want: Setting{Name: "wal_compression", Value: "lz4"},
			cur:    &Current{Name: "wal_compression", Setting: "off", Display: "off", Context: "superuser"},
			action: ActionChange, statements: []string{"ALTER SYSTEM SET wal_compression = 'lz4'", "SELECT pg_reload_conf()"},
		},
		{
			name: "unknown to the server", want: Setting{Name: "io_method", Value: "io_uring"},
			action: ActionSkip, note: "PostgreSQL 15 does not know this setting",
		},
		{
			name: "extension setting without its library", want: Setting{Name: "pg_stat_statements.max", Value: "10000"},
			action: ActionSkip, note: "needs pg_stat_statements in shared_preload_libraries, which cannot list it (see there)",
		},
		{
			name: "libraries merged, missing file left out", want: Setting{Name: "shared_preload_libraries", Value: "pg_stat_statements, pg_cron"},
			cur:    &Current{Name: "shared_preload_libraries", Setting: "auto_explain", Display: "auto_explain", Context: "postmaster"},
			action: ActionChange, value: "auto_explain, pg_stat_statements",
			note:       "left out pg_cron: its file is not in the server's pkglibdir (install its package first)",
			statements: []string{"ALTER SYSTEM SET shared_preload_libraries = 'auto_explain', 'pg_stat_statements'", "SELECT pg_reload_conf()"},
		},
		{
			name: "libraries already listed", want: Setting{Name: "shared_preload_libraries", Value: "pg_stat_statements"},
			cur:    &Current{Name: "shared_preload_libraries", Setting: "pg_stat_statements, auto_explain", Display: "pg_stat_statements, auto_explain", Context: "postmaster"},
			action: ActionKeep, value: "pg_stat_statements, auto_explain",
		},
		{
			name: "only a missing library wanted", want: Setting{Name: "shared_preload_libraries", Value: "pg_cron"},
			cur:    &Current{Name: "shared_preload_libraries", Display: "", Context: "postmaster"},
			action: ActionKeep, value: "",
			note: "left out pg_cron: its file is not in the server's pkglibdir (install its package first)",
		},
		{
			name: "unchecked library left out", want: Setting{Name: "shared_preload_libraries", Value: "pgaudit"},
			cur:    &Current{Name: "shared_preload_libraries", Display: "", Context: "postmaster"},
			action: ActionKeep, value: "",
			note: "left out pgaudit: could not check the server's pkglibdir for it (needs a superuser)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := state()
			if tt.cur != nil {
				st = state(*tt.cur)
			}
			p := BuildPlan(rec(tt.want), st, Hardware{})
			require.Len(t, p.Items, 1)
			it := p.Items[0]
			require.Equal(t, tt.action, it.Action)
			if tt.value != "" || tt.want.Name == "shared_preload_libraries" {
				require.Equal(t, tt.value, it.Value)
			}
			if tt.note != "" {
				require.Equal(t, tt.note, it.Note)
			}
			require.Equal(t, tt.statements, p.Statements)
			if tt.action == ActionChange {
				require.Equal(t, 1, p.Changes)
			} else {
				require.Zero(t, p.Changes)
			}
		})
	}
}

// TestBuildPlanLibrarySettings: a library's settings are planned together
// with the library, before the server has loaded it, and take effect at
// the restart.
func TestBuildPlanLibrarySettings(t *testing.T) {
	t.Parallel()
	r := rec(Setting{Name: "shared_preload_libraries", Value: "pg_stat_statements"},
		Setting{Name: "pg_stat_statements.max", Value: "10000"}, Setting{Name: "pg_stat_statements.track", Value: "all"})
	libs := Current{Name: "shared_preload_libraries", Context: "postmaster"}

	p := BuildPlan(r, state(libs), Hardware{})
	for _, name := range []string{"shared_preload_libraries", "pg_stat_statements.max", "pg_stat_statements.track"} {
		it, _ := p.Get(name)
		require.Equal(t, ActionChange, it.Action, name)
		require.Equal(t, ContextRestart, it.Context, name)
	}
	it, _ := p.Get("pg_stat_statements.track")
	require.Equal(t, "takes effect when pg_stat_statements loads at the restart", it.Note)
	require.Equal(t, 3, p.RestartChanges)

	// Applied, not restarted yet: the files hold the values.
	libs.Configured, libs.HasConfigured, libs.PendingRestart = "pg_stat_statements", true, true
	p = BuildPlan(r, state(libs,
		Current{Name: "pg_stat_statements.max", Placeholder: true, Display: "10000", Configured: "10000", HasConfigured: true},
		Current{Name: "pg_stat_statements.track", Placeholder: true, Configured: "all", HasConfigured: true},
	), Hardware{})
	require.Zero(t, p.Changes, "%+v", p.Items)
	it, _ = p.Get("pg_stat_statements.max")
	require.Equal(t, "already configured; takes effect when pg_stat_statements loads at the restart", it.Note)

	// Restarted: the library defines them.
	p = BuildPlan(r, state(
		Current{Name: "shared_preload_libraries", Setting: "pg_stat_statements", Display: "pg_stat_statements", Context: "postmaster"},
		Current{Name: "pg_stat_statements.max", Setting: "10000", Display: "10000", Context: "postmaster"},
		Current{Name: "pg_stat_statements.track", Setting: "all", Display: "all", Context: "superuser"},
	), Hardware{})
	require.Zero(t, p.Changes)

	got := Check(Plan{Items: []Item{{Setting: Setting{Name: "pg_stat_statements.max", Value: "10000"}, Action: ActionChange}}},
		state(Current{Name: "pg_stat_statements.max", Placeholder: true, Display: "10000"}), false)
	require.Equal(t, []string{"pg_stat_statements.max"}, got.PendingRestart)
	got = Check(Plan{Items: []Item{{Setting: Setting{Name: "pg_stat_statements.max", Value: "10000"}, Action: ActionChange}}},
		state(Current{Name: "pg_stat_statements.max", Placeholder: true, Display: "10000"}), true)
	require.Equal(t, "pg_stat_statements is not loaded after the restart", got.Mismatches[0].Why)
}

func TestBuildPlanContextsAndBlocks(t *testing.T) {
	t.Parallel()
	r := rec(Setting{Name: "work_mem", Value: "64MB"}, Setting{Name: "max_connections", Value: "300"})
	st := state(
		Current{Name: "work_mem", Setting: "4096", Unit: "kB", Display: "4MB", Context: "user"},
		Current{Name: "max_connections", Setting: "100", Display: "100", Context: "postmaster"},
	)
	p := BuildPlan(r, st, Hardware{Source: HardwareInput})
	require.Equal(t, 2, p.Changes)
	require.Equal(t, 1, p.RestartChanges)
	require.Empty(t, p.Blocked)
	require.Equal(t, "4MB", p.Items[0].Current)

	st.AllowAlterSystem = false
	require.Contains(t, BuildPlan(r, st, Hardware{}).Blocked, "allow_alter_system is off")

	st = state(st.Settings["work_mem"], st.Settings["max_connections"])
	st.Superuser, st.NoAlterPrivilege = false, []string{"max_connections"}
	require.Contains(t, BuildPlan(r, st, Hardware{}).Blocked, "may not ALTER SYSTEM max_connections")

	st.Version = 16
	require.Contains(t, BuildPlan(r, st, Hardware{}).Warnings, "tuned for PostgreSQL 15 but the server runs 16")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	p := Plan{Items: []Item{
		{Setting: Setting{Name: "work_mem", Value: "64MB"}, Action: ActionChange},
		{Setting: Setting{Name: "shared_buffers", Value: "1GB"}, Action: ActionChange},
		{Setting: Setting{Name: "wal_compression", Value: "lz4"}, Action: ActionChange},
		{Setting: Setting{Name: "checkpoint_timeout", Value: "15min"}, Action: ActionKeep},
		{Setting: Setting{Name: "random_page_cost", Value: "1.1"}, Action: ActionChange},
		{Setting: Setting{Name: "io_method", Value: "io_uring"}, Action: ActionSkip},
		{Setting: Setting{Name: "effective_io_concurrency", Value: "200"}, Action: ActionChange},
	}}
	st := state(
		Current{Name: "work_mem", Setting: "65536", Unit: "kB", Display: "64MB"},
		Current{Name: "shared_buffers", Setting: "16384", Unit: "8kB", Display: "128MB", PendingRestart: true, Configured: "1GB", HasConfigured: true, ConfiguredError: "setting could not be applied"},
		Current{Name: "wal_compression", Setting: "off", Display: "off", Configured: "lz4", HasConfigured: true, ConfiguredError: `invalid value for parameter "wal_compression": "lz4"`},
		Current{Name: "checkpoint_timeout", Setting: "900", Unit: "s", Display: "15min"},
		Current{Name: "random_page_cost", Setting: "4", Display: "4", Source: "database"},
		// Right in the files; ALTER ROLE ... SET hides it from this session.
		Current{Name: "effective_io_concurrency", Setting: "1", Display: "1", Source: "user", Configured: "200", HasConfigured: true},
	)
	got := Check(p, st, false)
	require.Equal(t, []string{"work_mem", "checkpoint_timeout", "effective_io_concurrency"}, got.Live)
	require.Equal(t, []Mismatch{{Name: "effective_io_concurrency", Want: "200", Got: "1", Why: "live server-wide; set by user for this role or database"}}, got.Overridden)
	require.Equal(t, []string{"shared_buffers"}, got.PendingRestart)
	require.Equal(t, []Rejection{{Name: "wal_compression", Value: "lz4", Error: `invalid value for parameter "wal_compression": "lz4"`}}, got.Rejected)
	require.Equal(t, []Mismatch{{Name: "random_page_cost", Want: "1.1", Got: "4", Why: "the running value differs (set by database)"}}, got.Mismatches)

	got = Check(p, st, true)
	require.Empty(t, got.PendingRestart)
	require.Equal(t, "shared_buffers", got.Mismatches[0].Name)
	require.Equal(t, "still waits for a restart after the restart", got.Mismatches[0].Why)
}

func TestStatementsQuote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string
	}{
		{"work_mem", "64MB", "ALTER SYSTEM SET work_mem = '64MB'"},
		{"pg_stat_statements.track", "all", "ALTER SYSTEM SET pg_stat_statements.track = 'all'"},
		{"shared_preload_libraries", "pg_stat_statements, pg_cron", "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'pg_cron'"},
		{"shared_preload_libraries", "", "ALTER SYSTEM SET shared_preload_libraries = ''"},
		{"shared_preload_libraries", `"it's"`, "ALTER SYSTEM SET shared_preload_libraries = 'it''s'"},
		{"statement_timeout", `a\'b`, `ALTER SYSTEM SET statement_timeout = E'a\\''b'`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, AlterStatement(tt.name, tt.value))
	}
	require.Equal(t, "ALTER SYSTEM RESET work_mem", ResetStatement("work_mem"))
}

// TestCheckValues: a value is checked against pg_settings' bounds in the
// setting's own unit, rounded as the server rounds it, and against its
// enum values.
func TestCheckValues(t *testing.T) {
	t.Parallel()
	sharedBuffers := Current{Name: "shared_buffers", VarType: "integer", Unit: "8kB", MinVal: "16", MaxVal: "1073741823"}
	tests := []struct {
		name    string
		item    Item
		cur     Current
		wantErr string
	}{
		{name: "memory below the minimum", item: change("shared_buffers", "25kB", ""), cur: sharedBuffers,
			wantErr: "shared_buffers = 25kB: outside the range this server accepts, 16 to 1073741823 in units of 8kB (25kB is 3); the value is recommended for the hardware and input (check memory, cpus and max_connections)"},
		{name: "memory at the minimum", item: change("shared_buffers", "128kB", ""), cur: sharedBuffers},
		{name: "rounds to the minimum", item: change("shared_buffers", "124kB", ""), cur: sharedBuffers},
		{name: "rounds below the minimum", item: change("shared_buffers", "123kB", ""), cur: sharedBuffers, wantErr: "(123kB is 15)"},
		{name: "memory above the maximum", item: change("shared_buffers", "9TB", ""), cur: sharedBuffers, wantErr: "(9TB is 1207959552)"},
		{name: "override below the minimum", item: change("max_connections", "0", "overrides[3]"),
			cur:     Current{Name: "max_connections", VarType: "integer", MinVal: "1", MaxVal: "262143"},
			wantErr: "overrides[3]: max_connections = 0: outside the range this server accepts, 1 to 262143; change or drop the override"},
		{name: "minus one where allowed", item: change("wal_buffers", "-1", ""),
			cur: Current{Name: "wal_buffers", VarType: "integer", Unit: "8kB", MinVal: "-1", MaxVal: "262143"}},
		{name: "time in another unit", item: change("checkpoint_timeout", "20s", ""),
			cur:     Current{Name: "checkpoint_timeout", VarType: "integer", Unit: "s", MinVal: "30", MaxVal: "86400"},
			wantErr: "checkpoint_timeout = 20s: outside the range this server accepts, 30 to 86400 in units of s (20s is 20)"},
		{name: "real", item: change("random_page_cost", "1.1", ""),
			cur: Current{Name: "random_page_cost", VarType: "real", MinVal: "0", MaxVal: "1.79769e+308"}},
		{name: "enum the server lacks", item: change("wal_compression", "zstd", "overrides[0]"),
			cur:     Current{Name: "wal_compression", VarType: "enum", EnumVals: []string{"pglz", "on", "off"}},
			wantErr: "overrides[0]: wal_compression = zstd: not a value this server accepts (it accepts pglz, on, off)"},
		{name: "enum in another case", item: change("huge_pages", "TRY", ""),
			cur: Current{Name: "huge_pages", VarType: "enum", EnumVals: []string{"off", "on", "try"}}},
		{name: "a library's setting before it loads", item: change("pg_stat_statements.max", "1", ""),
			cur: Current{Name: "pg_stat_statements.max", Placeholder: true}},
		{name: "kept values are not applied", item: Item{Setting: Setting{Name: "shared_buffers", Value: "1kB"}, Action: ActionKeep}, cur: sharedBuffers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkValues([]Item{tt.item}, state(tt.cur))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorIs(t, err, ErrInvalidInput)
			var se *SettingError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.item.Name, se.Name)
		})
	}

	err := checkValues([]Item{change("shared_buffers", "1kB", ""), change("max_connections", "0", "overrides[0]")},
		state(sharedBuffers, Current{Name: "max_connections", VarType: "integer", MinVal: "1", MaxVal: "262143"}))
	require.ErrorContains(t, err, "shared_buffers = 1kB")
	require.ErrorContains(t, err, "overrides[0]: max_connections = 0", "every refused value is named")
}

func change(name, value, field string) Item {
	return Item{Setting: Setting{Name: name, Value: value, Field: field}, Action: ActionChange}
}

// TestBuildPlanSkipsEnumValuesTheServerLacks: a recommended value the
// server was built without is left out; an override asking for one stays
// in the plan for checkValues to refuse.
func TestBuildPlanSkipsEnumValuesTheServerLacks(t *testing.T) {
	t.Parallel()
	cur := Current{Name: "wal_compression", Setting: "off", Display: "off", Context: "superuser", VarType: "enum", EnumVals: []string{"pglz", "on", "off"}}
	p := BuildPlan(rec(Setting{Name: "wal_compression", Value: "lz4"}), state(cur), Hardware{})
	it, _ := p.Get("wal_compression")
	require.Equal(t, ActionSkip, it.Action)
	require.Equal(t, "this server does not offer lz4 (built without it; it offers pglz, on, off)", it.Note)
	require.Zero(t, p.Changes)

	p = BuildPlan(rec(Setting{Name: "wal_compression", Value: "lz4", Field: "overrides[0]"}), state(cur), Hardware{})
	it, _ = p.Get("wal_compression")
	require.Equal(t, ActionChange, it.Action)
	require.Error(t, checkValues(p.Items, state(cur)))
}

// TestBuildPlanCronDatabase: when pg_cron goes into
// shared_preload_libraries, cron.database_name points at the database
// being tuned; not otherwise.
func TestBuildPlanCronDatabase(t *testing.T) {
	t.Parallel()
	spl := Current{Name: "shared_preload_libraries", Display: "", Context: "postmaster"}
	withCron := func(cs ...Current) ServerState {
		st := state(append([]Current{spl}, cs...)...)
		st.Libraries = map[string]LibraryStatus{"pg_stat_statements": LibraryPresent, "pg_cron": LibraryPresent}
		st.Database = "ingest"
		return st
	}
	want := Setting{Name: "shared_preload_libraries", Value: "pg_stat_statements, pg_cron"}

	tests := []struct {
		name   string
		rec    Recommendation
		st     ServerState
		action Action // "" when cron.database_name is not in the plan
		value  string
	}{
		{name: "pg_cron goes in, not loaded yet", rec: rec(want), st: withCron(), action: ActionChange, value: "ingest"},
		{name: "pg_cron loaded, another database", rec: rec(want),
			st:     withCron(Current{Name: "cron.database_name", Setting: "postgres", Display: "postgres", Context: "postmaster", VarType: "string"}),
			action: ActionChange, value: "ingest"},
		{name: "pg_cron loaded, this database", rec: rec(want),
			st:     withCron(Current{Name: "cron.database_name", Setting: "ingest", Display: "ingest", Context: "postmaster", VarType: "string"}),
			action: ActionKeep, value: "ingest"},
		{name: "configured, waiting for the restart", rec: rec(want),
			st:     withCron(Current{Name: "cron.database_name", Placeholder: true, Configured: "ingest", HasConfigured: true}),
			action: ActionKeep, value: "ingest"},
		{name: "pg_cron's file is missing", rec: rec(want), st: func() ServerState {
			st := withCron()
			st.Libraries["pg_cron"] = LibraryMissing
			return st
		}()},
		{name: "pg_cron not asked for", rec: rec(Setting{Name: "shared_preload_libraries", Value: "pg_stat_statements"}), st: withCron()},
		{name: "set in the input", rec: rec(want, Setting{Name: "cron.database_name", Value: "jobs", Field: "overrides[0]"}), st: withCron(),
			action: ActionChange, value: "jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := BuildPlan(tt.rec, tt.st, Hardware{})
			it, ok := p.Get("cron.database_name")
			if tt.action == "" {
				require.False(t, ok, "%+v", it)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.action, it.Action)
			require.Equal(t, tt.value, it.Value)
			require.Equal(t, ContextRestart, it.Context)
			if tt.action == ActionChange {
				require.Contains(t, p.Statements, "ALTER SYSTEM SET cron.database_name = '"+tt.value+"'")
			}
		})
	}
}
