package workerapp_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/devserver"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
	"github.com/opendiscourse/congressflow/internal/workerapp"
	"github.com/opendiscourse/congressflow/workflows"
)

// updateHistory rewrites the replay fixtures in workflows/testdata from the
// runs these tests make: go test ./internal/workerapp -run Pipeline -update-history
var updateHistory = flag.Bool("update-history", false, "write the recorded workflow histories to workflows/testdata")

func TestMain(m *testing.M) { pgtest.Main(m) }

type testBundle struct {
	ctx    context.Context
	client client.Client
	dbURL  string
	pool   *pgxpool.Pool
	queue  string
}

// setup starts a real dev server, a fresh database on the shared cluster
// and the real worker code, and stops them when the test ends.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, workerapp.Config{DatabaseURL: pgtest.Database(t)})
}

// setupWith is setup with the worker configuration a test needs (its own
// cluster, a restart command). The task queue and client are filled in.
func setupWith(t *testing.T, cfg workerapp.Config) *testBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	srv := devserver.Start(t)
	b := &testBundle{ctx: ctx, client: srv.Client(), dbURL: cfg.DatabaseURL, queue: "test-" + t.Name()}
	b.runWorker(t, cfg)
	b.pool = pgtest.MigratedPool(t, b.dbURL)
	return b
}

// runWorker runs the real worker code in this process, on the bundle's
// dev server and task queue, until the test ends.
func (b *testBundle) runWorker(t *testing.T, cfg workerapp.Config) {
	t.Helper()
	cfg.TaskQueue, cfg.TemporalClient, cfg.StopTimeout = b.queue, b.client, 5*time.Second
	if cfg.Congress.BaseURL == "" {
		// The pipeline's ingest stage reads a small fake of the API.
		fake := congresstest.NewServer(congresstest.Options{ItemsPerEndpoint: 30})
		t.Cleanup(fake.Close)
		cfg.Congress = congress.Config{BaseURL: fake.URL(), APIKey: "PIPELINE-TEST-KEY"}
		cfg.APIRequestsPerHour = 10_000_000
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runCtx, stop := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() {
		done <- workerapp.Run(runCtx, cfg, logger)
	}()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})
}

func TestPipelineAnalyzeStoresTheReturnedProfile(t *testing.T) {
	t.Parallel()
	b := setup(t)

	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{
		ID:        "pipeline-default",
		TaskQueue: b.queue,
	}, workflows.PipelineWorkflow, workflows.PipelineInput{})
	require.NoError(t, err)
	var res workflows.PipelineResult
	require.NoError(t, run.Get(b.ctx, &res))
	require.Equal(t, []string{workflows.StageAnalyze, workflows.StageTune, workflows.StageExtensions, workflows.StageIngest,
		workflows.StageReport}, res.Stages)
	require.NotNil(t, res.Report)
	require.Positive(t, res.Report.ID)
	require.Len(t, res.Report.Ingest, len(workflows.DefaultEndpoints), "the report shows the walks the run made")
	require.NotNil(t, res.Ingest)
	require.Empty(t, res.Ingest.Failed)
	require.Len(t, res.Ingest.Rows, len(workflows.DefaultEndpoints))
	for _, r := range res.Ingest.Rows {
		require.Positive(t, r.Rows, "%s has rows", r.Table)
	}
	require.NotNil(t, res.Analysis)
	require.Positive(t, res.Analysis.Profile.Effective.CPUs)

	row, err := store.GetSystemAnalysis(b.ctx, b.pool, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	var stored sysprobe.Profile
	require.NoError(t, json.Unmarshal(row.Profile, &stored))
	require.Equal(t, res.Analysis.Profile, stored, "the row holds exactly the profile the workflow returned")
	require.Equal(t, res.Analysis.Profile.Hostname, row.Hostname)
	require.True(t, res.Analysis.Profile.CollectedAt.Equal(row.CollectedAt))

	desc, err := b.client.DescribeWorkflow(b.ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.RawResponse.WorkflowExecutionInfo.Status)

	// The tune stage made a dry-run plan from the probe (the database is
	// local), including the preload library the extensions stage needs.
	require.NotNil(t, res.Tune)
	require.True(t, res.Tune.DryRun)
	require.Nil(t, res.Tune.Apply)
	require.Equal(t, "probe", res.Tune.Plan.Hardware.Source)
	spl, ok := res.Tune.Plan.Get("shared_preload_libraries")
	require.True(t, ok)
	require.Contains(t, spl.Value, "pg_stat_statements")

	// The extensions stage ran the recommended profile on the test database.
	require.NotNil(t, res.Extensions)
	outcomes := map[string]pgext.Outcome{}
	for _, o := range res.Extensions.Outcomes {
		outcomes[o.Name] = o.Outcome
	}
	require.Equal(t, pgext.OutcomeInstalled, outcomes["citext"])
	require.Equal(t, pgext.OutcomeNeedsPreload, outcomes["pg_stat_statements"], "the shared test cluster does not preload it")
	// Every member of the profile has its outcome, pg_cron (whose package
	// the test machine lacks) included.
	require.Len(t, res.Extensions.Outcomes, len(pgext.Default().Recommended()))
	require.Equal(t, pgext.OutcomeNotAvailable, outcomes["pg_cron"])

	replay(t, b, run.GetID(), run.GetRunID())
}

