package config_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/config"
)

func TestSplitList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{in: "", want: nil},
		{in: "analyze", want: []string{"analyze"}},
		{in: " a, b,,c ,", want: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, config.SplitList(tt.in), "%q", tt.in)
	}
}

func TestUniqueWorkflowID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 19, 1, 2, 123456789, time.FixedZone("CET", 3600))
	id := config.UniqueWorkflowID(config.PipelineIDPrefix, at)
	require.Regexp(t, `^congressflow-pipeline-20261203T180102\.123Z-[0-9a-hjkmnp-tv-z]{8}$`, id)

	// Starts in the same millisecond never share an ID.
	seen := map[string]bool{}
	for range 10000 {
		id := config.UniqueWorkflowID(config.PipelineIDPrefix, at)
		require.False(t, seen[id], "%s twice", id)
		seen[id] = true
	}

	// IDs sort by start time.
	var ids []string
	for i := range 50 {
		ids = append(ids, config.UniqueWorkflowID(config.TuneIDPrefix, at.Add(time.Duration(i)*time.Millisecond)))
	}
	require.True(t, slices.IsSorted(ids))
}
