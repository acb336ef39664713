package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
)

// staticProber returns a fixed profile, so the test can compare what is
// stored with what was probed.
type staticProber struct{ p sysprobe.Profile }

func (s staticProber) Probe(context.Context) (sysprobe.Profile, error) { return s.p, nil }

func TestAnalyzeSystemStoresTheProfileOncePerRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))

	profile := sysprobe.Profile{
		CollectedAt: time.Date(2026, 11, 27, 10, 0, 0, 123000, time.UTC),
		Hostname:    "db1",
		Effective:   sysprobe.Effective{CPUs: 2, CPUSource: sysprobe.SourceCgroupV2CPU, MemoryBytes: 4 << 30, MemorySource: sysprobe.SourceHost},
		Warnings:    []string{"network: speed unknown"},
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.System{Prober: staticProber{profile}, Pool: pool})

	// Twice, as a retried attempt would: one row, the same id.
	var first activities.AnalyzeResult
	for range 2 {
		v, err := env.ExecuteActivity((&activities.System{}).AnalyzeSystem)
		require.NoError(t, err)
		var got activities.AnalyzeResult
		require.NoError(t, v.Get(&got))
		require.Equal(t, profile, got.Profile)
		if first.AnalysisID == 0 {
			first = got
		}
		require.Equal(t, first.AnalysisID, got.AnalysisID)
	}

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ops.system_analyses`).Scan(&n))
	require.Equal(t, 1, n)
	var raw []byte
	var cpus float64
	require.NoError(t, pool.QueryRow(ctx, `SELECT profile, effective_cpus FROM ops.system_analyses WHERE id = $1`, first.AnalysisID).Scan(&raw, &cpus))
	var stored sysprobe.Profile
	require.NoError(t, json.Unmarshal(raw, &stored))
	require.Equal(t, profile, stored)
	require.Equal(t, 2.0, cpus)
}

type failingProber struct{}

func (failingProber) Probe(context.Context) (sysprobe.Profile, error) {
	return sysprobe.Profile{}, errors.New("context deadline exceeded")
}

func TestAnalyzeSystemProbeFailureIsRetryable(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.System{Prober: failingProber{}})
	_, err := env.ExecuteActivity((&activities.System{}).AnalyzeSystem)
	require.ErrorContains(t, err, "probe host")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.False(t, appErr.NonRetryable(), "a probe that timed out is worth another attempt")
}