// TestPipelineExtensionsStageAlone is what
// `temporal workflow start --type PipelineWorkflow --input '{"stages":["extensions"]}'` does.
func TestPipelineExtensionsStageAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)

	var in workflows.PipelineInput
	require.NoError(t, json.Unmarshal([]byte(`{"stages":["extensions"],"extensions":{"names":["hstore","pg_partman"]}}`), &in))
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "pipeline-extensions", TaskQueue: b.queue},
		workflows.PipelineWorkflow, in)
	require.NoError(t, err)
	var res workflows.PipelineResult
	require.NoError(t, run.Get(b.ctx, &res))
	require.Equal(t, []string{workflows.StageExtensions}, res.Stages)
	require.Nil(t, res.Analysis)
	require.Len(t, res.Extensions.Outcomes, 2, "one outcome per extension")
	got := map[string]pgext.Result{}
	for _, o := range res.Extensions.Outcomes {
		got[o.Name] = o
	}
	require.Equal(t, pgext.OutcomeInstalled, got["hstore"].Outcome)
	require.Equal(t, pgext.OutcomeNotAvailable, got["pg_partman"].Outcome)
	require.Equal(t, "postgresql-15-partman", got["pg_partman"].Package)

	recorded, err := store.ListExtensionResults(b.ctx, b.pool, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Len(t, recorded, 2)

	replay(t, b, run.GetID(), run.GetRunID())
}

// TestPipelineAppliesTuningRestartsAndInstallsPreloadedExtensions is the
// whole product on a cluster of its own: the tune stage applies the plan,
// including pg_stat_statements in shared_preload_libraries, restarts the
// server with the worker's command and verifies; the extensions stage then
// installs pg_stat_statements in the same run.
func TestPipelineAppliesTuningRestartsAndInstallsPreloadedExtensions(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	b := setupWith(t, workerapp.Config{DatabaseURL: cluster.URL("postgres"), PGRestartCommand: cluster.RestartCommand()})

	var in workflows.PipelineInput
	require.NoError(t, json.Unmarshal([]byte(`{"stages":["tune","extensions"],
		"tune":{"apply":true,"restart_policy":"command","memory":"2GB","cpus":2}}`), &in))
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "pipeline-apply", TaskQueue: b.queue},
		workflows.PipelineWorkflow, in)
	require.NoError(t, err)
	var res workflows.PipelineResult
	require.NoError(t, run.Get(b.ctx, &res))

	require.NotNil(t, res.Tune)
	require.False(t, res.Tune.DryRun)
	require.NotNil(t, res.Tune.Restart)
	require.True(t, res.Tune.Restart.Restarted)
	require.NotNil(t, res.Tune.Verify)
	require.Empty(t, res.Tune.PendingRestart, "everything is live after the restart")

	// The test's own pool still holds connections from before the restart.
	b.pool.Reset()
	var spl, sb string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT current_setting('shared_preload_libraries'), current_setting('shared_buffers')`).Scan(&spl, &sb))
	require.Contains(t, spl, "pg_stat_statements")
	require.Equal(t, "512MB", sb, "PGTune: 25% of 2GB")

	outcomes := map[string]pgext.Outcome{}
	for _, o := range res.Extensions.Outcomes {
		outcomes[o.Name] = o.Outcome
	}
	require.Equal(t, pgext.OutcomeInstalled, outcomes["pg_stat_statements"], "preloaded by the tune stage in the same run")
	require.Zero(t, res.Extensions.Counts.NeedsPreload)

	var changes int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM ops.tuning_changes`).Scan(&changes))
	require.Positive(t, changes, "every change is recorded for revert")

	replay(t, b, run.GetID(), run.GetRunID())
}

