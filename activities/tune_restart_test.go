package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgtest"
)

// runRestart runs RestartPostgres with the command line against cluster c,
// calling beat on every heartbeat, and checks that the server came back
// restarted.
func runRestart(t *testing.T, c *pgtest.Cluster, line string, beat func()) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, c.URL("postgres"))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	require.NoError(t, err)
	var before time.Time
	require.NoError(t, conn.QueryRow(ctx, `SELECT pg_postmaster_start_time()`).Scan(&before))
	require.NoError(t, conn.Close(ctx))

	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetTestTimeout(90 * time.Second)
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beat() })
	env.RegisterActivity(&activities.Tuning{Pool: pool, RestartCommand: line})
	v, err := env.ExecuteActivity((&activities.Tuning{}).RestartPostgres, activities.RestartInput{Before: before, Wait: time.Minute})
	require.NoError(t, err)
	var res activities.RestartResult
	require.NoError(t, v.Get(&res))
	require.True(t, res.Restarted)
	require.True(t, res.StartedAfter.After(before))
	require.True(t, c.Running())
}

// TestRestartPostgresHeartbeatsWhileASlowCommandRuns: a restart whose
// shutdown checkpoint takes a while must keep heartbeating, or Temporal
// would time the attempt out and start a second restart beside it.
func TestRestartPostgresHeartbeatsWhileASlowCommandRuns(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	// Six seconds of "checkpoint" before the real restart.
	slow := "sleep 6 && " + c.RestartCommand()
	var beats atomic.Int32
	runRestart(t, c, slow, func() { beats.Add(1) })
	require.GreaterOrEqual(t, beats.Load(), int32(1), "heartbeats while the command ran")
}

// TestRestartPostgresCommandWithoutLogFile: `pg_ctl restart` without -l
// leaves the new postmaster holding the command's output; the activity
// must still return once pg_ctl has, not when the server stops.
func TestRestartPostgresCommandWithoutLogFile(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	cmd := []string{filepath.Join(c.BinDir(), "pg_ctl"), "restart", "-D", c.DataDir(), "-m", "fast", "-w", "-o", "-p " + strconv.Itoa(c.Port)}
	if os.Geteuid() == 0 {
		cmd = append([]string{"runuser", "-u", "postgres", "--"}, cmd...)
	}
	runRestart(t, c, pgtest.ShellLine(cmd), func() {})
}

// TestRestartPostgresRunsAShellCommandLine: PG_RESTART_COMMAND is written as
// a shell reads it. A quoted -o argument with two options (the form that
// splitting on spaces broke: "invalid option -- 'k'") and an environment
// variable both work.
func TestRestartPostgresRunsAShellCommandLine(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	cmd := []string{filepath.Join(c.BinDir(), "pg_ctl"), "restart", "-D", c.DataDir(), "-m", "fast", "-w",
		"-l", filepath.Join(c.Dir, "server.log"), "-o", "-p " + strconv.Itoa(c.Port) + " -k " + c.SocketDir()}
	if os.Geteuid() == 0 {
		cmd = append([]string{"runuser", "-u", "postgres", "--"}, cmd...)
	}
	line := "MODE=fast; " + strings.Replace(pgtest.ShellLine(cmd), " fast ", ` "$MODE" `, 1)
	require.Contains(t, line, `-o '-p `)
	runRestart(t, c, line, func() {})
}
