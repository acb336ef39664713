package report

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQueriesFollowTheVersion: the columns differ across PostgreSQL 13–18
// and pg_stat_statements versions; each query names the right ones.
func TestQueriesFollowTheVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		sql         string
		contains    []string
		notContains []string
	}{
		{name: "pg_stat_statements 1.7 (PG 12)", sql: statementsSQL("public", "1.7"),
			contains: []string{"total_time", "mean_time", `"public"."pg_stat_statements"`}, notContains: []string{"exec_time"}},
		{name: "pg_stat_statements 1.8 (PG 13)", sql: statementsSQL("public", "1.8"),
			contains: []string{"total_exec_time", "mean_exec_time"}},
		{name: "pg_stat_statements 1.10 (PG 15)", sql: statementsSQL("ext", "1.10"),
			contains: []string{"ORDER BY total_exec_time DESC", `"ext"."pg_stat_statements"`}},
		{name: "pg_stat_statements 1.11 (PG 17)", sql: statementsSQL("public", "1.11"), contains: []string{"total_exec_time"}},
		{name: "checkpoints PG 13", sql: checkpointsSQL(130012),
			contains:    []string{"FROM pg_stat_bgwriter", "checkpoints_timed", "checkpoints_req", "buffers_backend"},
			notContains: []string{"pg_stat_checkpointer"}},
		{name: "checkpoints PG 16", sql: checkpointsSQL(160004), contains: []string{"checkpoints_req"}, notContains: []string{"pg_stat_checkpointer"}},
		{name: "checkpoints PG 17", sql: checkpointsSQL(170000),
			contains:    []string{"pg_stat_checkpointer c", "num_timed", "num_requested", "c.buffers_written", "pg_stat_io", "b.buffers_clean"},
			notContains: []string{"checkpoints_req", "buffers_backend"}},
		{name: "checkpoints PG 18", sql: checkpointsSQL(180001), contains: []string{"num_requested", "pg_stat_io"}},
		{name: "unused indexes PG 15", sql: unusedIndexesSQL(150018), contains: []string{"NULL::timestamptz"}, notContains: []string{"last_idx_scan"}},
		{name: "unused indexes PG 16", sql: unusedIndexesSQL(160000), contains: []string{"s.last_idx_scan"}},
		{name: "tables PG 13", sql: tablesSQL(130000), contains: []string{"c.reltuples = 0 AND c.relpages = 0"}},
		{name: "tables PG 14", sql: tablesSQL(140000), contains: []string{"c.reltuples < 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range tt.contains {
				require.Contains(t, tt.sql, s)
			}
			for _, s := range tt.notContains {
				require.NotContains(t, tt.sql, s)
			}
		})
	}
}

func TestVersionLess(t *testing.T) {
	t.Parallel()
	require.True(t, versionLess("1.7", "1.8"))
	require.False(t, versionLess("1.10", "1.8"))
	require.False(t, versionLess("1.8", "1.8"))
	require.False(t, versionLess("", "1.8"))
	require.True(t, versionLess("1", "1.8"))
}