// TestTuneSignalPolicyThenRevert covers the operator's path: TuneWorkflow
// applies and waits for the postgres-restarted signal; the operator
// restarts the server and signals; the workflow confirms and verifies.
// RevertTuningWorkflow then puts every setting back. Both histories join
// the replay fixtures.
func TestTuneSignalPolicyThenRevert(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	b := setupWith(t, workerapp.Config{DatabaseURL: cluster.URL("postgres"), PGRestartCommand: cluster.RestartCommand()})
	before := currentSettings(t, b, cluster)

	var in workflows.TuneInput
	require.NoError(t, json.Unmarshal([]byte(`{"apply":true,"restart_policy":"signal","restart_timeout":"2m","memory":"2GB","cpus":2}`), &in))
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-signal", TaskQueue: b.queue}, workflows.TuneWorkflow, in)
	require.NoError(t, err)

	// Wait until the workflow says it waits, as an operator would with
	// `temporal workflow query --name progress`.
	require.Eventually(t, func() bool {
		v, err := b.client.QueryWorkflow(b.ctx, run.GetID(), run.GetRunID(), config.QueryProgress)
		var p workflows.TuneProgress
		return err == nil && v.Get(&p) == nil && p.WaitingForSignal
	}, time.Minute, 200*time.Millisecond)
	require.NoError(t, cluster.Restart(b.ctx))
	require.NoError(t, b.client.SignalWorkflow(b.ctx, run.GetID(), run.GetRunID(), config.SignalPostgresRestarted, nil))

	var res workflows.TuneResult
	require.NoError(t, run.Get(b.ctx, &res))
	require.NotNil(t, res.Restart)
	require.True(t, res.Restart.Restarted)
	require.NotNil(t, res.Verify)
	require.Empty(t, res.PendingRestart)
	require.NotEqual(t, before, currentSettings(t, b, cluster))
	replay(t, b, run.GetID(), run.GetRunID())

	rev, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-revert", TaskQueue: b.queue},
		workflows.RevertTuningWorkflow, workflows.RevertInput{RunID: run.GetRunID(), RestartPolicy: workflows.RestartCommand})
	require.NoError(t, err)
	var rr workflows.RevertResult
	require.NoError(t, rev.Get(b.ctx, &rr))
	require.Empty(t, rr.PendingRestart)
	require.Equal(t, before, currentSettings(t, b, cluster), "every setting is back")
	replay(t, b, rev.GetID(), rev.GetRunID())
}

