package sysprobe

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// cpuinfo renders a /proc/cpuinfo for sockets × cores × threads.
func cpuinfo(sockets, cores, threads int) string {
	var b strings.Builder
	n := 0
	for s := range sockets {
		for range cores * threads {
			fmt.Fprintf(&b, "processor\t: %d\nmodel name\t: Test CPU 9000\nphysical id\t: %d\ncpu cores\t: %d\n\n", n, s, cores)
			n++
		}
	}
	return b.String()
}

// hostFixture is a 64-thread, 256 GiB host whose process lives in a 2-CPU,
// 4 GiB cgroup v2.
func hostFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"/proc/cpuinfo": cpuinfo(2, 16, 2),
		"/proc/meminfo": "MemTotal:       268435456 kB\nMemFree:        200000000 kB\nMemAvailable:   201326592 kB\n" +
			"Buffers: 0 kB\nCached: 0 kB\nSwapTotal:       1048576 kB\nSwapFree:         524288 kB\n",
		"/proc/loadavg":          "3.50 2.25 1.00 2/900 12345\n",
		"/proc/self/status":      "Name:\tworker\nCpus_allowed_list:\t0-63\n",
		"/proc/self/cgroup":      "0::/congressflow\n",
		"/proc/self/mountinfo":   "22 1 0:21 / / rw - ext4 /dev/vda1 rw\n30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		"/sys/fs/cgroup/cpu.max": "max 100000\n",

		"/sys/fs/cgroup/congressflow/cpu.max":        "200000 100000\n",
		"/sys/fs/cgroup/congressflow/cpu.stat":       "usage_usec 1000000\nuser_usec 1\n",
		"/sys/fs/cgroup/congressflow/memory.max":     "4294967296\n",
		"/sys/fs/cgroup/congressflow/memory.current": "3221225472\n",
		"/sys/fs/cgroup/congressflow/memory.stat":    "anon 1\ninactive_file 1073741824\n",
		"/sys/class/net/lo/operstate":                "unknown\n",
		"/sys/class/net/lo/speed":                    "-1\n",
	})
	return root
}

func TestProbeFixtureHost(t *testing.T) {
	t.Parallel()
	root := hostFixture(t)
	dataDir, workDir := t.TempDir(), t.TempDir()
	p := New(Options{Root: root, Paths: []string{workDir, dataDir}, Logger: slog.New(slog.DiscardHandler)})
	p.clock = &fixedClock{t: time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("EST", -5*3600))}

	prof, err := p.Probe(context.Background())
	require.NoError(t, err)

	require.Equal(t, time.Date(2025, 3, 1, 17, 0, 0, 123456000, time.UTC), prof.CollectedAt)
	require.Equal(t, CPUInfo{
		PhysicalCores: 32, LogicalCores: 64, AllowedCPUs: 64, Model: "Test CPU 9000",
		Load1: 3.5, Load5: 2.25, Load15: 1,
	}, prof.CPU)
	require.Equal(t, MemoryInfo{
		TotalBytes: 256 << 30, AvailableBytes: 192 << 30, FreeBytes: 200000000 << 10,
		UsedPercent: 25, SwapTotalBytes: 1 << 30, SwapUsedBytes: 512 << 20,
	}, prof.Memory)
	require.Equal(t, "v2", prof.Cgroup.Version)
	require.Equal(t, "/congressflow", prof.Cgroup.Path)
	require.Equal(t, 2.0, prof.Effective.CPUs)
	require.Equal(t, SourceCgroupV2CPU, prof.Effective.CPUSource)
	require.Equal(t, uint64(4<<30), prof.Effective.MemoryBytes)
	require.Equal(t, SourceCgroupV2Memory, prof.Effective.MemorySource)
	require.Positive(t, prof.Effective.GOMAXPROCS)

	// Both temp dirs are on the same file system: one disk, two paths.
	require.Len(t, prof.Disks, 1)
	require.Equal(t, []string{workDir, dataDir}, prof.Disks[0].Paths)
	require.Equal(t, "/", prof.Disks[0].MountPoint, "fixture mountinfo has only /")
	require.Positive(t, prof.Disks[0].TotalBytes)
	require.Empty(t, prof.Warnings)

	for _, n := range prof.Network {
		if n.Name == "lo" {
			require.True(t, n.Loopback)
			require.Equal(t, "unknown", n.OperState)
			require.Zero(t, n.SpeedMbps, "-1 means unknown")
		}
	}
	require.Contains(t, prof.Summary(), "cpus=2 (cgroup v2 cpu.max; host 64 logical, 32 physical)")
	require.Contains(t, prof.Summary(), "mem=4 GiB (cgroup v2 memory.max; host 256 GiB, 25% used)")
	requireJSONRoundTrip(t, prof)
}

