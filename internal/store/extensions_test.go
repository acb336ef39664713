package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestExtensionResultsUpsertPerRun(t *testing.T) {
	t.Parallel()
	ctx, db := open(t)
	pool := pgtest.MigratedPool(t, db())

	run := func(outcome string, rs ...store.ExtensionResult) []store.ExtensionResult {
		for i := range rs {
			rs[i].WorkflowID, rs[i].RunID, rs[i].ActivityID, rs[i].Database = "wf", "run", "5", "ingest"
			if rs[i].Outcome == "" {
				rs[i].Outcome = outcome
			}
		}
		return rs
	}
	first := run("installed",
		store.ExtensionResult{Name: "pg_stat_statements", Category: "monitoring", Outcome: "needs_preload", Detail: "restart"},
		store.ExtensionResult{Name: "citext", Category: "data types", Version: "1.6"},
		store.ExtensionResult{Name: "pg_cron", Category: "scheduling", Outcome: "not_available", Package: "postgresql-15-cron"},
	)
	require.NoError(t, store.RecordExtensionResults(ctx, pool, first))
	require.NoError(t, store.RecordExtensionResults(ctx, pool, nil))

	// A retried activity records the same run again, with a changed outcome.
	retry := run("installed", store.ExtensionResult{Name: "pg_stat_statements", Category: "monitoring", Version: "1.10"})
	require.NoError(t, store.RecordExtensionResults(ctx, pool, retry))

	got, err := store.ListExtensionResults(ctx, pool, "wf", "run")
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, "pg_stat_statements", got[0].Name, "first-recorded order")
	require.Equal(t, "installed", got[0].Outcome)
	require.Equal(t, "1.10", got[0].Version)
	require.Empty(t, got[0].Detail)
	require.Equal(t, "postgresql-15-cron", got[2].Package)
	require.Equal(t, "ingest", got[2].Database)
	require.False(t, got[2].RecordedAt.IsZero())

	bad := run("exploded", store.ExtensionResult{Name: "x", Category: "utility"})
	require.Error(t, store.RecordExtensionResults(ctx, pool, bad), "the outcome is checked")

	none, err := store.ListExtensionResults(ctx, pool, "wf", "other")
	require.NoError(t, err)
	require.Empty(t, none)
}
