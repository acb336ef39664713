package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestTuningChangesKeepTheFirstOldValue(t *testing.T) {
	t.Parallel()
	ctx, db := open(t)
	pool := pgtest.MigratedPool(t, db())

	old := "1GB"
	first, err := store.RecordTuningChange(ctx, pool, store.TuningChange{
		WorkflowID: "wf", RunID: "run1", Name: "shared_buffers", OldValue: &old, OldDisplay: "1GB",
		NewValue: "2GB", Context: "restart", Source: "pgtune",
	})
	require.NoError(t, err)
	require.Equal(t, store.TuningPending, first.Status)
	require.Equal(t, "1GB", *first.OldValue)
	require.False(t, first.ChangedAt.IsZero())

	// A retried apply sees its own change as the current value; the row
	// must keep the value from before the run.
	again, err := store.RecordTuningChange(ctx, pool, store.TuningChange{
		WorkflowID: "wf", RunID: "run1", Name: "shared_buffers", OldValue: new(string), OldDisplay: "2GB",
		NewValue: "2GB", Context: "restart", Source: "pgtune",
	})
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, "1GB", *again.OldValue)

	unset, err := store.RecordTuningChange(ctx, pool, store.TuningChange{
		WorkflowID: "wf", RunID: "run1", Name: "work_mem", NewValue: "64MB", Context: "reload", Source: "override",
	})
	require.NoError(t, err)
	require.Nil(t, unset.OldValue, "nil old value: not in postgresql.auto.conf")

	require.NoError(t, store.SetTuningChangeStatus(ctx, pool, first.ID, store.TuningApplied, ""))
	require.NoError(t, store.SetTuningChangeStatus(ctx, pool, unset.ID, store.TuningFailed, "invalid value"))
	require.ErrorIs(t, store.SetTuningChangeStatus(ctx, pool, -1, store.TuningApplied, ""), store.ErrNotFound)

	got, err := store.ListTuningChanges(ctx, pool, "run1")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []string{"shared_buffers", "work_mem"}, []string{got[0].Name, got[1].Name})
	require.Equal(t, store.TuningApplied, got[0].Status)
	require.Equal(t, "invalid value", got[1].Error)
	require.Nil(t, got[0].RevertedAt)

	require.NoError(t, store.SetTuningChangeStatus(ctx, pool, first.ID, store.TuningReverted, ""))
	got, err = store.ListTuningChanges(ctx, pool, "run1")
	require.NoError(t, err)
	require.NotNil(t, got[0].RevertedAt)

	none, err := store.ListTuningChanges(ctx, pool, "other")
	require.NoError(t, err)
	require.Empty(t, none)

	_, err = store.RecordTuningChange(ctx, pool, store.TuningChange{RunID: "run2", Name: "x", NewValue: "1", Context: "sometimes", Source: "s"})
	require.Error(t, err, "context is checked by the table")
}
