package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestDatabaseIsFreshAndUsable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)

	var db string
	require.NoError(t, conn.QueryRow(ctx, "select current_database()").Scan(&db))
	require.Contains(t, db, "testdatabaseisfreshandusable")

	var n int
	require.NoError(t, conn.QueryRow(ctx, "select count(*) from pg_namespace where nspname in ('ops','congress')").Scan(&n))
	require.Zero(t, n)
}

func TestClusterRestartChangesStartTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := pgtest.Start(t)

	startTime := func() string {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		require.NoError(t, err)
		defer conn.Close(ctx)
		var s string
		require.NoError(t, conn.QueryRow(ctx, "select pg_postmaster_start_time()::text").Scan(&s))
		return s
	}
	before := startTime()
	require.NoError(t, c.Restart(ctx))
	require.NotEqual(t, before, startTime())
	require.True(t, c.Running())
}