// TestTuneRestartThatFailsBringsTheServerBack: an override the server
// cannot start with (wal_level = minimal beside the default
// max_wal_senders = 10) is applied with the command restart policy. The
// restart leaves PostgreSQL down; the worker writes back the
// postgresql.auto.conf the run kept, restarts it, and the run fails saying
// what it restored. The server is up with its old settings, and no one
// touched it.
func TestTuneRestartThatFailsBringsTheServerBack(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	b := setupWith(t, workerapp.Config{DatabaseURL: cluster.URL("postgres"), PGRestartCommand: cluster.RestartCommand()})
	before := currentSettings(t, b, cluster)
	autoConf := filepath.Join(cluster.DataDir(), "postgresql.auto.conf")
	autoBefore, err := os.ReadFile(autoConf)
	require.NoError(t, err)

	var in workflows.TuneInput
	require.NoError(t, json.Unmarshal([]byte(`{"apply":true,"restart_policy":"command","restart_timeout":"1m","memory":"2GB","cpus":2,
		"overrides":[{"name":"wal_level","value":"minimal"}]}`), &in))
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-restart-fails", TaskQueue: b.queue}, workflows.TuneWorkflow, in)
	require.NoError(t, err)
	err = run.Get(b.ctx, nil)
	require.ErrorContains(t, err, "pg_ctl: could not start server")
	require.ErrorContains(t, err, "PostgreSQL did not come back, so the worker restored "+autoConf+" as it was before run "+run.GetRunID())
	require.ErrorContains(t, err, `"wal_level = 'minimal'"`)
	require.ErrorContains(t, err, "the server runs its old settings again")
	require.Contains(t, cluster.Log(), `requires wal_level "replica" or "logical"`)

	require.True(t, cluster.Running(), "PostgreSQL is up without a hand")
	require.Equal(t, before, currentSettings(t, b, cluster), "with its old settings")
	auto, err := os.ReadFile(autoConf)
	require.NoError(t, err)
	require.Equal(t, string(autoBefore), string(auto))
	b.pool.Reset()
	var notReverted int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM ops.tuning_changes WHERE run_id = $1 AND status <> 'reverted'`,
		run.GetRunID()).Scan(&notReverted))
	require.Zero(t, notReverted, "the compensation reverted the run's records too")

	replay(t, b, run.GetID(), run.GetRunID())
}

// TestTuneRidesOutADatabaseOutage: PostgreSQL is down for 60 seconds
// while a tune run starts; the stage retries (OutageBudget) and the run
// completes once the server is back.
func TestTuneRidesOutADatabaseOutage(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	b := setupWith(t, workerapp.Config{DatabaseURL: cluster.URL("postgres")})
	waitForWorker(t, b)
	require.NoError(t, cluster.Stop(b.ctx))
	down := time.Now()

	var in workflows.TuneInput
	require.NoError(t, json.Unmarshal([]byte(`{"apply":true,"memory":"1GB","cpus":1}`), &in))
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-outage", TaskQueue: b.queue}, workflows.TuneWorkflow, in)
	require.NoError(t, err)
	time.Sleep(60 * time.Second)
	desc, err := b.client.DescribeWorkflow(b.ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.RawResponse.WorkflowExecutionInfo.Status, "still trying after 60 s")
	require.NotEmpty(t, desc.RawResponse.PendingActivities)
	pending := desc.RawResponse.PendingActivities[0]
	require.Equal(t, "PlanTuning", pending.ActivityType.GetName())
	require.Greater(t, pending.Attempt, int32(5), "more attempts than the old 5 over 15 s")
	require.Contains(t, pending.LastFailure.GetMessage(), "connection refused")

	require.NoError(t, cluster.Start(b.ctx))
	t.Logf("the database was down for %s", time.Since(down).Round(time.Second))
	var res workflows.TuneResult
	require.NoError(t, run.Get(b.ctx, &res))
	require.NotNil(t, res.Apply)
	require.NotEmpty(t, res.Apply.Changes)
	require.NotNil(t, res.Verify)
	checkReplay(t, b, run.GetID(), run.GetRunID())
}

// TestTuneApplyResumesSoonAfterTheWorkerIsKilled: the worker dies
// (SIGKILL) in the middle of ApplyTuning, with part of the plan possibly
// written. ApplyTuning heartbeats before every statement under a short
// heartbeat timeout, so another worker resumes it within seconds, not after
// the 5-minute StartToClose, and the run completes with the whole plan
// applied.
func TestTuneApplyResumesSoonAfterTheWorkerIsKilled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	srv := devserver.Start(t)
	cluster := pgtest.Start(t)
	b := &testBundle{ctx: ctx, client: srv.Client(), dbURL: cluster.URL("postgres"), queue: "test-" + t.Name()}
	b.pool = pgtest.MigratedPool(t, b.dbURL)

	// Hold ops.tuning_changes so that the apply stops at its first record,
	// after it has begun, until the worker is dead.
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE ops.tuning_changes IN EXCLUSIVE MODE`)
	require.NoError(t, err)

	worker := startWorkerProcess(t, b, srv.FrontendHostPort())
	waitForWorker(t, b)
	var in workflows.TuneInput
	require.NoError(t, json.Unmarshal([]byte(`{"apply":true,"memory":"1GB","cpus":1}`), &in))
	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "tune-sigkill", TaskQueue: b.queue}, workflows.TuneWorkflow, in)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var waiting bool
		err := b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
