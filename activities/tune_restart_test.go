package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/store"
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

// failingRestart applies wal_level = minimal under run runID: with the
// default max_wal_senders = 10 the server refuses to start with it ("WAL
// streaming (max_wal_senders > 0) requires wal_level replica or logical"),
// so the next restart leaves it down. It returns the plan's report.
func failingRestart(t *testing.T, b *tuneBundle, runID string) pgtune.ApplyReport {
	t.Helper()
	plan, err := runTune[pgtune.Plan](t, b, b.tuning.PlanTuning, pgtune.Request{Memory: "1GB", CPUs: 1,
		Overrides: []pgtune.Override{{Name: "wal_level", Value: "minimal"}}})
	require.NoError(t, err)
	rep, err := runTune[pgtune.ApplyReport](t, b, b.tuning.ApplyTuning, activities.ApplyTuningInput{Plan: plan, WorkflowID: "wf", RunID: runID})
	require.NoError(t, err)
	require.Contains(t, rep.PendingRestart, "wal_level")
	return rep
}

func changedSettings(rep pgtune.ApplyReport) []string {
	var names []string
	for _, c := range rep.Changes {
		names = append(names, c.Name)
	}
	return names
}

// TestRestartThatLeavesTheServerDownRestoresItsConfiguration: a restart
// the server does not survive is undone without a hand: the worker writes
// back the postgresql.auto.conf the run kept, restarts again, and fails
// saying what it restored. The server runs its old settings.
func TestRestartThatLeavesTheServerDownRestoresItsConfiguration(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)
	names := []string{"wal_level", "shared_buffers", "work_mem", "max_connections"}
	before, autoBefore := b.settings(t, names), b.autoConf(t)
	rep := failingRestart(t, b, "run-down")

	_, err := runTune[activities.RestartResult](t, b, b.tuning.RestartPostgres, activities.RestartInput{
		Before: rep.PostmasterStartTime, Wait: time.Minute, RunID: "run-down", Settings: changedSettings(rep)})
	requireTuneError(t, err, activities.ErrTypeRestartFailed, "pg_ctl: could not start server")
	require.ErrorContains(t, err, "PostgreSQL did not come back, so the worker restored "+filepath.Join(b.cluster.DataDir(), "postgresql.auto.conf")+
		" as it was before run run-down (taken out: ")
	require.ErrorContains(t, err, `"wal_level = 'minimal'"`)
	require.ErrorContains(t, err, "the server runs its old settings again")
	require.True(t, b.cluster.Running(), "the server is up, without a hand")
	require.Equal(t, autoBefore, b.autoConf(t))
	b.pool.Reset()
	require.Equal(t, before, b.settings(t, names))
	require.Contains(t, b.cluster.Log(), `requires wal_level "replica" or "logical"`, "the first restart failed for the reason the test gave it")

	snap, err := store.GetTuningSnapshot(b.ctx, b.pool, "run-down")
	require.NoError(t, err)
	require.NotNil(t, snap.RestoredAt)
}

// TestSignalledRestartThatLeftTheServerDownRestoresItsConfiguration: the
// same under the signal policy, where an operator restarted the server.
// ConfirmRestart reads the kept file while the server is still up (the
// operator signals before the restart) and, once the wait shows it down,
// restores it and restarts with the worker's command.
func TestSignalledRestartThatLeftTheServerDownRestoresItsConfiguration(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)
	names := []string{"wal_level", "shared_buffers"}
	before, autoBefore := b.settings(t, names), b.autoConf(t)
	rep := failingRestart(t, b, "run-signal")

	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(b.tuning)
	var operator sync.Once
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) {
		// The operator's restart, once the activity is waiting for it.
		operator.Do(func() { _, _ = pgtune.RunCommand(b.ctx, b.cluster.RestartCommand()) })
	})
	_, err := env.ExecuteActivity(b.tuning.ConfirmRestart, activities.RestartInput{
		Before: rep.PostmasterStartTime, Wait: 5 * time.Second, RunID: "run-signal", Settings: changedSettings(rep)})
	requireTuneError(t, err, activities.ErrTypeRestartFailed, "the server did not come back within 5s")
	require.ErrorContains(t, err, "as it was before run run-signal")
	require.ErrorContains(t, err, "the server runs its old settings again")
	require.True(t, b.cluster.Running())
	require.Equal(t, autoBefore, b.autoConf(t))
	b.pool.Reset()
	require.Equal(t, before, b.settings(t, names))
}

// TestRestartThatLeavesARemoteServerDownSaysWhatToDo: when the data
// directory is not on the worker's host, the error gives the exact lines to
// take out and put back and the command to run; doing just that brings the
// server back with its old settings.
func TestRestartThatLeavesARemoteServerDownSaysWhatToDo(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)
	names := []string{"wal_level", "shared_buffers", "work_mem"}
	before, autoBefore := b.settings(t, names), b.autoConf(t)
	rep := failingRestart(t, b, "run-remote")
	// As the worker of a server on another host sees it.
	_, err := b.pool.Exec(b.ctx, `UPDATE ops.tuning_snapshots SET data_directory = '/srv/elsewhere/data' WHERE run_id = 'run-remote'`)
	require.NoError(t, err)

	_, err = runTune[activities.RestartResult](t, b, b.tuning.RestartPostgres, activities.RestartInput{
		Before: rep.PostmasterStartTime, Wait: time.Minute, RunID: "run-remote", Settings: changedSettings(rep)})
	requireTuneError(t, err, activities.ErrTypeRestartFailed, "PostgreSQL is down and its data directory is not reachable from this worker (the data directory /srv/elsewhere/data is not readable on this worker's host): on the database host, remove these lines from /srv/elsewhere/data/postgresql.auto.conf: ")
	require.ErrorContains(t, err, "then run "+b.cluster.RestartCommand())
	require.False(t, b.cluster.Running())

	// Follow the instructions.
	msg := err.Error()
	removePart := msg[strings.Index(msg, "postgresql.auto.conf: ")+len("postgresql.auto.conf: "):]
	removePart = removePart[:strings.Index(removePart, ", then run")]
	var putBack []string
	if i := strings.Index(removePart, "; add these lines back: "); i >= 0 {
		putBack = unquoteLines(t, removePart[i+len("; add these lines back: "):])
		removePart = removePart[:i]
	}
	remove := unquoteLines(t, removePart)
	require.Contains(t, remove, "wal_level = 'minimal'")
	var kept []string
	for _, line := range strings.SplitAfter(b.autoConf(t), "\n") {
		if !slices.Contains(remove, strings.TrimSpace(line)) {
			kept = append(kept, line)
		}
	}
	for _, line := range putBack {
		kept = append(kept, line+"\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join(b.cluster.DataDir(), "postgresql.auto.conf"), []byte(strings.Join(kept, "")), 0o600))
	out, err := pgtune.RunCommand(b.ctx, b.cluster.RestartCommand())
	require.NoError(t, err, out)
	b.pool.Reset()
	require.Equal(t, before, b.settings(t, names))
	require.Equal(t, strings.Count(autoBefore, "\n"), strings.Count(b.autoConf(t), "\n"), "as many lines as before")
}

func unquoteLines(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for _, q := range strings.Split(s, `", "`) {
		line, err := strconv.Unquote(`"` + strings.Trim(q, `"`) + `"`)
		require.NoError(t, err, q)
		out = append(out, line)
	}
	return out
}
