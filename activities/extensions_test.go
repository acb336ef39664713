package activities_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

type extLogWriter struct{ t testing.TB }

func (w extLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func extLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(extLogWriter{t}, nil))
}

// runInstall runs the activity in Temporal's test activity environment.
func runInstall(t *testing.T, x *activities.Extensions, in activities.InstallExtensionsInput) (activities.InstallExtensionsResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(extLogger(t)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(x)
	val, err := env.ExecuteActivity(x.InstallExtensions, in)
	if err != nil {
		return activities.InstallExtensionsResult{}, err
	}
	var res activities.InstallExtensionsResult
	require.NoError(t, val.Get(&res))
	return res, nil
}

func outcomes(res activities.InstallExtensionsResult) map[string]pgext.Outcome {
	m := map[string]pgext.Outcome{}
	for _, r := range res.Outcomes {
		m[r.Name] = r.Outcome
	}
	return m
}

func requireAppError(t *testing.T, err error, errType string, retryable bool, msg string) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %T: %v", err, err)
	require.Equal(t, errType, appErr.Type(), "%v", err)
	require.Equal(t, !retryable, appErr.NonRetryable(), "%v", err)
	require.Contains(t, err.Error(), msg)
}

// TestInstallExtensionsActivity runs the activity against a PostgreSQL
// cluster of its own (CREATE DATABASE, extensions in two databases).
func TestInstallExtensionsActivity(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster := pgtest.Start(t)
	admin, err := pgx.Connect(ctx, cluster.URL("postgres"))
	require.NoError(t, err)
	defer admin.Close(context.WithoutCancel(ctx))
	for _, db := range []string{"ingest", "other"} {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
		require.NoError(t, err)
	}
	pool := pgtest.MigratedPool(t, cluster.URL("ingest"))
	x := &activities.Extensions{Pool: pool, Logger: extLogger(t)}

	hasExt := func(db, name string) bool {
		t.Helper()
		conn, err := pgx.Connect(ctx, cluster.URL(db))
		require.NoError(t, err)
		defer conn.Close(ctx)
		var ok bool
		require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_extension WHERE extname = $1)`, name).Scan(&ok))
		return ok
	}

	t.Run("installs, records and is idempotent", func(t *testing.T) {
		in := activities.InstallExtensionsInput{Names: []string{"citext", "pg_partman", "pg_stat_statements"}}
		res, err := runInstall(t, x, in)
		require.NoError(t, err)
		require.Equal(t, "ingest", res.Database)
		require.Equal(t, map[string]pgext.Outcome{
			"pg_stat_statements": pgext.OutcomeNeedsPreload,
			"pg_partman":         pgext.OutcomeNotAvailable,
			"citext":             pgext.OutcomeInstalled,
		}, outcomes(res))
		require.Equal(t, pgext.Counts{Installed: 1, NeedsPreload: 1, NotAvailable: 1}, res.Counts)
		require.True(t, res.RestartNeeded)
		require.Equal(t, []string{"pg_stat_statements"}, res.PreloadNeeded)

		var wf, run string
		require.NoError(t, pool.QueryRow(ctx, `SELECT workflow_id, run_id FROM ops.extension_results LIMIT 1`).Scan(&wf, &run))
		rows, err := store.ListExtensionResults(ctx, pool, wf, run)
		require.NoError(t, err)
		require.Len(t, rows, 3)
		require.Equal(t, "pg_stat_statements", rows[0].Name, "catalog order")
		require.Equal(t, "postgresql-15-partman", rows[1].Package)
		require.Equal(t, "installed", rows[2].Outcome)

		// The same run again (as a retried activity would): already
		// present, and still one row per extension.
		res, err = runInstall(t, x, in)
		require.NoError(t, err)
		require.Equal(t, pgext.OutcomeAlreadyPresent, outcomes(res)["citext"])
		rows, err = store.ListExtensionResults(ctx, pool, wf, run)
		require.NoError(t, err)
		require.Len(t, rows, 3)
		require.Equal(t, "already_present", rows[2].Outcome)
	})

	t.Run("check only creates nothing", func(t *testing.T) {
		res, err := runInstall(t, x, activities.InstallExtensionsInput{Names: []string{"hstore"}, CheckOnly: true})
		require.NoError(t, err)
		require.Equal(t, pgext.OutcomeInstallable, outcomes(res)["hstore"])
		require.False(t, hasExt("ingest", "hstore"))
	})

	t.Run("another database on the same server", func(t *testing.T) {
		res, err := runInstall(t, x, activities.InstallExtensionsInput{Names: []string{"ltree"}, Database: "other"})
		require.NoError(t, err)
		require.Equal(t, "other", res.Database)
		require.Equal(t, pgext.OutcomeInstalled, outcomes(res)["ltree"])
		require.True(t, hasExt("other", "ltree"))
		require.False(t, hasExt("ingest", "ltree"))
		var n int
		require.NoError(t, pool.QueryRow(ctx,
			`SELECT count(*) FROM ops.extension_results WHERE database_name = 'other' AND name = 'ltree'`).Scan(&n))
		require.Equal(t, 1, n, "recorded in the ingest database")
	})

	t.Run("unknown name is not retried", func(t *testing.T) {
		_, err := runInstall(t, x, activities.InstallExtensionsInput{Names: []string{"citext", "no_such_ext"}})
		requireAppError(t, err, activities.ErrTypeInvalidInput, false, `unknown extension "no_such_ext"`)
	})

	t.Run("unknown profile is not retried", func(t *testing.T) {
		_, err := runInstall(t, x, activities.InstallExtensionsInput{Profile: "most"})
		requireAppError(t, err, activities.ErrTypeInvalidInput, false, `profile: unknown profile "most"`)
	})

	t.Run("missing database is not retried", func(t *testing.T) {
		_, err := runInstall(t, x, activities.InstallExtensionsInput{Database: "no_such_db"})
		requireAppError(t, err, activities.ErrTypeDatabaseNotFound, false, "no_such_db")
	})
}

// TestInstallExtensionsRetriesWhenTheServerIsAway points the pool at a port
// nothing listens on.
func TestInstallExtensionsRetriesWhenTheServerIsAway(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	pool, err := pgxpool.New(context.Background(),
		"postgres://postgres@127.0.0.1:"+strconv.Itoa(port)+"/ingest?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	defer pool.Close()
	x := &activities.Extensions{Pool: pool}
	_, err = runInstall(t, x, activities.InstallExtensionsInput{})
	requireAppError(t, err, activities.ErrTypePostgresUnavailable, true, "connect to postgres@127.0.0.1")
}
