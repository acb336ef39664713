package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/devserver"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/workflows"
)

func tuneTestApp(t *testing.T) (*app, *bytes.Buffer) {
	t.Helper()
	var out, errs bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(errs.String())
		}
	})
	return &app{stdout: &out, stderr: &errs, logger: slog.New(slog.NewTextHandler(&errs, nil)), taskQueue: "congressflow-tune-test"}, &out
}

func TestTuneRevertRejectsBadFlagsBeforeDialling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"--revert", ""}, wantErr: "tune: --revert: run_id: empty"},
		{args: []string{"--revert", "run-1", "--apply"}, wantErr: "--revert takes only --restart, --restart-timeout, --id and --json, not --apply"},
		{args: []string{"--revert", "run-1", "--memory", "4GB", "--plan-only"}, wantErr: "not --memory, --plan-only"},
		{args: []string{"--revert", "run-1", "--restart", "signal"}, wantErr: `restart_policy: "signal" is not a policy for a revert; use one of never, command`},
		{args: []string{"--revert", "run-1", "--restart-timeout", "soon"}, wantErr: `restart_timeout: "soon" is not a positive duration`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			a, _ := tuneTestApp(t)
			require.ErrorContains(t, runTune(context.Background(), a, tt.args), tt.wantErr)
			require.Nil(t, a.client, "no Temporal connection for bad input")
		})
	}
}

func TestPrintRevertResult(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		res  workflows.RevertResult
		want []string // regular expressions, each matched against the output
		not  []string
	}{
		{
			name: "restored and restarted",
			res: workflows.RevertResult{
				Revert: pgtune.RevertReport{RunID: "run-7", Reverted: []pgtune.Change{
					{Name: "work_mem", Old: "64MB", New: "(reset)", Context: pgtune.ContextReload},
					{Name: "shared_buffers", Old: "512MB", New: "256MB", Context: pgtune.ContextRestart},
				}},
				Restart: &activities.RestartResult{Restarted: true, Command: "pg_ctlcluster 15 main restart", StartedAfter: started},
				Summary: "reverted 2 settings of run run-7; 1 settings wait for a restart; restarted, so the old values are live",
			},
			want: []string{
				`(?m)^run run-7: restored 2 settings$`,
				`(?m)^NAME\s+RUN SET\s+RESTORED\s+CONTEXT$`,
				`(?m)^work_mem\s+64MB\s+\(reset\)\s+reload$`,
				`(?m)^shared_buffers\s+512MB\s+256MB\s+restart$`,
				`(?m)^\(reset\): the run's ALTER SYSTEM entry is removed`,
				`(?m)^restarted with pg_ctlcluster 15 main restart: the server started at 2026-11-28T09:30:00Z$`,
				`(?m)^reverted 2 settings of run run-7; .*restarted, so the old values are live$`,
			},
			not: []string{"waiting for a restart"},
		},
		{
			name: "waiting for a restart",
			res: workflows.RevertResult{
				Revert:         pgtune.RevertReport{RunID: "run-7", Reverted: []pgtune.Change{{Name: "shared_buffers", Old: "512MB", New: "256MB", Context: pgtune.ContextRestart}}},
				PendingRestart: []string{"shared_buffers"},
				Summary:        "reverted 1 settings of run run-7; 1 settings wait for a restart",
			},
			want: []string{`(?m)^waiting for a restart: shared_buffers$`},
			not:  []string{"(reset)", "restarted with"},
		},
		{
			name: "nothing to revert",
			res:  workflows.RevertResult{Revert: pgtune.RevertReport{RunID: "run-8", Reverted: []pgtune.Change{}}, Summary: "nothing to revert for run run-8"},
			want: []string{`^\nnothing to revert for run run-8\n$`},
			not:  []string{"NAME"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, printRevertResult(&buf, tt.res))
			for _, w := range tt.want {
				require.Regexp(t, w, buf.String())
			}
			for _, n := range tt.not {
				require.NotContains(t, buf.String(), n)
			}
		})
	}
}

