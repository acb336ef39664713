package sysprobe

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"
	"go.temporal.io/sdk/worker"
)

// sysInfoRefresh is the shortest interval between two reads of the usage
// files. The SDK's resource controller asks on every slot reservation;
// reading /proc and cgroup files that often would cost more than the
// answer is worth, and a CPU fraction over less than 100 ms is noise.
const sysInfoRefresh = 100 * time.Millisecond

// SysInfo reports the process's memory and CPU use as fractions of the
// effective (cgroup-aware) limits of a [Profile]. It implements the SDK's
// [worker.SysInfoProvider] for [worker.NewResourceBasedTuner] and for worker
// heartbeats. Readings are cached for 100 ms. Create one with
// [Prober.SysInfo]; it is safe for concurrent use.
//
// Under a cgroup limit, memory use is the cgroup's usage less its inactive
// file cache, over the limit (or the host's fraction, when that is higher);
// CPU use is the cgroup's CPU time over wall time times the CPU quota.
// Without limits both are the host's figures. Like any system-level
// measure, the figures include other processes in the same cgroup or host,
// such as PostgreSQL.
type SysInfo struct {
	fs    hostFS
	clock clock

	cpus         float64 // effective CPUs, the denominator for cgroup CPU time
	cpuUsageFile string  // cgroup file with cumulative CPU time; "" = host
	memLimit     uint64  // cgroup memory limit; 0 = host only
	memUsageFile string  // cgroup file with current memory use

	mu       sync.Mutex
	sampled  bool
	lastAt   time.Time
	lastCPU  cpuSample
	cpuFrac  float64
	memFrac  float64
	cpuErr   error
	memErr   error
	cachedAt time.Time
}

// cpuSample is one reading of cumulative CPU time.
type cpuSample struct {
	ok          bool
	busy, total float64 // host: seconds busy and total across all CPUs
	usageNanos  uint64  // cgroup: CPU time consumed
}

var _ worker.SysInfoProvider = (*SysInfo)(nil)

// SysInfo returns a [SysInfo] measuring against prof's effective limits.
// The cgroup figures are used only when the cgroup is what bound the
// effective CPUs or memory.
func (p *Prober) SysInfo(prof Profile) *SysInfo {
	s := &SysInfo{fs: p.fs, clock: p.clock, cpus: prof.Effective.CPUs}
	switch prof.Effective.CPUSource {
	case SourceCgroupV1CPU, SourceCgroupV2CPU:
		s.cpuUsageFile = prof.Cgroup.CPUUsageFile
	}
	switch prof.Effective.MemorySource {
	case SourceCgroupV1Memory, SourceCgroupV2Memory:
		s.memLimit, s.memUsageFile = prof.Cgroup.MemoryLimitBytes, prof.Cgroup.MemoryUsageFile
	}
	s.lastCPU, _ = s.sampleCPU(s.fs.gopsutilContext(context.Background()))
	s.lastAt = s.clock.Now()
	return s
}

// MemoryUsage returns memory in use as a fraction (0–1) of the effective
// memory.
func (s *SysInfo) MemoryUsage(*worker.SysInfoContext) (float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	return s.memFrac, s.memErr
}

// CpuUsage returns CPU in use as a fraction (0–1) of the effective CPUs,
// averaged since the previous reading. The name is the SDK's.
func (s *SysInfo) CpuUsage(*worker.SysInfoContext) (float64, error) { //nolint:revive // name fixed by worker.SysInfoProvider
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	return s.cpuFrac, s.cpuErr
}

