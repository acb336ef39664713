package pgext_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func connect(t *testing.T, ctx context.Context, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.WithoutCancel(ctx)) })
	return conn
}

func byName(rep pgext.Report) map[string]pgext.Result {
	m := make(map[string]pgext.Result, len(rep.Results))
	for _, r := range rep.Results {
		m[r.Name] = r
	}
	return m
}

type installedExt struct {
	OID     uint32
	Name    string
	Version string
}

func snapshot(t *testing.T, ctx context.Context, conn *pgx.Conn) []installedExt {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT oid, extname, extversion FROM pg_extension ORDER BY extname`)
	require.NoError(t, err)
	exts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[installedExt])
	require.NoError(t, err)
	return exts
}

// TestInstallRecommendedAcrossPreloadRestart walks the recommended profile
// from scratch on a cluster of its own (it changes shared_preload_libraries
// and restarts the server): pg_stat_statements waits for its library, the
// tune stage's part is simulated with ALTER SYSTEM from PreloadLibraries,
// and after the restart the second run installs it and the third changes
// nothing.
func TestInstallRecommendedAcrossPreloadRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster := pgtest.Start(t)
	admin := connect(t, ctx, cluster.URL("postgres"))
	_, err := admin.Exec(ctx, `CREATE DATABASE ingest`)
	require.NoError(t, err)

	cat := pgext.Default()
	install := func() pgext.Report {
		conn := connect(t, ctx, cluster.URL("ingest"))
		rep, err := cat.Install(ctx, conn, pgext.InstallOptions{Profile: pgext.ProfileRecommended, Logger: testLogger(t)})
		require.NoError(t, err)
		require.Equal(t, 15, rep.Server.Major)
		// One outcome per recommended extension, pg_cron included: its
		// package is not installed here.
		names := make([]string, len(rep.Results))
		for i, r := range rep.Results {
			names[i] = r.Name
		}
		require.Equal(t, cat.Recommended(), names)
		cron := byName(rep)["pg_cron"]
		require.Equal(t, pgext.OutcomeNotAvailable, cron.Outcome)
		require.Equal(t, "postgresql-15-cron", cron.Package)
		require.Equal(t, "optional member of the recommended profile; not in pg_available_extensions: install package postgresql-15-cron on the database server", cron.Detail)
		return rep
	}

	// Run 1: everything but the preload one and the missing package.
	first := install()
	got := byName(first)
	require.Equal(t, pgext.OutcomeNeedsPreload, got["pg_stat_statements"].Outcome, "%+v", got["pg_stat_statements"])
	require.Equal(t, "pg_stat_statements", got["pg_stat_statements"].Preload)
	require.Contains(t, got["pg_stat_statements"].Detail, "restart")
	for _, r := range first.Results {
		if r.Name != "pg_stat_statements" && r.Name != "pg_cron" {
			require.Equal(t, pgext.OutcomeInstalled, r.Outcome, "%+v", r)
			require.NotEmpty(t, r.Version, r.Name)
		}
	}
	require.Equal(t, []string{"pg_stat_statements"}, first.PreloadNeeded)
	require.Equal(t, pgext.Counts{Installed: len(first.Results) - 2, NeedsPreload: 1, NotAvailable: 1}, first.Counts)

	// The tune stage's part: the catalog's libraries that the server has,
	// merged with what is listed, one quoted name each.
	libs, err := cat.PreloadLibraries(pgext.ProfileRecommended, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"pg_stat_statements", "pg_cron"}, libs)
	var pkglibdir, current string
	require.NoError(t, admin.QueryRow(ctx, `SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'`).Scan(&pkglibdir))
	require.NoError(t, admin.QueryRow(ctx, `SELECT current_setting('shared_preload_libraries')`).Scan(&current))
	var present []string
	for _, lib := range libs {
		if _, err := os.Stat(filepath.Join(pkglibdir, lib+".so")); err == nil {
			present = append(present, lib)
		}
	}
	merged := pgext.MergePreload(pgext.ParsePreloadList(current), present)
	require.Equal(t, []string{"pg_stat_statements"}, merged, "pg_cron.so is not installed here")
	quoted := make([]string, len(merged))
	for i, lib := range merged {
		quoted[i] = pgx.Identifier{lib}.Sanitize()
	}
	_, err = admin.Exec(ctx, `ALTER SYSTEM SET shared_preload_libraries = `+strings.Join(quoted, ", "))
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `SELECT pg_reload_conf()`)
	require.NoError(t, err)

	// Before the restart the change is pending and still needs_preload.
	require.Eventually(t, func() bool {
		conn := connect(t, ctx, cluster.URL("ingest"))
		rep, err := cat.Install(ctx, conn, pgext.InstallOptions{Names: []string{"pg_stat_statements"}, CheckOnly: true})
		require.NoError(t, err)
		return rep.Server.PreloadPendingRestart && rep.Results[0].Outcome == pgext.OutcomeNeedsPreload
	}, 10*time.Second, 100*time.Millisecond)

	require.NoError(t, admin.Close(ctx))
	require.NoError(t, cluster.Restart(ctx))

	// Run 2: pg_stat_statements now installs and works.
	second := install()
	got = byName(second)
	require.Equal(t, pgext.OutcomeInstalled, got["pg_stat_statements"].Outcome, "%+v", got["pg_stat_statements"])
	require.Equal(t, pgext.Counts{Installed: 1, AlreadyPresent: len(second.Results) - 2, NotAvailable: 1}, second.Counts)
	conn := connect(t, ctx, cluster.URL("ingest"))
	var calls int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements`).Scan(&calls))

	// Run 3: already present everywhere it can be; nothing changes.
	before := snapshot(t, ctx, conn)
	third := install()
	for _, r := range third.Results {
		if r.Name == "pg_cron" {
			require.Equal(t, pgext.OutcomeNotAvailable, r.Outcome)
			continue
		}
		require.Equal(t, pgext.OutcomeAlreadyPresent, r.Outcome, "%+v", r)
		require.Empty(t, r.Detail, "%s is loaded and installed", r.Name)
	}
	require.Equal(t, before, snapshot(t, ctx, conn))
}

// TestInstallReportsMissingPackagesAndKeepsGoing asks for extensions whose
// packages this server lacks next to ones it has.
func TestInstallReportsMissingPackagesAndKeepsGoing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := connect(t, ctx, pgtest.Database(t))

	rep, err := pgext.Default().Install(ctx, conn, pgext.InstallOptions{
		Names:  []string{"pg_partman", "citext", "postgis_topology", "earthdistance", "vector"},
		Logger: testLogger(t),
	})
	require.NoError(t, err)
	got := byName(rep)
	require.Equal(t, []string{"pg_partman", "citext", "cube", "earthdistance", "postgis", "postgis_topology", "vector"},
		func() []string {
			var n []string
			for _, r := range rep.Results {
				n = append(n, r.Name)
			}
			return n
		}(), "catalog order with requirements added")

	require.Equal(t, pgext.OutcomeNotAvailable, got["pg_partman"].Outcome)
	require.Equal(t, "postgresql-15-partman", got["pg_partman"].Package)
	require.Contains(t, got["pg_partman"].Detail, "install package postgresql-15-partman")
	require.Equal(t, pgext.OutcomeNotAvailable, got["postgis_topology"].Outcome)
	require.Equal(t, "postgresql-15-postgis-3", got["postgis_topology"].Package)
	require.Contains(t, got["vector"].Detail, "apt.postgresql.org")
	for _, n := range []string{"citext", "cube", "earthdistance"} {
		require.Equal(t, pgext.OutcomeInstalled, got[n].Outcome, "%+v", got[n])
	}
	names := snapshot(t, ctx, conn)
	require.True(t, slices.ContainsFunc(names, func(e installedExt) bool { return e.Name == "earthdistance" }))
}

// TestInstallChecksPrivileges installs as roles that are not superuser. The
// roles are cluster-wide, so their names carry the process ID and they are
// dropped at the end.
func TestInstallChecksPrivileges(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbURL := pgtest.Database(t)
	admin := connect(t, ctx, dbURL)
	var dbName string
	require.NoError(t, admin.QueryRow(ctx, `SELECT current_database()`).Scan(&dbName))

	writer := fmt.Sprintf("ext_writer_%d", os.Getpid())
	reader := fmt.Sprintf("ext_reader_%d", os.Getpid())
	for _, role := range []string{writer, reader} {
		_, err := admin.Exec(ctx, `CREATE ROLE `+pgx.Identifier{role}.Sanitize()+` LOGIN`)
		require.NoError(t, err)
		t.Cleanup(func() {
			ctx := context.WithoutCancel(ctx)
			_, _ = admin.Exec(ctx, `DROP OWNED BY `+pgx.Identifier{role}.Sanitize())
			_, _ = admin.Exec(ctx, `DROP ROLE `+pgx.Identifier{role}.Sanitize())
		})
	}
	_, err := admin.Exec(ctx, `GRANT CREATE ON DATABASE `+pgx.Identifier{dbName}.Sanitize()+` TO `+pgx.Identifier{writer}.Sanitize())
	require.NoError(t, err)

	as := func(role string) *pgx.Conn {
		cfg, err := pgx.ParseConfig(dbURL)
		require.NoError(t, err)
		cfg.User = role
		conn, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close(context.WithoutCancel(ctx)) })
		return conn
	}
	names := []string{"citext", "pg_trgm", "pg_buffercache", "pg_stat_statements", "earthdistance"}

	// With CREATE on the database: trusted ones install, untrusted ones
	// need a superuser.
	rep, err := pgext.Default().Install(ctx, as(writer), pgext.InstallOptions{Names: names, Logger: testLogger(t)})
	require.NoError(t, err)
	require.False(t, rep.Server.Superuser)
	require.False(t, rep.Server.PreloadKnown, "pg_settings hides shared_preload_libraries from plain roles")
	got := byName(rep)
	for _, n := range []string{"citext", "pg_trgm", "cube"} {
		require.Equal(t, pgext.OutcomeInstalled, got[n].Outcome, "%+v", got[n])
	}
	for _, n := range []string{"pg_buffercache", "pg_stat_statements", "earthdistance"} {
		require.Equal(t, pgext.OutcomeNotPermitted, got[n].Outcome, "%+v", got[n])
		require.Equal(t, pgext.PrivilegeSuperuser, got[n].Privilege, n)
	}

	// Without CREATE on the database even trusted ones are refused, and
	// the privilege says which grant is missing.
	rep, err = pgext.Default().Install(ctx, as(reader), pgext.InstallOptions{Names: []string{"hstore", "pg_buffercache", "citext"}})
	require.NoError(t, err)
	got = byName(rep)
	require.Equal(t, pgext.OutcomeNotPermitted, got["hstore"].Outcome)
	require.Equal(t, `CREATE on database `+pgx.Identifier{dbName}.Sanitize(), got["hstore"].Privilege)
	require.Equal(t, pgext.OutcomeNotPermitted, got["pg_buffercache"].Outcome)
	require.Equal(t, pgext.PrivilegeSuperuser, got["pg_buffercache"].Privilege)
	require.Equal(t, pgext.OutcomeAlreadyPresent, got["citext"].Outcome, "installed above by the writer")
	var hstore bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'hstore')`).Scan(&hstore))
	require.False(t, hstore)
}

