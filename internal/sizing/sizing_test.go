package sizing

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/sysprobe"
)

const gib = uint64(1) << 30

// nb is a planned number and its bound, for compact expectations.
type nb struct {
	N     int
	Bound string
}

type wantPlan struct {
	ActivitySlots, WorkflowTaskSlots, ActivityPollers, WorkflowTaskPollers, PoolMinConns, PoolMaxConns, HTTPConnsPerHost nb
}

func summarize(p Plan) wantPlan {
	f := func(v Value) nb { return nb{v.N, v.Bound} }
	return wantPlan{
		f(p.ActivitySlots), f(p.WorkflowTaskSlots), f(p.ActivityPollers), f(p.WorkflowTaskPollers),
		f(p.PoolMinConns), f(p.PoolMaxConns), f(p.HTTPConnsPerHost),
	}
}

var laptop = Inputs{CPUs: 2, HostCPUs: 2, MemoryBytes: 4 * gib, Load1: 0.5, DBMaxConnections: 100, DBReservedConnections: 3, APIRequestsPerHour: 5000}

func TestCompute(t *testing.T) {
	t.Parallel()
	cgroupHost := sysprobe.Profile{
		CPU:       sysprobe.CPUInfo{LogicalCores: 64, PhysicalCores: 32, Load1: 40},
		Memory:    sysprobe.MemoryInfo{TotalBytes: 256 * gib},
		Effective: sysprobe.Effective{CPUs: 2, CPUSource: sysprobe.SourceCgroupV2CPU, MemoryBytes: 4 * gib, MemorySource: sysprobe.SourceCgroupV2Memory},
	}
	withOverrides := func(in Inputs, ov Overrides) Inputs { in.Overrides = ov; return in }
	noAPI := laptop
	noAPI.APIRequestsPerHour = 0

	tests := []struct {
		name string
		in   Inputs
		want wantPlan
	}{
		{
			name: "laptop 2 CPUs 4 GiB, API budget 5000/h",
			in:   laptop,
			want: wantPlan{
				ActivitySlots: nb{4, BoundAPIRate}, WorkflowTaskSlots: nb{4, BoundCPU},
				ActivityPollers: nb{2, BoundFloor}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{2, BoundAPIRate}, PoolMaxConns: nb{6, BoundAPIRate}, HTTPConnsPerHost: nb{4, BoundAPIRate},
			},
		},
		{
			name: "2-CPU cgroup on a 64-core host sizes for 2 CPUs, host load normalised by 64",
			in:   InputsFromProfile(cgroupHost),
			want: wantPlan{
				ActivitySlots: nb{8, BoundCPU}, WorkflowTaskSlots: nb{4, BoundCPU},
				ActivityPollers: nb{2, BoundCPU}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{3, BoundCPU}, PoolMaxConns: nb{10, BoundCPU}, HTTPConnsPerHost: nb{8, BoundCPU},
			},
		},
		{
			name: "64 cores 256 GiB, max_connections 200",
			in:   Inputs{CPUs: 64, HostCPUs: 64, MemoryBytes: 256 * gib, Load1: 8, DBMaxConnections: 200, DBReservedConnections: 3},
			want: wantPlan{
				ActivitySlots: nb{30, BoundDBConnections}, WorkflowTaskSlots: nb{64, BoundHardCap},
				ActivityPollers: nb{8, BoundDBConnections}, WorkflowTaskPollers: nb{8, BoundHardCap},
				PoolMinConns: nb{8, BoundHardCap}, PoolMaxConns: nb{32, BoundHardCap}, HTTPConnsPerHost: nb{30, BoundDBConnections},
			},
		},
		{
			name: "tiny 1 CPU 512 MiB",
			in:   Inputs{CPUs: 1, MemoryBytes: 512 << 20, APIRequestsPerHour: 5000},
			want: wantPlan{
				ActivitySlots: nb{2, BoundMemory}, WorkflowTaskSlots: nb{2, BoundCPU},
				ActivityPollers: nb{2, BoundFloor}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{1, BoundMemory}, PoolMaxConns: nb{4, BoundMemory}, HTTPConnsPerHost: nb{2, BoundMemory},
			},
		},
		{
			name: "max_connections 20 bounds the pool and the activities",
			in:   Inputs{CPUs: 4, MemoryBytes: 8 * gib, DBMaxConnections: 20, DBReservedConnections: 3},
			want: wantPlan{
				ActivitySlots: nb{6, BoundDBConnections}, WorkflowTaskSlots: nb{8, BoundCPU},
				ActivityPollers: nb{2, BoundDBConnections}, WorkflowTaskPollers: nb{2, BoundCPU},
				PoolMinConns: nb{2, BoundDBConnections}, PoolMaxConns: nb{8, BoundDBConnections}, HTTPConnsPerHost: nb{6, BoundDBConnections},
			},
		},
		{
			name: "high load shrinks CPU-bound counts",
			in:   Inputs{CPUs: 8, HostCPUs: 8, MemoryBytes: 16 * gib, Load1: 24},
			want: wantPlan{
				ActivitySlots: nb{10, BoundLoad}, WorkflowTaskSlots: nb{5, BoundLoad},
				ActivityPollers: nb{3, BoundLoad}, WorkflowTaskPollers: nb{2, BoundLoad},
				PoolMinConns: nb{3, BoundLoad}, PoolMaxConns: nb{12, BoundLoad}, HTTPConnsPerHost: nb{10, BoundLoad},
			},
		},
		{
			name: "extreme load stops at a quarter of the CPUs",
			in:   Inputs{CPUs: 4, MemoryBytes: 16 * gib, Load1: 100},
			want: wantPlan{
				ActivitySlots: nb{4, BoundLoad}, WorkflowTaskSlots: nb{2, BoundLoad},
				ActivityPollers: nb{2, BoundFloor}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{2, BoundLoad}, PoolMaxConns: nb{6, BoundLoad}, HTTPConnsPerHost: nb{4, BoundLoad},
			},
		},
		{
			name: "all overrides",
			in: withOverrides(laptop, Overrides{
				ActivitySlots: 12, WorkflowTaskSlots: 6, ActivityPollers: 3, WorkflowTaskPollers: 4,
				PoolMinConns: 5, PoolMaxConns: 10, HTTPConnsPerHost: 3,
			}),
			want: wantPlan{
				ActivitySlots: nb{12, BoundOverride}, WorkflowTaskSlots: nb{6, BoundOverride},
				ActivityPollers: nb{3, BoundOverride}, WorkflowTaskPollers: nb{4, BoundOverride},
				PoolMinConns: nb{5, BoundOverride}, PoolMaxConns: nb{10, BoundOverride}, HTTPConnsPerHost: nb{3, BoundOverride},
			},
		},
		{
			name: "overridden pool max bounds the computed activities",
			in:   withOverrides(noAPI, Overrides{PoolMaxConns: 5}),
			want: wantPlan{
				ActivitySlots: nb{3, BoundDBConnections}, WorkflowTaskSlots: nb{4, BoundCPU},
				ActivityPollers: nb{2, BoundFloor}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{2, BoundOverride}, PoolMaxConns: nb{5, BoundOverride}, HTTPConnsPerHost: nb{3, BoundDBConnections},
			},
		},
		{
			name: "overridden activities drive the pool",
			in:   withOverrides(noAPI, Overrides{ActivitySlots: 20}),
			want: wantPlan{
				ActivitySlots: nb{20, BoundOverride}, WorkflowTaskSlots: nb{4, BoundCPU},
				ActivityPollers: nb{5, BoundOverride}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{6, BoundOverride}, PoolMaxConns: nb{22, BoundOverride}, HTTPConnsPerHost: nb{20, BoundOverride},
			},
		},
		{
			name: "nothing known: sized as one CPU",
			in:   Inputs{},
			want: wantPlan{
				ActivitySlots: nb{4, BoundCPU}, WorkflowTaskSlots: nb{2, BoundCPU},
				ActivityPollers: nb{2, BoundFloor}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{2, BoundCPU}, PoolMaxConns: nb{6, BoundCPU}, HTTPConnsPerHost: nb{4, BoundCPU},
			},
		},
		{
			name: "a half-CPU quota still gets two workflow task slots",
			in:   Inputs{CPUs: 0.5, HostCPUs: 16, MemoryBytes: 256 << 20, APIRequestsPerHour: 5000},
			want: wantPlan{
				ActivitySlots: nb{1, BoundMemory}, WorkflowTaskSlots: nb{2, BoundFloor},
				ActivityPollers: nb{1, BoundMemory}, WorkflowTaskPollers: nb{2, BoundFloor},
				PoolMinConns: nb{1, BoundMemory}, PoolMaxConns: nb{3, BoundMemory}, HTTPConnsPerHost: nb{2, BoundFloor},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan, err := Compute(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, summarize(plan))
			require.Equal(t, tt.in, plan.Inputs)

			// Invariants every plan keeps.
			require.GreaterOrEqual(t, plan.WorkflowTaskSlots.N, 2, "SDK rejects 1")
			require.GreaterOrEqual(t, plan.WorkflowTaskPollers.N, 2, "SDK rejects 1")
			require.LessOrEqual(t, plan.PoolMinConns.N, plan.PoolMaxConns.N)
			if tt.in.Overrides.ActivitySlots == 0 && plan.PoolMaxConns.N > poolReserveConns {
				require.LessOrEqual(t, plan.ActivitySlots.N, plan.PoolMaxConns.N-poolReserveConns)
			}
			if tt.in.Overrides == (Overrides{}) {
				require.LessOrEqual(t, plan.ActivityPollers.N, plan.ActivitySlots.N)
			}
			if tt.in.DBMaxConnections > 0 {
				require.LessOrEqual(t, plan.PoolMaxConns.N, tt.in.DBMaxConnections-tt.in.DBReservedConnections)
			}
			for _, r := range plan.Rows() {
				require.Positive(t, r.Value, r.Name)
				require.NotEmpty(t, r.Reason, r.Name)
			}
		})
	}
}