func TestProbeFailedCollectorsBecomeWarnings(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"/proc/self/cgroup":         "0::/\n",
		"/proc/self/mountinfo":      "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		"/sys/fs/cgroup/memory.max": "not-a-number\n",
		"/proc/loadavg":             "0.1 0.2 0.3 1/1 1\n",
	})
	p := New(Options{Root: root, Paths: []string{"/does/not/exist"}})
	prof, err := p.Probe(context.Background())
	require.NoError(t, err)

	joined := strings.Join(prof.Warnings, "\n")
	require.Contains(t, joined, "memory: ", "no /proc/meminfo")
	require.Contains(t, joined, "disk: /does/not/exist")
	require.Contains(t, joined, "cgroup: parse /sys/fs/cgroup/memory.max")
	require.Equal(t, 0.1, prof.CPU.Load1, "other collectors still ran")
	require.Equal(t, SourceUnknown, prof.Effective.MemorySource)
	require.Empty(t, prof.Disks)
	requireJSONRoundTrip(t, prof)
}

func TestProbeLiveHost(t *testing.T) {
	t.Parallel()
	prof, err := New(Options{}).Probe(context.Background())
	require.NoError(t, err)
	t.Log(prof.Summary())
	for _, w := range prof.Warnings {
		t.Log("warning:", w)
	}
	require.Positive(t, prof.CPU.LogicalCores)
	require.Positive(t, prof.Memory.TotalBytes)
	require.Positive(t, prof.Effective.CPUs)
	require.LessOrEqual(t, prof.Effective.CPUs, float64(prof.CPU.LogicalCores))
	require.Positive(t, prof.Effective.MemoryBytes)
	require.Len(t, prof.Disks, 1, "the working directory")
	require.NotEmpty(t, prof.Network)
	requireJSONRoundTrip(t, prof)
}

func requireJSONRoundTrip(t *testing.T, prof Profile) {
	t.Helper()
	b, err := json.Marshal(prof)
	require.NoError(t, err)
	var back Profile
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, prof, back)
	b2, err := json.Marshal(back)
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(b2))
	require.NotContains(t, string(b), "null", "slices are never nil")
}

func TestCollect(t *testing.T) {
	t.Parallel()
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		block := make(chan struct{})
		defer close(block)
		v, warns := collect(context.Background(), time.Millisecond, func(context.Context) (int, []string) {
			<-block // ignores its context, like a read stuck in the kernel
			return 7, nil
		})
		require.Zero(t, v)
		require.Equal(t, []string{"timed out after 1ms"}, warns)
	})
	t.Run("panic", func(t *testing.T) {
		t.Parallel()
		_, warns := collect(context.Background(), time.Minute, func(context.Context) (int, []string) {
			panic("boom")
		})
		require.Equal(t, []string{"panic: boom"}, warns)
	})
	t.Run("result", func(t *testing.T) {
		t.Parallel()
		v, warns := collect(context.Background(), time.Minute, func(context.Context) (int, []string) {
			return 7, []string{"partial"}
		})
		require.Equal(t, 7, v)
		require.Equal(t, []string{"partial"}, warns)
	})
}

func TestProbeCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{Root: t.TempDir()}).Probe(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for in, want := range map[uint64]string{
		0: "0 B", 1023: "1023 B", 1024: "1 KiB", 512 << 20: "512 MiB",
		3 << 29: "1.5 GiB", 256 << 30: "256 GiB", 1<<40 + 1<<30: "1 TiB",
	} {
		require.Equal(t, want, FormatBytes(in), "FormatBytes(%d)", in)
	}
}

func TestSelfReadsThisProcess(t *testing.T) {
	t.Parallel()
	u, err := Self(context.Background())
	require.NoError(t, err)
	require.Equal(t, os.Getpid(), u.PID)
	require.Positive(t, u.RSSBytes)
	require.Positive(t, u.Goroutines)
	require.False(t, u.StartedAt.IsZero())
	require.True(t, u.StartedAt.Before(time.Now().Add(time.Second)))
	require.GreaterOrEqual(t, u.CPUPercent(time.Now()), 0.0)
}
