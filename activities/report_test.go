package activities_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/store"
)

func runReport(t *testing.T, r *activities.Reporter, in activities.ReportInput) report.Report {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(extLogger(t)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(r)
	val, err := env.ExecuteActivity(r.Report, in)
	require.NoError(t, err)
	var got report.Report
	require.NoError(t, val.Get(&got))
	return got
}

// TestReportStoresItAndAddsTheWorkersView: the report carries this
// worker's pool and process, is stored in ops.reports once per run, and
// with Since compares with the reports stored before.
func TestReportStoresItAndAddsTheWorkersView(t *testing.T) {
	t.Parallel()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	ctx := t.Context()
	r := &activities.Reporter{Pool: pool, Logger: extLogger(t)}

	got := runReport(t, r, activities.ReportInput{})
	require.NotEmpty(t, got.Summary)
	require.Positive(t, got.ID)
	require.Nil(t, got.Trend)
	require.Positive(t, got.Worker.PID)
	require.NotEmpty(t, got.Worker.Hostname)
	require.Positive(t, got.Worker.RSSBytes)
	require.Positive(t, got.Worker.Pool.MaxConns)
	require.Positive(t, got.Worker.Pool.Acquires)
	require.Empty(t, got.Notes)

	// A report from three days ago; the run's own row is replaced, not
	// added, by a second attempt.
	old := got
	old.CollectedAt = got.CollectedAt.Add(-72 * time.Hour)
	old.Sizes.SchemaBytes -= 1 << 20
	raw, err := json.Marshal(old)
	require.NoError(t, err)
	_, err = store.SaveReport(ctx, pool, store.StoredReport{WorkflowID: "earlier", RunID: "run", CollectedAt: old.CollectedAt,
		Summary: old.Summary, ServerVersionNum: old.Server.VersionNum, Database: old.Server.Database,
		DatabaseBytes: old.Sizes.DatabaseBytes, CongressBytes: old.Sizes.SchemaBytes, Report: raw})
	require.NoError(t, err)

	again := runReport(t, r, activities.ReportInput{Since: 7 * 24 * time.Hour})
	require.Equal(t, got.ID, again.ID, "one row per workflow run")
	require.NotNil(t, again.Trend)
	require.Equal(t, 2, again.Trend.Reports)
	require.Len(t, again.Trend.Points, 2)
	require.Equal(t, old.Sizes.SchemaBytes, again.Trend.Points[0].SchemaBytes)
	require.NotEmpty(t, again.Trend.Tables)

	var rows int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ops.reports`).Scan(&rows))
	require.Equal(t, 2, rows)
	var summary string
	require.NoError(t, pool.QueryRow(ctx, `SELECT report->>'summary' FROM ops.reports WHERE id = $1`, got.ID).Scan(&summary))
	require.Equal(t, again.Summary, summary)
}
