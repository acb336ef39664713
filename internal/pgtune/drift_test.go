package pgtune_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtune"
)

func TestDrift(t *testing.T) {
	t.Parallel()
	st := pgtune.ServerState{Settings: map[string]pgtune.Current{
		"shared_buffers":     {Name: "shared_buffers", Setting: "65536", Unit: "8kB", Display: "512MB", Source: "configuration file"},
		"work_mem":           {Name: "work_mem", Setting: "8192", Unit: "kB", Display: "8MB", Source: "configuration file"},
		"max_wal_size":       {Name: "max_wal_size", Setting: "1024", Unit: "MB", Display: "1GB", Source: "default"},
		"random_page_cost":   {Name: "random_page_cost", Setting: "1.1", Display: "1.1", Source: "configuration file"},
		"max_connections":    {Name: "max_connections", Setting: "100", Display: "100", PendingRestart: true},
		"checkpoint_timeout": {Name: "checkpoint_timeout", Setting: "900", Unit: "s", Display: "15min", Source: "configuration file"},
	}}
	applied := []pgtune.AppliedSetting{
		{Name: "shared_buffers", Value: "512MB", RunID: "r1"},         // same
		{Name: "work_mem", Value: "8300kB", RunID: "r1"},              // within 5 %
		{Name: "max_wal_size", Value: "4GB", RunID: "r2"},             // reset by someone
		{Name: "random_page_cost", Value: "1.1", RunID: "r1"},         // same
		{Name: "max_connections", Value: "200", RunID: "r1"},          // waits for a restart: pending, not drift
		{Name: "checkpoint_timeout", Value: "900s", RunID: "r1"},      // same in other units
		{Name: "effective_io_concurrency", Value: "200", RunID: "r1"}, // unknown here
	}
	got := pgtune.Drift(applied, st)
	require.Equal(t, []pgtune.Drifted{
		{Name: "effective_io_concurrency", Applied: "200", Running: "(unknown to the server)", RunID: "r1"},
		{Name: "max_wal_size", Applied: "4GB", Running: "1GB", Source: "default", RunID: "r2"},
	}, got)
	require.True(t, pgtune.Allowed("shared_buffers"))
	require.False(t, pgtune.Allowed("primary_conninfo"))
}