func TestComputeReasons(t *testing.T) {
	t.Parallel()
	plan, err := Compute(withActivityOverride(laptop, 12, 10))
	require.NoError(t, err)
	require.Equal(t, "set by override; computed 4 (api_rate); above pool max 10 − 2 reserved, so activities may wait for a connection",
		plan.ActivitySlots.Reason)

	plan, err = Compute(Inputs{CPUs: 4, MemoryBytes: 8 * gib, DBMaxConnections: 20, DBReservedConnections: 3})
	require.NoError(t, err)
	require.Equal(t, "50% of the 17 connections PostgreSQL allows (max_connections 20 − 3 reserved)", plan.PoolMaxConns.Reason)
	require.Equal(t, "pool max 8 (db_connections) − 2 reserved, so no activity waits for a connection", plan.ActivitySlots.Reason)

	plan, err = Compute(Inputs{CPUs: 8, HostCPUs: 8, MemoryBytes: 16 * gib, Load1: 24})
	require.NoError(t, err)
	require.Equal(t, "4 activity slots per CPU × 2.67 of 8 CPUs left by load 24.00 on 8 host CPUs", plan.ActivitySlots.Reason)
}

func withActivityOverride(in Inputs, slots, poolMax int) Inputs {
	in.Overrides = Overrides{ActivitySlots: slots, PoolMaxConns: poolMax}
	return in
}

