package activities_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
)

// fakeProber stands in for the host probe: the worker host is a 2 CPU,
// 2 GiB machine, small enough for a test cluster to restart with the
// settings computed for it.
type fakeProber struct {
	cpus float64
	mem  uint64
	err  error
}

func (p fakeProber) Probe(context.Context) (sysprobe.Profile, error) {
	return sysprobe.Profile{Effective: sysprobe.Effective{CPUs: p.cpus, MemoryBytes: p.mem}}, p.err
}

// fakePreload stands in for the extension catalog.
type fakePreload struct {
	libs []string
	err  error
}

func (f fakePreload) PreloadLibraries(string, []string) ([]string, error) { return f.libs, f.err }

type tuneLogWriter struct{ t testing.TB }

func (w tuneLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

type tuneBundle struct {
	ctx     context.Context
	cluster *pgtest.Cluster
	pool    *pgxpool.Pool
	tuning  *activities.Tuning
	logger  *slog.Logger
}

// tuneSetup starts a cluster of the test's own: tuning changes cluster-wide
// settings and restarts the server.
func tuneSetup(t *testing.T) *tuneBundle {
	t.Helper()
	ctx := context.Background()
	c := pgtest.Start(t)
	pool := pgtest.MigratedPool(t, c.URL("postgres"))
	logger := slog.New(slog.NewTextHandler(tuneLogWriter{t}, nil))
	return &tuneBundle{ctx: ctx, cluster: c, pool: pool, logger: logger, tuning: &activities.Tuning{
		Pool:           pool,
		Prober:         fakeProber{cpus: 2, mem: 2 << 30},
		Preload:        fakePreload{libs: []string{"pg_stat_statements"}},
		RestartCommand: c.RestartCommand(),
		Logger:         logger,
	}}
}

// runTune runs one activity method in Temporal's test activity environment.
func runTune[T any](t *testing.T, b *tuneBundle, method, in any) (T, error) {
	t.Helper()
	var out T
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(b.logger))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(b.tuning)
	val, err := env.ExecuteActivity(method, in)
	if err != nil {
		return out, err
	}
	require.NoError(t, val.Get(&out))
	return out, nil
}

func requireTuneError(t *testing.T, err error, errType string, msg string) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %T: %v", err, err)
	require.Equal(t, errType, appErr.Type(), "%v", err)
	require.True(t, appErr.NonRetryable(), "%v", err)
	require.Contains(t, err.Error(), msg)
}

func (b *tuneBundle) settings(t *testing.T, names []string) map[string]string {
	t.Helper()
	conn, err := pgtune.Connect(b.ctx, b.pool)
	require.NoError(t, err)
	defer conn.Close(b.ctx)
	rows, err := conn.Query(b.ctx, `SELECT name, setting FROM pg_settings WHERE name = ANY($1)`, names)
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

func (b *tuneBundle) autoConf(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.cluster.DataDir(), "postgresql.auto.conf"))
	require.NoError(t, err)
	return string(data)
}