// TestTuneRevertEndToEnd is the operator's way back: `starter tune
// --apply` through the real TuneWorkflow, then `starter tune --revert
// RUN_ID --restart command` through RevertTuningWorkflow, on a Temporal
// dev server and a PostgreSQL cluster of the test's own (ALTER SYSTEM and
// restarts are cluster-wide).
func TestTuneRevertEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := devserver.Start(t)
	cluster := pgtest.Start(t)
	pool := pgtest.MigratedPool(t, cluster.URL("postgres"))
	autoConf := filepath.Join(cluster.DataDir(), "postgresql.auto.conf")
	autoBefore, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	settings := func() map[string]string {
		t.Helper()
		pool.Reset()
		conn, err := pgtune.Connect(ctx, pool)
		require.NoError(t, err)
		defer conn.Close(ctx)
		got := map[string]string{}
		for _, n := range []string{"shared_buffers", "work_mem", "checkpoint_timeout"} {
			var v string
			require.NoError(t, conn.QueryRow(ctx, `SELECT setting FROM pg_settings WHERE name = $1`, n).Scan(&v))
			got[n] = v
		}
		return got
	}
	before := settings()
	require.Equal(t, map[string]string{"shared_buffers": "16384", "work_mem": "4096", "checkpoint_timeout": "300"}, before)

	a, out := tuneTestApp(t)
	a.client = srv.Client()
	w := worker.New(a.client, a.taskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Tuning{Pool: pool, RestartCommand: cluster.RestartCommand()})
	require.NoError(t, w.Start())
	defer w.Stop()

	require.NoError(t, runTune(ctx, a, []string{"--apply", "--memory", "1GB", "--cpus", "1", "--json"}))
	var tuned workflows.TuneResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &tuned))
	require.NotNil(t, tuned.Apply)
	runID := tuned.Apply.RunID
	require.NotEmpty(t, runID)
	require.Contains(t, tuned.PendingRestart, "shared_buffers")
	require.Equal(t, "900", settings()["checkpoint_timeout"], "the reload made it live")

	out.Reset()
	require.NoError(t, runTune(ctx, a, []string{"--revert", runID, "--restart", "command"}))
	text := out.String()
	require.Regexp(t, `(?m)^run `+runID+`: restored \d+ settings$`, text)
	require.Regexp(t, `(?m)^shared_buffers\s+256MB\s+\(reset\)\s+restart$`, text)
	require.Regexp(t, `(?m)^checkpoint_timeout\s+15min\s+\(reset\)\s+reload$`, text)
	require.Regexp(t, `(?m)^restarted with .*pg_ctl restart .*: the server started at `, text)
	require.Contains(t, text, "restarted, so the old values are live")
	require.NotContains(t, text, "waiting for a restart")

	require.Equal(t, before, settings(), "every setting is back")
	auto, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	require.Equal(t, string(autoBefore), string(auto))

	out.Reset()
	require.NoError(t, runTune(ctx, a, []string{"--revert", runID}))
	require.Equal(t, "\nnothing to revert: run "+runID+" was already reverted\n", out.String())

	// A run ID that never applied anything is an error, not "nothing to
	// revert", and it is not retried.
	out.Reset()
	err = runTune(ctx, a, []string{"--revert", "no-such-run"})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, activities.ErrTypeNotFound, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.ErrorContains(t, err, "run no-such-run: no such tune run")
	require.Empty(t, out.String())
}

func TestPrintTuneResultNamesTheRunToRevert(t *testing.T) {
	t.Parallel()
	applied := workflows.TuneResult{
		Apply:   &pgtune.ApplyReport{RunID: "run-9", Changes: []pgtune.Change{{Name: "work_mem", Old: "4MB", New: "64MB"}}},
		Summary: "changed 1 settings: 1 live, 0 wait for a restart; verified",
	}
	var buf bytes.Buffer
	require.NoError(t, printTuneResult(&buf, applied))
	require.Contains(t, buf.String(), "run ID run-9; to undo it: starter tune --revert run-9\n")

	for _, res := range []workflows.TuneResult{
		{DryRun: true, Summary: "dry run"},
		{Apply: &pgtune.ApplyReport{RunID: "run-9", Changes: []pgtune.Change{}}, Summary: "nothing to change"},
	} {
		buf.Reset()
		require.NoError(t, printTuneResult(&buf, res))
		require.NotContains(t, buf.String(), "--revert", res.Summary)
	}
}
