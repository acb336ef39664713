package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/pgtune"
)

// TestPlanTuningUsesTheWorkersDatabaseHostConfig covers a server the worker
// cannot probe (no probe here; in production, another host): the worker's
// PG_HOST_MEMORY/PG_HOST_CPUS make an empty input plannable, and the
// input still wins over them.
func TestPlanTuningUsesTheWorkersDatabaseHostConfig(t *testing.T) {
	t.Parallel()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))

	plan := func(tuning *activities.Tuning, req pgtune.Request) (pgtune.Plan, error) {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(tuning)
		v, err := env.ExecuteActivity((&activities.Tuning{}).PlanTuning, req)
		if err != nil {
			return pgtune.Plan{}, err
		}
		var p pgtune.Plan
		require.NoError(t, v.Get(&p))
		return p, nil
	}

	_, err := plan(&activities.Tuning{Pool: pool}, pgtune.Request{})
	require.ErrorContains(t, err, "PG_HOST_MEMORY", "the error says how to fix it")

	configured := &activities.Tuning{Pool: pool, DBHostMemory: "8GB", DBHostCPUs: 4}
	p, err := plan(configured, pgtune.Request{})
	require.NoError(t, err)
	require.Equal(t, pgtune.HardwareConfig, p.Hardware.Source)
	require.Equal(t, uint64(8<<30), p.Hardware.MemoryBytes)
	require.Equal(t, 4, p.Hardware.CPUs)
	sb, ok := p.Get("shared_buffers")
	require.True(t, ok)
	require.Equal(t, "2GB", sb.Value)

	p, err = plan(configured, pgtune.Request{Memory: "16GB"})
	require.NoError(t, err)
	require.Equal(t, pgtune.HardwareInput+"+"+pgtune.HardwareConfig, p.Hardware.Source)
	require.Equal(t, uint64(16<<30), p.Hardware.MemoryBytes)
	require.Equal(t, 4, p.Hardware.CPUs)
}