// TestTuneActivitiesPlanApplyRestartVerifyRevert drives the activities the
// way TuneWorkflow does with the command restart policy, against a real
// PostgreSQL 15 restarted by pg_ctl.
func TestTuneActivitiesPlanApplyRestartVerifyRevert(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)

	// The zero request: the server is local, so the probe supplies the
	// hardware.
	plan, err := runTune[pgtune.Plan](t, b, b.tuning.PlanTuning, pgtune.Request{})
	require.NoError(t, err)
	require.Equal(t, pgtune.Hardware{MemoryBytes: 2 << 30, Memory: "2GB", CPUs: 2, Source: pgtune.HardwareProbe}, plan.Hardware)
	require.Equal(t, 15, plan.PGVersion)
	require.Equal(t, fmt.Sprintf("postgres@127.0.0.1:%d/postgres", b.cluster.Port), plan.Server)
	sb, _ := plan.Get("shared_buffers")
	require.Equal(t, "512MB", sb.Value)
	require.Positive(t, plan.RestartChanges)

	names := make([]string, len(plan.Items))
	for i, it := range plan.Items {
		names[i] = it.Name
	}
	before, autoBefore := b.settings(t, names), b.autoConf(t)

	rep, err := runTune[pgtune.ApplyReport](t, b, b.tuning.ApplyTuning, activities.ApplyTuningInput{Plan: plan, WorkflowID: "wf", RunID: "run-act"})
	require.NoError(t, err)
	require.Empty(t, rep.Rejected)
	require.Len(t, rep.Changes, plan.Changes)
	var restartNames []string
	for _, c := range rep.Changes {
		if c.Context == pgtune.ContextRestart {
			restartNames = append(restartNames, c.Name)
		}
	}
	require.ElementsMatch(t, restartNames, rep.PendingRestart)

	// Before the restart, verify accepts settings that wait for it.
	vr, err := runTune[pgtune.VerifyReport](t, b, b.tuning.VerifyTuning, activities.VerifyTuningInput{Plan: plan})
	require.NoError(t, err)
	require.ElementsMatch(t, restartNames, vr.PendingRestart)

	rr, err := runTune[activities.RestartResult](t, b, b.tuning.RestartPostgres, activities.RestartInput{Before: rep.PostmasterStartTime})
	require.NoError(t, err)
	require.True(t, rr.Restarted)
	require.True(t, rr.StartedAfter.After(rep.PostmasterStartTime))
	require.True(t, b.cluster.Running())

	vr, err = runTune[pgtune.VerifyReport](t, b, b.tuning.VerifyTuning, activities.VerifyTuningInput{Plan: plan, Restarted: true})
	require.NoError(t, err)
	require.Empty(t, vr.PendingRestart)
	require.Empty(t, vr.Mismatches)
	require.Equal(t, "65536", b.settings(t, []string{"shared_buffers"})["shared_buffers"])

	// A retried restart attempt sees the server already restarted and does
	// not restart it again.
	again, err := runTune[activities.RestartResult](t, b, b.tuning.RestartPostgres, activities.RestartInput{Before: rep.PostmasterStartTime})
	require.NoError(t, err)
	require.Equal(t, rr.StartedAfter, again.StartedAfter)

	rv, err := runTune[pgtune.RevertReport](t, b, b.tuning.RevertTuning, activities.RevertTuningInput{RunID: "run-act"})
	require.NoError(t, err)
	require.Len(t, rv.Reverted, len(rep.Changes))
	require.Contains(t, rv.PendingRestart, "shared_buffers")
	require.Subset(t, restartNames, rv.PendingRestart, "only settings this run changed wait to go back")
	require.Equal(t, autoBefore, b.autoConf(t))

	_, err = runTune[activities.RestartResult](t, b, b.tuning.RestartPostgres, activities.RestartInput{Before: rr.StartedAfter})
	require.NoError(t, err)
	require.Equal(t, before, b.settings(t, names), "every recorded setting is back to its old value")
}