// TestCatalogMatchesServer compares the catalog with the control files of
// the server the tests run on: every extension the server ships is in the
// catalog with the same trusted flag and requirements, and every contrib
// entry for this version is on the server.
func TestCatalogMatchesServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := connect(t, ctx, pgtest.Database(t))
	var major int
	require.NoError(t, conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int / 10000`).Scan(&major))

	rows, err := conn.Query(ctx, `
SELECT v.name, v.trusted, coalesce(v.requires::text[], '{}')
FROM pg_available_extension_versions v
JOIN pg_available_extensions a ON a.name = v.name AND a.default_version = v.version
ORDER BY v.name`)
	require.NoError(t, err)
	type control struct {
		Name     string
		Trusted  bool
		Requires []string
	}
	controls, err := pgx.CollectRows(rows, pgx.RowToStructByPos[control])
	require.NoError(t, err)
	require.NotEmpty(t, controls)

	cat := pgext.Default()
	onServer := map[string]bool{}
	for _, c := range controls {
		onServer[c.Name] = true
		e, ok := cat.Lookup(c.Name)
		if !ok {
			t.Errorf("server extension %s is not in the catalog", c.Name)
			continue
		}
		require.Equal(t, c.Trusted, e.Trusted, "trusted flag of %s", c.Name)
		require.ElementsMatch(t, c.Requires, e.Requires, "requirements of %s", c.Name)
		require.True(t, e.SupportsVersion(major), "%s is on PostgreSQL %d", c.Name, major)
	}
	for _, e := range cat.Extensions() {
		if (e.Package == pgext.PackageContrib || e.Package == pgext.PackageBuiltin) && e.SupportsVersion(major) {
			require.True(t, onServer[e.Name], "contrib entry %s is not on PostgreSQL %d", e.Name, major)
		}
	}
}