WHERE application_name = 'congressflow-tune' AND wait_event_type = 'Lock')`).Scan(&waiting)
		return err == nil && waiting
	}, time.Minute, 50*time.Millisecond, "ApplyTuning is under way")

	require.NoError(t, worker.Process.Kill())
	_ = worker.Wait()
	killed := time.Now()
	require.NoError(t, tx.Rollback(ctx))
	b.runWorker(t, workerapp.Config{DatabaseURL: b.dbURL})

	var res workflows.TuneResult
	require.NoError(t, run.Get(ctx, &res))
	resumed := time.Since(killed)
	t.Logf("the run completed %s after the worker was killed", resumed.Round(100*time.Millisecond))
	require.Less(t, resumed, 30*time.Second, "resumed within seconds, not after the 5-minute StartToClose")
	require.NotNil(t, res.Apply)
	require.NotEmpty(t, res.Apply.Changes)
	require.Empty(t, res.Verify.Mismatches)
	var notApplied int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM ops.tuning_changes WHERE run_id = $1 AND status <> 'applied'`,
		res.Apply.RunID).Scan(&notApplied))
	require.Zero(t, notApplied, "every change of the plan applied once the retry finished")
}

// startWorkerProcess builds the worker binary and runs it as a process of
// its own, so that the test can kill it; its log goes to the test log when
// the test fails.
func startWorkerProcess(t *testing.T, b *testBundle, temporalAddress string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "worker")
	build := exec.CommandContext(b.ctx, "go", "build", "-o", bin, "github.com/opendiscourse/congressflow/worker")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build worker: %s", out)
	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+b.dbURL, "TEMPORAL_ADDRESS="+temporalAddress, "TEMPORAL_NAMESPACE=default",
		"CONGRESSFLOW_TASK_QUEUE="+b.queue, "LOG_FORMAT=json")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("worker process log:\n%s", log)
		}
	})
	return cmd
}