func TestComputeInvalid(t *testing.T) {
	t.Parallel()
	with := func(ov Overrides) Inputs { in := laptop; in.Overrides = ov; return in }
	tests := []struct {
		name    string
		in      Inputs
		wantErr string
	}{
		{"negative activity slots", with(Overrides{ActivitySlots: -1}), "Overrides.ActivitySlots is -1"},
		{"negative pool max", with(Overrides{PoolMaxConns: -4}), "Overrides.PoolMaxConns is -4"},
		{"negative http conns", with(Overrides{HTTPConnsPerHost: -2}), "Overrides.HTTPConnsPerHost is -2"},
		{"one workflow task slot", with(Overrides{WorkflowTaskSlots: 1}), "Overrides.WorkflowTaskSlots is 1"},
		{"one workflow task poller", with(Overrides{WorkflowTaskPollers: 1}), "Overrides.WorkflowTaskPollers is 1"},
		{"pool min above max", with(Overrides{PoolMinConns: 9, PoolMaxConns: 8}), "Overrides.PoolMinConns 9 exceeds PoolMaxConns 8"},
		{"pool min above computed max", with(Overrides{PoolMinConns: 7}), "Overrides.PoolMinConns 7 exceeds PoolMaxConns 6"},
		{"pool max above what PostgreSQL allows", with(Overrides{PoolMaxConns: 98}), "Overrides.PoolMaxConns 98 exceeds the 97 connections"},
		{"NaN CPUs", Inputs{CPUs: math.NaN()}, "Inputs.CPUs is NaN"},
		{"negative load", Inputs{Load1: -1}, "Inputs.Load1 is -1"},
		{"reserved swallow max_connections", Inputs{DBMaxConnections: 3, DBReservedConnections: 3}, "Inputs.DBReservedConnections 3 leaves none"},
		{"negative API budget", Inputs{APIRequestsPerHour: -1}, "Inputs.APIRequestsPerHour is -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compute(tt.in)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestComputeReportsEveryBadOverride(t *testing.T) {
	t.Parallel()
	_, err := Compute(Inputs{Overrides: Overrides{ActivitySlots: -1, PoolMinConns: -2}})
	require.ErrorContains(t, err, "Overrides.ActivitySlots")
	require.ErrorContains(t, err, "Overrides.PoolMinConns")
}

func TestWriteTableAligned(t *testing.T) {
	t.Parallel()
	plan, err := Compute(laptop)
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, plan.WriteTable(&b))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 1+len(plan.Rows()))
	col := strings.Index(lines[0], "BOUND")
	for _, l := range lines[1:] {
		require.NotEqual(t, byte(' '), l[col], "bound column starts at the same offset: %q", l)
		require.Equal(t, byte(' '), l[col-1], "%q", l)
	}
}