func TestPlanTuningHardwareSources(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)
	tests := []struct {
		name    string
		prober  activities.Prober
		req     pgtune.Request
		want    pgtune.Hardware
		wantErr string
		// retryable: the error is worth another attempt (a failed probe),
		// not an input error.
		retryable bool
	}{
		{name: "input only", prober: fakeProber{cpus: 64, mem: 512 << 30}, req: pgtune.Request{Memory: "4GB", CPUs: 4},
			want: pgtune.Hardware{MemoryBytes: 4 << 30, Memory: "4GB", CPUs: 4, Source: pgtune.HardwareInput}},
		{name: "memory from input, cpus probed", prober: fakeProber{cpus: 2.5, mem: 512 << 30}, req: pgtune.Request{Memory: "3GB"},
			want: pgtune.Hardware{MemoryBytes: 3 << 30, Memory: "3GB", CPUs: 2, Source: pgtune.HardwareMixed}},
		{name: "no probe and no memory", req: pgtune.Request{CPUs: 4},
			wantErr: `memory: the database host's hardware is unknown (this worker has no probe); set memory (e.g. "32GB") and cpus in the input`},
		{name: "probe failure is retried", prober: fakeProber{err: errors.New("proc unreadable")},
			wantErr: "probe the database host: proc unreadable", retryable: true},
		{name: "memory beyond the probe", prober: fakeProber{cpus: 2, mem: 2 << 30}, req: pgtune.Request{Memory: "512GB", CPUs: 2},
			wantErr: "memory: 512GB is more than the 2GB the probe found on the database host (this worker's host); give at most 2GB, or set force to plan for 512GB anyway"},
		{name: "cpus beyond the probe", prober: fakeProber{cpus: 2, mem: 2 << 30}, req: pgtune.Request{CPUs: 64},
			wantErr: "cpus: 64 is more than the 2 CPUs the probe found on the database host (this worker's host); give at most 2, or set force to plan for 64 anyway"},
		{name: "both beyond the probe", prober: fakeProber{cpus: 1.5, mem: 2 << 30}, req: pgtune.Request{Memory: "3GB", CPUs: 3},
			wantErr: "memory: 3GB is more than the 2GB the probe found on the database host (this worker's host); give at most 2GB, or set force to plan for 3GB anyway; cpus: 3 is more than the 1.5 CPUs"},
		{name: "a fractional quota rounds up", prober: fakeProber{cpus: 1.5, mem: 2 << 30}, req: pgtune.Request{Memory: "2GB", CPUs: 2},
			want: pgtune.Hardware{MemoryBytes: 2 << 30, Memory: "2GB", CPUs: 2, Source: pgtune.HardwareInput}},
		{name: "force plans beyond the probe", prober: fakeProber{cpus: 2, mem: 2 << 30}, req: pgtune.Request{Memory: "512GB", CPUs: 64, Force: true},
			want: pgtune.Hardware{MemoryBytes: 512 << 30, Memory: "512GB", CPUs: 64, Source: pgtune.HardwareInput}},
		{name: "a failed probe leaves given figures unchecked", prober: fakeProber{err: errors.New("proc unreadable")}, req: pgtune.Request{Memory: "3GB", CPUs: 3},
			want: pgtune.Hardware{MemoryBytes: 3 << 30, Memory: "3GB", CPUs: 3, Source: pgtune.HardwareInput}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := *b
			tu := *b.tuning
			tu.Prober = tt.prober
			tb.tuning = &tu
			plan, err := runTune[pgtune.Plan](t, &tb, tu.PlanTuning, tt.req)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				var appErr *temporal.ApplicationError
				require.True(t, errors.As(err, &appErr))
				require.Equal(t, !tt.retryable, appErr.NonRetryable(), "missing or excessive hardware is an input error; a failed probe is retried")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, plan.Hardware)
		})
	}
}