// TestConcurrentAppliesOnOneServer: three tune runs apply to one server at
// once (the three pipelines). The server's lock lets one apply,
// restart and verify; the other two change nothing: a run that plans
// before the winner's apply fails at once naming the run holding the
// server, one that plans after it (a loaded machine schedules it late)
// finds every setting configured and names those waiting for the
// winner's restart. A tune run with other settings and a revert, started
// while the winner restarts, are refused naming it. Afterwards
// postgresql.auto.conf and the running server agree.
func TestConcurrentAppliesOnOneServer(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	// The restart waits for a gate the test opens once the other two runs
	// have ended and the revert has been refused, so the lock is held
	// while they try, however slowly a loaded machine runs them.
	gate := filepath.Join(t.TempDir(), "gate")
	b := setupWith(t, workerapp.Config{DatabaseURL: cluster.URL("postgres"),
		PGRestartCommand: fmt.Sprintf("while [ ! -e %s ]; do sleep 0.1; done && %s", gate, cluster.RestartCommand())})
	waitForWorker(t, b)
	open := func() { _ = os.WriteFile(gate, nil, 0o600) }
	t.Cleanup(open) // a failed assertion does not leave the restart waiting

	var in workflows.TuneInput
	require.NoError(t, json.Unmarshal([]byte(`{"apply":true,"restart_policy":"command","memory":"2GB","cpus":2}`), &in))
	type outcome struct {
		run client.WorkflowRun
		res workflows.TuneResult
		err error
	}
	outcomes := make(chan outcome, 3)
	for i := range 3 {
		run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("tune-concurrent-%d", i), TaskQueue: b.queue},
			workflows.TuneWorkflow, in)
		require.NoError(t, err)
		go func() {
			o := outcome{run: run}
			o.err = run.Get(b.ctx, &o.res)
			outcomes <- o
		}()
	}
	var refused []error
	var unchanged []workflows.TuneResult
	for range 2 {
		select {
		case o := <-outcomes:
			if o.err != nil {
				refused = append(refused, o.err)
				continue
			}
			require.Nil(t, o.res.Apply, "%s finished while the gate held the restart: it may not have changed anything", o.run.GetID())
			require.NotEmpty(t, o.res.PendingRestart, "%s planned after the winner's apply: %s", o.run.GetID(), o.res.Summary)
			require.Contains(t, o.res.Summary, "not live until PostgreSQL restarts")
			unchanged = append(unchanged, o.res)
		case <-time.After(2 * time.Minute):
			t.Fatalf("two runs did not end while one held the server: %v", refused)
		}
	}
	t.Logf("runs refused: %d; runs that planned after the apply and changed nothing: %d", len(refused), len(unchanged))
	// The run left holds the lock and waits in its restart, as its
	// progress says; a tune run that would change other settings, and a
	// revert, started meanwhile are refused.
	require.Eventually(t, func() bool {
		for i := range 3 {
			v, err := b.client.QueryWorkflow(b.ctx, fmt.Sprintf("tune-concurrent-%d", i), "", config.QueryProgress)
			var p workflows.TuneProgress
			if err == nil && v.Get(&p) == nil && p.Lock != "" && p.Step == "restart" {
				return true
			}
		}
		return false
	}, time.Minute, 50*time.Millisecond, "a run holds the lock and restarts")
	var other workflows.TuneInput
	require.NoError(t, json.Unmarshal([]byte(`{"apply":true,"restart_policy":"command","memory":"4GB","cpus":2}`), &other))
	late, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-concurrent-late", TaskQueue: b.queue},
		workflows.TuneWorkflow, other)
	require.NoError(t, err)
	err = late.Get(b.ctx, nil)
	require.Error(t, err, "a run with changes to make while the server is held")
	refused = append(refused, err)
	rev, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-concurrent-revert", TaskQueue: b.queue},
		workflows.RevertTuningWorkflow, workflows.RevertInput{RunID: "any-run"})
	require.NoError(t, err)
	err = rev.Get(b.ctx, nil)
	require.ErrorContains(t, err, "is being changed by workflow tune-concurrent-")
	requireAppErrorType(t, err, activities.ErrTypeServerBusy)

	open()
	o := <-outcomes
	require.NoError(t, o.err, "one run applied")
	winner, winnerRun := o.res, o.run
	for _, err := range refused {
		t.Logf("a refused run: %v", err)
		require.ErrorContains(t, err, "nothing changed: PostgreSQL postgres@127.0.0.1:")
		require.ErrorContains(t, err, fmt.Sprintf("is being changed by workflow %s (run %s), through TuneApplyWorkflow %s",
			winnerRun.GetID(), winnerRun.GetRunID(), config.ServerLockIDPrefix))
		requireAppErrorType(t, err, activities.ErrTypeServerBusy)
	}
	require.True(t, winner.Restart.Restarted)
	require.Empty(t, winner.Verify.Mismatches)
	require.Empty(t, winner.PendingRestart)

	// Only the winner recorded changes; the file holds each of them, every
	// line of it is applied, and nothing waits for a restart.
	b.pool.Reset()
	var runsRecorded []string
	rows, err := b.pool.Query(b.ctx, `SELECT DISTINCT run_id FROM ops.tuning_changes`)
	require.NoError(t, err)
	runsRecorded, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{winnerRun.GetRunID()}, runsRecorded)
	var missing, notApplied, pending int
	require.NoError(t, b.pool.QueryRow(b.ctx, `
SELECT (SELECT count(*) FROM ops.tuning_changes c WHERE c.status = 'applied' AND NOT EXISTS (
            SELECT 1 FROM pg_file_settings f WHERE f.sourcefile LIKE '%/postgresql.auto.conf' AND f.name = c.name)),
       (SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%/postgresql.auto.conf' AND (NOT applied OR error IS NOT NULL)),
       (SELECT count(*) FROM pg_settings WHERE pending_restart)`).Scan(&missing, &notApplied, &pending))
	require.Zero(t, missing, "every applied change is in postgresql.auto.conf")
	require.Zero(t, notApplied, "every line of postgresql.auto.conf is what the server runs")
	require.Zero(t, pending)

	checkReplay(t, b, winnerRun.GetID(), winnerRun.GetRunID())
	for _, c := range lockChildren(t, b, winnerRun.GetID(), winnerRun.GetRunID()) {
		checkReplay(t, b, c.ID, c.RunID)
	}
}

