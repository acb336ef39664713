package workerapp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestReportAfterAnIngest: after walking two endpoints, ReportWorkflow
// (`temporal workflow start --type ReportWorkflow --input '{}'`) reports
// them with their rates and completeness, the tables they filled, and the
// worker's pool and process; the report is stored in ops.reports. Its
// history joins the replay fixtures.
func TestReportAfterAnIngest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ing, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "report-ingest", TaskQueue: b.queue},
		workflows.IngestWorkflow, workflows.IngestInput{Endpoints: []string{"bill", "member"}})
	require.NoError(t, err)
	require.NoError(t, ing.Get(b.ctx, nil))

	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "report-default", TaskQueue: b.queue},
		"ReportWorkflow", map[string]any{})
	require.NoError(t, err)
	var r report.Report
	require.NoError(t, run.Get(b.ctx, &r))
	t.Log(r.Summary)
	require.True(t, strings.HasPrefix(r.Summary, "PostgreSQL "))
	require.Empty(t, r.Notes)

	require.Len(t, r.Ingest, 2)
	for _, in := range r.Ingest {
		require.Equal(t, store.RunCompleted, in.Status, in.Endpoint)
		require.EqualValues(t, 30, in.Items, in.Endpoint)
		require.Positive(t, in.ItemsPerSecond, in.Endpoint)
		require.Positive(t, in.PagesPerSecond, in.Endpoint)
		require.Equal(t, 100.0, *in.CompletePct, in.Endpoint)
		require.Equal(t, 100.0, in.SuccessPct, in.Endpoint)
	}
	tables := map[string]report.Table{}
	for _, tb := range r.Tables {
		tables[tb.Name] = tb
	}
	require.Positive(t, tables["congress.bill"].HeapBytes)
	require.Positive(t, tables["congress.member"].TotalBytes)
	require.Positive(t, r.Worker.Pool.Acquires)
	require.Positive(t, r.Worker.RSSBytes)
	require.Positive(t, r.Worker.CPUSeconds)
	require.False(t, r.Statements.Available, "the shared test cluster does not preload pg_stat_statements")
	require.Contains(t, r.Statements.Hint, "shared_preload_libraries")

	var stored json.RawMessage
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT report FROM ops.reports WHERE id = $1 AND workflow_id = $2`, r.ID, run.GetID()).Scan(&stored))
	var back report.Report
	require.NoError(t, json.Unmarshal(stored, &back))
	require.Equal(t, r.Summary, back.Summary)

	replay(t, b, run.GetID(), run.GetRunID())
}

// TestPipelineReportsAfterItsIngest: a pipeline of the ingest and report
// stages reports the walk it just made. Its history joins the replay
// fixtures: the first with the report stage.
func TestPipelineReportsAfterItsIngest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var in workflows.PipelineInput
	require.NoError(t, json.Unmarshal([]byte(`{"stages":["ingest","report"],"ingest":{"endpoints":["bill"]},"report":{"since":"1d"}}`), &in))
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "pipeline-report", TaskQueue: b.queue},
		workflows.PipelineWorkflow, in)
	require.NoError(t, err)
	var res workflows.PipelineResult
	require.NoError(t, run.Get(b.ctx, &res))
	require.Equal(t, []string{workflows.StageIngest, workflows.StageReport}, res.Stages)
	require.NotNil(t, res.Report)
	require.Len(t, res.Report.Ingest, 1)
	require.Equal(t, "bill", res.Report.Ingest[0].Endpoint)
	require.Equal(t, res.Ingest.Endpoints[0].WalkID, res.Report.Ingest[0].WalkID, "the walk this run made")
	require.NotNil(t, res.Report.Trend)
	require.Equal(t, 1, res.Report.Trend.Reports)

	replay(t, b, run.GetID(), run.GetRunID())
}
