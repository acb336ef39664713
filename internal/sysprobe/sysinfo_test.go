package sysprobe

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

func TestSysInfoCgroup(t *testing.T) {
	t.Parallel()
	root := hostFixture(t) // 2-CPU, 4 GiB cgroup; 1 s of CPU used so far
	clk := &fixedClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := New(Options{Root: root})
	p.clock = clk
	prof, err := p.Probe(context.Background())
	require.NoError(t, err)
	si := p.SysInfo(prof)

	// 3 GiB current − 1 GiB inactive file cache over the 4 GiB limit; the
	// host is only 25 % used.
	memFrac, err := si.MemoryUsage(&worker.SysInfoContext{})
	require.NoError(t, err)
	require.InDelta(t, 0.5, memFrac, 1e-9)

	// One more CPU-second over one wall second on 2 CPUs: half used.
	writeTree(t, root, map[string]string{
		"/sys/fs/cgroup/congressflow/cpu.stat":       "usage_usec 2000000\n",
		"/sys/fs/cgroup/congressflow/memory.current": "4294967296\n",
	})
	clk.t = clk.t.Add(time.Second)
	cpuFrac, err := si.CpuUsage(&worker.SysInfoContext{})
	require.NoError(t, err)
	require.InDelta(t, 0.5, cpuFrac, 1e-9)
	memFrac, err = si.MemoryUsage(&worker.SysInfoContext{})
	require.NoError(t, err)
	require.InDelta(t, 0.75, memFrac, 1e-9)

	// Within the 100 ms cache window the files are not read again.
	writeTree(t, root, map[string]string{"/sys/fs/cgroup/congressflow/cpu.stat": "usage_usec 9000000\n"})
	clk.t = clk.t.Add(50 * time.Millisecond)
	cpuFrac, err = si.CpuUsage(&worker.SysInfoContext{})
	require.NoError(t, err)
	require.InDelta(t, 0.5, cpuFrac, 1e-9)

	// After it they are, and the fraction is clamped to 1.
	clk.t = clk.t.Add(100 * time.Millisecond)
	cpuFrac, err = si.CpuUsage(&worker.SysInfoContext{})
	require.NoError(t, err)
	require.Equal(t, 1.0, cpuFrac)
}

func TestSysInfoHost(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"/proc/meminfo": "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\n",
		"/proc/stat":    "cpu  100 0 100 800 0 0 0 0 0 0\n",
	})
	clk := &fixedClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := New(Options{Root: root})
	p.clock = clk
	si := p.SysInfo(Profile{Effective: Effective{CPUs: 4, CPUSource: SourceHost, MemoryBytes: 1000 << 10, MemorySource: SourceHost}})

	writeTree(t, root, map[string]string{"/proc/stat": "cpu  400 0 100 900 0 0 0 0 0 0\n"})
	clk.t = clk.t.Add(time.Second)
	cpuFrac, err := si.CpuUsage(nil)
	require.NoError(t, err)
	require.InDelta(t, 0.75, cpuFrac, 1e-9, "300 busy ticks of 400")
	memFrac, err := si.MemoryUsage(nil)
	require.NoError(t, err)
	require.InDelta(t, 0.6, memFrac, 1e-9)
}

func TestSysInfoReadError(t *testing.T) {
	t.Parallel()
	p := New(Options{Root: t.TempDir()})
	si := p.SysInfo(Profile{Effective: Effective{CPUSource: SourceHost, MemorySource: SourceHost}})
	_, err := si.MemoryUsage(nil)
	require.ErrorContains(t, err, "read host memory")
}