// TestTuneThenRevertUnderTheServersLock: a tune run and its revert, each
// changing the server from a child under the server's lock. Both
// histories, with their children, join the replay fixtures.
func TestTuneThenRevertUnderTheServersLock(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	b := setupWith(t, workerapp.Config{DatabaseURL: cluster.URL("postgres"), PGRestartCommand: cluster.RestartCommand()})
	before := currentSettings(t, b, cluster)

	var in workflows.TuneInput
	require.NoError(t, json.Unmarshal([]byte(`{"apply":true,"memory":"1GB","cpus":1}`), &in))
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-locked", TaskQueue: b.queue}, workflows.TuneWorkflow, in)
	require.NoError(t, err)
	var res workflows.TuneResult
	require.NoError(t, run.Get(b.ctx, &res))
	require.NotEmpty(t, res.Apply.Changes)
	require.NotEmpty(t, res.PendingRestart, "the never policy leaves the restart to an operator")
	children := lockChildren(t, b, run.GetID(), run.GetRunID())
	require.Len(t, children, 1)
	require.Equal(t, "TuneApplyWorkflow", children[0].Type)
	require.Equal(t, workflows.ServerLockID(res.Plan.Identity), children[0].ID)
	replay(t, b, run.GetID(), run.GetRunID())

	rev, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-locked-revert", TaskQueue: b.queue},
		workflows.RevertTuningWorkflow, workflows.RevertInput{RunID: run.GetRunID(), RestartPolicy: workflows.RestartCommand})
	require.NoError(t, err)
	var rr workflows.RevertResult
	require.NoError(t, rev.Get(b.ctx, &rr))
	require.NotEmpty(t, rr.Revert.Reverted)
	require.Equal(t, before, currentSettings(t, b, cluster), "every setting is back")
	children = lockChildren(t, b, rev.GetID(), rev.GetRunID())
	require.Len(t, children, 1)
	require.Equal(t, "TuneRevertWorkflow", children[0].Type)
	replay(t, b, rev.GetID(), rev.GetRunID())

	// A run ID that never applied anything is NotFound, not "nothing to
	// revert".
	rev, err = b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-locked-revert-unknown", TaskQueue: b.queue},
		workflows.RevertTuningWorkflow, workflows.RevertInput{RunID: "no-such-run"})
	require.NoError(t, err)
	err = rev.Get(b.ctx, nil)
	requireAppErrorType(t, err, activities.ErrTypeNotFound)
	require.ErrorContains(t, err, "run no-such-run: no such tune run")
}

// requireAppErrorType checks that err (a workflow's) fails with an
// application error of type typ, not retryable.
func requireAppErrorType(t *testing.T, err error, typ string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, typ, appErr.Type(), "%v", err)
	require.True(t, appErr.NonRetryable(), "%v", err)
}

// waitForWorker waits until the worker polls the test's task queue for
// activities: it has migrated the database and registered everything.
func waitForWorker(t *testing.T, b *testBundle) {
	t.Helper()
	require.Eventually(t, func() bool {
		d, err := b.client.DescribeTaskQueue(b.ctx, b.queue, enums.TASK_QUEUE_TYPE_ACTIVITY)
		return err == nil && len(d.GetPollers()) > 0
	}, time.Minute, 100*time.Millisecond)
}

