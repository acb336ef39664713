package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/devserver"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/workflows"
)

func TestReportRejectsBadFlagsBeforeStarting(t *testing.T) {
	t.Parallel()
	var out, errs bytes.Buffer
	a := &app{stdout: &out, stderr: &errs, logger: slog.New(slog.NewTextHandler(&errs, nil))}
	err := runReport(context.Background(), a, []string{"--since", "a week", "--long-running", "soon"})
	require.ErrorContains(t, err, `--since: "a week" is not a period such as 7d, 2w or 36h`)
	require.ErrorContains(t, err, `--long-running: "soon" is not a duration such as 30s or 5m`)
	require.ErrorContains(t, runReport(context.Background(), a, []string{"extra"}), `unexpected argument "extra"`)
}

// TestReportCommandEndToEnd runs ReportWorkflow on a dev server against
// a cluster of its own, after a walk was recorded: the tables, then JSON
// with the summary first, then the trend over the two stored reports.
func TestReportCommandEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := devserver.Start(t)
	cluster := pgtest.Start(t)
	pool := pgtest.MigratedPool(t, cluster.URL("postgres"))
	end := time.Now()
	require.NoError(t, store.SaveIngestRun(ctx, pool, store.IngestRun{WalkID: "w1", WorkflowID: "wf", RunID: "run", Endpoint: "bill",
		Mode: "full", WindowTo: end, Status: store.RunCompleted, Pages: 4, Items: 1000, Inserted: 1000, Requests: 4, MinRequests: 4,
		Count: 1000, Confirmed: 1000}))

	var out, errs bytes.Buffer
	a := &app{stdout: &out, stderr: &errs, logger: slog.New(slog.NewTextHandler(&errs, nil)),
		taskQueue: "congressflow-report-test", webUI: "http://ui", client: srv.Client()}
	w := worker.New(a.client, a.taskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Reporter{Pool: pool})
	require.NoError(t, w.Start())
	defer w.Stop()

	require.NoError(t, runReport(ctx, a, nil))
	text := out.String()
	t.Log("\n" + text)
	require.Contains(t, errs.String(), "workflow id: congressflow-report-")
	for _, section := range []string{"SERVER", "TOP STATEMENTS", "CONNECTIONS:", "SIZES:", "CACHE:", "UNUSED INDEXES", "CHECKPOINTS",
		"SETTINGS", "INGEST", "WORKER"} {
		require.Regexp(t, `(?m)^`+section, text)
	}
	require.Contains(t, text, "pg_stat_statements is not loaded (it is not in shared_preload_libraries)")
	require.Regexp(t, `(?m)^\s+bill\s+completed\s+1,000\s`, text)
	require.NotContains(t, text, "TREND")

	out.Reset()
	require.NoError(t, runReport(ctx, a, []string{"--json", "--since", "7d"}))
	require.True(t, strings.HasPrefix(out.String(), "{\n  \"summary\": \"PostgreSQL "), "the summary comes first")
	var r report.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	require.NotNil(t, r.Trend)
	require.Equal(t, 2, r.Trend.Reports, "both reports are stored")
	require.Equal(t, []report.IngestTrend{{Endpoint: "bill", Walks: 1, First: r.Ingest[0].ItemsPerSecond, Last: r.Ingest[0].ItemsPerSecond,
		Min: r.Ingest[0].ItemsPerSecond, Median: r.Ingest[0].ItemsPerSecond, Max: r.Ingest[0].ItemsPerSecond}}, r.Trend.Ingest)
}