// refresh re-reads the usage files when the cache is older than
// sysInfoRefresh. s.mu is held.
func (s *SysInfo) refresh() {
	now := s.clock.Now()
	if s.sampled && now.Sub(s.cachedAt) < sysInfoRefresh {
		return
	}
	s.sampled, s.cachedAt = true, now
	ctx := s.fs.gopsutilContext(context.Background())

	s.memFrac, s.memErr = s.memoryFraction(ctx)

	cur, err := s.sampleCPU(ctx)
	s.cpuErr = err
	if err != nil {
		return
	}
	elapsed := now.Sub(s.lastAt)
	if s.lastCPU.ok && elapsed > 0 {
		if s.cpuUsageFile != "" {
			if cur.usageNanos >= s.lastCPU.usageNanos && s.cpus > 0 {
				s.cpuFrac = clamp01(float64(cur.usageNanos-s.lastCPU.usageNanos) / (float64(elapsed.Nanoseconds()) * s.cpus))
			}
		} else if dt := cur.total - s.lastCPU.total; dt > 0 {
			s.cpuFrac = clamp01((cur.busy - s.lastCPU.busy) / dt)
		}
	}
	s.lastCPU, s.lastAt = cur, now
}

func (s *SysInfo) sampleCPU(ctx context.Context) (cpuSample, error) {
	if s.cpuUsageFile != "" {
		n, err := readCgroupCPUNanos(s.fs, s.cpuUsageFile)
		if err != nil {
			return cpuSample{}, err
		}
		return cpuSample{ok: true, usageNanos: n}, nil
	}
	times, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return cpuSample{}, fmt.Errorf("read host CPU times: %w", err)
	}
	if len(times) == 0 {
		return cpuSample{}, errors.New("read host CPU times: no data")
	}
	t := times[0]
	total := t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	return cpuSample{ok: true, busy: total - t.Idle - t.Iowait, total: total}, nil
}

// readCgroupCPUNanos reads cumulative CPU time: usage_usec from a v2
// cpu.stat, or nanoseconds from a v1 cpuacct.usage.
func readCgroupCPUNanos(h hostFS, file string) (uint64, error) {
	data, err := h.read(file)
	if err != nil {
		return 0, fmt.Errorf("read cgroup CPU usage: %w", err)
	}
	if path.Base(file) == "cpuacct.usage" {
		n, err := strconv.ParseUint(strings.TrimSpace(data), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", file, err)
		}
		return n, nil
	}
	v, err := statField(data, "usage_usec")
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", file, err)
	}
	return v * 1000, nil
}

// memoryFraction is memory in use over the effective memory. Under a cgroup
// limit it is the larger of the cgroup's and the host's fractions: the
// kernel reclaims or kills at whichever runs out first.
func (s *SysInfo) memoryFraction(ctx context.Context) (float64, error) {
	var hostFrac float64
	vm, hostErr := mem.VirtualMemoryWithContext(ctx)
	if hostErr == nil && vm.Total > 0 && vm.Available <= vm.Total {
		hostFrac = float64(vm.Total-vm.Available) / float64(vm.Total)
	}
	if s.memLimit == 0 || s.memUsageFile == "" {
		if hostErr != nil {
			return 0, fmt.Errorf("read host memory: %w", hostErr)
		}
		return clamp01(hostFrac), nil
	}
	used, err := readCgroupMemoryUsed(s.fs, s.memUsageFile)
	if err != nil {
		return 0, err
	}
	return clamp01(max(float64(used)/float64(s.memLimit), hostFrac)), nil
}

// readCgroupMemoryUsed is the cgroup's memory use less inactive file cache
// (the working set, as the kubelet and docker stats count it): inactive
// cache is reclaimed before the cgroup hits its limit.
func readCgroupMemoryUsed(h hostFS, usageFile string) (uint64, error) {
	data, err := h.read(usageFile)
	if err != nil {
		return 0, fmt.Errorf("read cgroup memory usage: %w", err)
	}
	usage, err := strconv.ParseUint(strings.TrimSpace(data), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", usageFile, err)
	}
	key := "inactive_file" // v2
	if path.Base(usageFile) == "memory.usage_in_bytes" {
		key = "total_inactive_file" // v1, hierarchical
	}
	if stat, err := h.read(path.Dir(usageFile) + "/memory.stat"); err == nil {
		if inactive, err := statField(stat, key); err == nil && inactive < usage {
			usage -= inactive
		}
	}
	return usage, nil
}

// statField returns the value of "key value" in a cgroup stat file.
func statField(data, key string) (uint64, error) {
	for _, line := range strings.Split(data, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && k == key {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s", key)
}

func clamp01(v float64) float64 {
	return min(max(finite(v), 0), 1)
}