// currentSettings reads the settings the tune stage changes, on a fresh
// connection (the server may have restarted).
func currentSettings(t *testing.T, b *testBundle, c *pgtest.Cluster) map[string]string {
	t.Helper()
	conn, err := pgx.Connect(b.ctx, c.URL("postgres"))
	require.NoError(t, err)
	defer conn.Close(b.ctx)
	rows, err := conn.Query(b.ctx, `SELECT name, setting FROM pg_settings
WHERE name IN ('shared_buffers', 'max_connections', 'work_mem', 'effective_cache_size', 'shared_preload_libraries', 'checkpoint_timeout',
               'wal_level')`)
	require.NoError(t, err)
	out := map[string]string{}
	for rows.Next() {
		var n, v string
		require.NoError(t, rows.Scan(&n, &v))
		out[n] = v
	}
	require.NoError(t, rows.Err())
	return out
}

// TestTuneWorkflowEmptyInputIsADryRun is what
// `temporal workflow start --type TuneWorkflow --input '{}'` does.
func TestTuneWorkflowEmptyInputIsADryRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "tune-dry-run", TaskQueue: b.queue},
		"TuneWorkflow", map[string]any{})
	require.NoError(t, err)
	var res workflows.TuneResult
	require.NoError(t, run.Get(b.ctx, &res))
	require.True(t, res.DryRun)
	require.NotEmpty(t, res.Plan.Items)
	require.NotEmpty(t, res.Plan.Statements, "a fresh cluster differs from the recommendation")
	sb, ok := res.Plan.Get("shared_buffers")
	require.True(t, ok)
	require.NotEmpty(t, sb.Value)

	var changes int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM ops.tuning_changes`).Scan(&changes))
	require.Zero(t, changes, "a dry run records and changes nothing")

	replay(t, b, run.GetID(), run.GetRunID())
}

// replay checks that the run's history replays against the current code,
// and with -update-history records it as workflows/testdata/<id>.json for
// the replay test. The child workflows holding the server's lock
// (TuneApplyWorkflow, TuneRevertWorkflow) are replayed and recorded with
// it, as <id>.<type>.json: their own ID names the server.
//
// Record only new tests' histories (-run): the fixtures already there are
// the histories of earlier code, which running executions still have.
func replay(t *testing.T, b *testBundle, id, runID string) {
	t.Helper()
	checkReplay(t, b, id, runID)
	if *updateHistory {
		writeHistory(t, b, id, runID, id+".json")
	}
	for _, c := range lockChildren(t, b, id, runID) {
		checkReplay(t, b, c.ID, c.RunID)
		if *updateHistory {
			writeHistory(t, b, c.ID, c.RunID, id+"."+c.Type+".json")
		}
	}
}

// checkReplay checks that the run's history replays against the current
// code.
func checkReplay(t *testing.T, b *testBundle, id, runID string) {
	t.Helper()
	replayer := worker.NewWorkflowReplayer()
	workflows.Register(replayer)
	require.NoError(t, replayer.ReplayWorkflowExecution(b.ctx, b.client.WorkflowService(), nil, "default",
		workflow.Execution{ID: id, RunID: runID}), "replay %s", id)
}

type childRun struct{ ID, RunID, Type string }

// lockChildren lists the children of a run that hold a server's lock.
func lockChildren(t *testing.T, b *testBundle, id, runID string) []childRun {
	t.Helper()
	var out []childRun
	iter := b.client.GetWorkflowHistory(b.ctx, id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil &&
			strings.HasPrefix(a.GetWorkflowExecution().GetWorkflowId(), config.ServerLockIDPrefix) {
			out = append(out, childRun{ID: a.GetWorkflowExecution().GetWorkflowId(), RunID: a.GetWorkflowExecution().GetRunId(), Type: a.GetWorkflowType().GetName()})
		}
	}
	return out
}

func writeHistory(t *testing.T, b *testBundle, id, runID, name string) {
	t.Helper()
	var h historypb.History
	iter := b.client.GetWorkflowHistory(b.ctx, id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	out, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	require.NoError(t, err)
	path := filepath.Join("..", "..", "workflows", "testdata", name)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, append(out, '\n'), 0o644))
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