// TestTuneRejectsBadInputFast: bad input fails non-retryably, names the
// field, and changes nothing on the server.
func TestTuneRejectsBadInputFast(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)
	autoBefore := b.autoConf(t)
	tests := []struct {
		name    string
		preload activities.PreloadResolver
		req     pgtune.Request
		wantErr string
	}{
		{name: "unknown workload", req: pgtune.Request{Workload: "olap"}, wantErr: `workload: "olap" is not a workload`},
		{name: "negative memory", req: pgtune.Request{Memory: "-8GB"}, wantErr: "memory: must be positive"},
		{name: "unknown setting in overrides", req: pgtune.Request{Memory: "2GB", Overrides: []pgtune.Override{{Name: "fsync", Value: "off"}}},
			wantErr: "overrides[0]: fsync: not a setting this tool manages"},
		{name: "bad override value", req: pgtune.Request{Memory: "2GB", Overrides: []pgtune.Override{{Name: "work_mem", Value: "64MB; SELECT 1"}}},
			wantErr: "overrides[0]: work_mem"},
		{name: "preload library as a path", req: pgtune.Request{Memory: "2GB", Overrides: []pgtune.Override{{Name: "shared_preload_libraries", Value: "/etc/passwd"}}},
			wantErr: `overrides[0]: shared_preload_libraries: "/etc/passwd" is not a bare library name`},
		{name: "unknown extension", preload: fakePreload{err: errors.New(`unknown extension "nope"`)}, req: pgtune.Request{Memory: "2GB", ExtensionNames: []string{"nope"}},
			wantErr: `extension_profile/extension_names: unknown extension "nope"`},
		{name: "extensions without a catalog", req: pgtune.Request{Memory: "2GB", ExtensionProfile: "recommended"},
			wantErr: "extension_profile/extension_names: this worker has no extension catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := *b
			tu := *b.tuning
			tu.Preload = tt.preload
			tb.tuning = &tu
			_, err := runTune[pgtune.Plan](t, &tb, tu.PlanTuning, tt.req)
			requireTuneError(t, err, activities.ErrTypeInvalidInput, tt.wantErr)
		})
	}
	_, err := runTune[pgtune.ApplyReport](t, b, b.tuning.ApplyTuning, activities.ApplyTuningInput{Plan: pgtune.Plan{Changes: 1}})
	requireTuneError(t, err, activities.ErrTypeInvalidInput, "run_id: empty")

	// Reverting a run that never applied anything is NotFound, not
	// "nothing to revert"; the compensation (MissingOK) gets an empty
	// report.
	_, err = runTune[pgtune.RevertReport](t, b, b.tuning.RevertTuning, activities.RevertTuningInput{RunID: "never-applied"})
	requireTuneError(t, err, activities.ErrTypeNotFound, "run never-applied: no such tune run")
	rv, err := runTune[pgtune.RevertReport](t, b, b.tuning.RevertTuning, activities.RevertTuningInput{RunID: "never-applied", MissingOK: true})
	require.NoError(t, err)
	require.Empty(t, rv.Reverted)
	require.Equal(t, "nothing to revert: run never-applied changed nothing", rv.Message)

	require.Equal(t, autoBefore, b.autoConf(t), "nothing applied")
	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM ops.tuning_changes`).Scan(&n))
	require.Zero(t, n)
}

func TestRestartActivitiesConfirmTheRestart(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)
	conn, err := pgx.Connect(b.ctx, b.cluster.URL("postgres"))
	require.NoError(t, err)
	started, err := pgtune.PostmasterStartTime(b.ctx, conn)
	require.NoError(t, err)
	require.NoError(t, conn.Close(b.ctx))

	// An operator said they restarted the server, but they did not.
	_, err = runTune[activities.RestartResult](t, b, b.tuning.ConfirmRestart, activities.RestartInput{Before: started, Wait: time.Second})
	requireTuneError(t, err, activities.ErrTypeRestartFailed, "the server was not restarted within 1s")

	require.NoError(t, b.cluster.Restart(b.ctx))
	res, err := runTune[activities.RestartResult](t, b, b.tuning.ConfirmRestart, activities.RestartInput{Before: started, Wait: 30 * time.Second})
	require.NoError(t, err)
	require.True(t, res.Restarted)
	require.True(t, res.StartedAfter.After(started))

	tu := *b.tuning
	tu.RestartCommand = ""
	tb := *b
	tb.tuning = &tu
	_, err = runTune[activities.RestartResult](t, &tb, tu.RestartPostgres, activities.RestartInput{Before: res.StartedAfter})
	requireTuneError(t, err, activities.ErrTypeRestartFailed, "the worker has no restart command configured")

	tu.RestartCommand = "false"
	_, err = runTune[activities.RestartResult](t, &tb, tu.RestartPostgres, activities.RestartInput{Before: res.StartedAfter})
	requireTuneError(t, err, activities.ErrTypeRestartFailed, "run false: exit status 1")
}

// TestTuneActivitiesReportAnOutageOnce: with the server away the tune
// activities fail retryably (PostgresUnavailable), and the error reads
// once: no cause repeating the message after it.
func TestTuneActivitiesReportAnOutageOnce(t *testing.T) {
	t.Parallel()
	b := tuneSetup(t)
	require.NoError(t, b.cluster.Stop(b.ctx))
	_, err := runTune[pgtune.Plan](t, b, b.tuning.PlanTuning, pgtune.Request{})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, activities.ErrTypePostgresUnavailable, appErr.Type())
	require.False(t, appErr.NonRetryable())
	require.Equal(t, 1, strings.Count(err.Error(), "connection refused"), "%v", err)
	require.Nil(t, errors.Unwrap(appErr), "no cause to print a second time")
}
