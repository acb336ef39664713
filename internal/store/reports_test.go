package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestReportsUpsertPerRunAndReadSince(t *testing.T) {
	t.Parallel()
	ctx, db := open(t)
	pool := pgtest.MigratedPool(t, db())
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	save := func(wf string, at time.Time, bytes int64) int64 {
		t.Helper()
		id, err := store.SaveReport(ctx, pool, store.StoredReport{WorkflowID: wf, RunID: "run", CollectedAt: at, Summary: "s " + wf,
			ServerVersionNum: 150018, Database: "congressflow", DatabaseBytes: bytes, CongressBytes: bytes / 2,
			Report: []byte(`{"summary":"s"}`)})
		require.NoError(t, err)
		return id
	}
	first := save("a", base, 100)
	require.Equal(t, first, save("a", base.Add(time.Minute), 150), "a retried activity updates its row")
	save("b", base.Add(24*time.Hour), 200)
	save("c", base.Add(48*time.Hour), 300)

	got, err := store.ReportsSince(ctx, pool, base.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []string{"b", "c"}, []string{got[0].WorkflowID, got[1].WorkflowID}, "oldest first")
	require.EqualValues(t, 150, got[1].CongressBytes)
	require.JSONEq(t, `{"summary":"s"}`, string(got[0].Report))

	all, err := store.ReportsSince(ctx, pool, time.Time{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.EqualValues(t, 150, all[0].DatabaseBytes)
}

func TestLastIngestRunsAndAppliedTuning(t *testing.T) {
	t.Parallel()
	ctx, db := open(t)
	pool := pgtest.MigratedPool(t, db())
	for i, r := range []store.IngestRun{
		{WalkID: "w1", Endpoint: "bill", Status: store.RunCompleted, Items: 10},
		{WalkID: "w2", Endpoint: "bill", Status: store.RunCompleted, Items: 20},
		{WalkID: "w3", Endpoint: "law", Status: store.RunFailed, Error: "boom"},
	} {
		r.WorkflowID, r.RunID, r.Mode, r.WindowTo = "wf", "run", "full", time.Now()
		require.NoError(t, store.SaveIngestRun(ctx, pool, r))
		_, err := pool.Exec(ctx, `UPDATE ops.ingest_runs SET started_at = now() + $2 * interval '1 second' WHERE walk_id = $1`, r.WalkID, i)
		require.NoError(t, err)
	}
	runs, err := store.LastIngestRuns(ctx, pool)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.Equal(t, "w2", runs[0].WalkID, "the latest walk of bill")
	require.Equal(t, "law", runs[1].Endpoint)
	require.Equal(t, "boom", runs[1].Error)

	record := func(run, name, value, status string) {
		t.Helper()
		c, err := store.RecordTuningChange(ctx, pool, store.TuningChange{WorkflowID: "wf-" + run, RunID: run, Name: name,
			NewValue: value, Context: "reload", Source: "pgtune"})
		require.NoError(t, err)
		require.NoError(t, store.SetTuningChangeStatus(ctx, pool, c.ID, status, ""))
		_, err = pool.Exec(ctx, `UPDATE ops.tuning_changes SET changed_at = now() + interval '1 second' * id WHERE id = $1`, c.ID)
		require.NoError(t, err)
	}
	record("r1", "work_mem", "8MB", store.TuningApplied)
	record("r1", "max_wal_size", "2GB", store.TuningApplied)
	record("r2", "work_mem", "16MB", store.TuningApplied)
	record("r2", "max_wal_size", "4GB", store.TuningReverted)
	record("r3", "random_page_cost", "1.1", store.TuningFailed)
	applied, err := store.LastAppliedTuning(ctx, pool)
	require.NoError(t, err)
	require.Len(t, applied, 1, "max_wal_size's last change was reverted; a failed change applied nothing")
	require.Equal(t, "work_mem", applied[0].Name)
	require.Equal(t, "16MB", applied[0].Value)
	require.Equal(t, "r2", applied[0].RunID)
}
