package sysprobe

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Profile is one probe of the machine. It is plain data: encoding it with
// encoding/json and decoding it again yields an equal value (times are UTC
// with microsecond precision, floats are finite, slices are never nil).
type Profile struct {
	// CollectedAt is when the probe started, in UTC, truncated to microseconds.
	CollectedAt time.Time `json:"collected_at"`
	// Hostname is the kernel's host name.
	Hostname string `json:"hostname"`
	// OS is the Go runtime's GOOS, such as "linux".
	OS string `json:"os"`
	// Platform is the distribution, such as "debian" or "ubuntu".
	Platform string `json:"platform"`
	// PlatformVersion is the distribution's version, such as "12.7".
	PlatformVersion string `json:"platform_version"`
	// KernelVersion is the kernel release, such as "6.1.0-25-amd64".
	KernelVersion string `json:"kernel_version"`
	// CPU describes the host's processors and load.
	CPU CPUInfo `json:"cpu"`
	// Memory describes the host's memory and swap.
	Memory MemoryInfo `json:"memory"`
	// Disks has one entry per mount point under [Options.Paths].
	Disks []DiskInfo `json:"disks"`
	// Network lists the network interfaces.
	Network []NetInterface `json:"network"`
	// Cgroup holds the container limits that apply to this process.
	Cgroup CgroupInfo `json:"cgroup"`
	// Effective is what this process can actually use.
	Effective Effective `json:"effective"`
	// Warnings names each collector that failed or timed out and why.
	Warnings []string `json:"warnings"`
}

// CPUInfo describes the host's processors and load averages.
type CPUInfo struct {
	// PhysicalCores is the number of physical cores; 0 when unknown.
	PhysicalCores int `json:"physical_cores"`
	// LogicalCores is the number of hardware threads the host has; 0 when
	// unknown.
	LogicalCores int `json:"logical_cores"`
	// AllowedCPUs is the number of CPUs this process may run on
	// (Cpus_allowed_list in /proc/self/status: affinity and cpuset); 0 when
	// unknown.
	AllowedCPUs int `json:"allowed_cpus"`
	// Model is the first processor's model name.
	Model string `json:"model"`
	// Load1 is the host's 1-minute load average.
	Load1 float64 `json:"load1"`
	// Load5 is the host's 5-minute load average.
	Load5 float64 `json:"load5"`
	// Load15 is the host's 15-minute load average.
	Load15 float64 `json:"load15"`
}

// MemoryInfo describes the host's memory and swap, from /proc/meminfo.
type MemoryInfo struct {
	// TotalBytes is the host's physical memory.
	TotalBytes uint64 `json:"total_bytes"`
	// AvailableBytes is memory available for new work without swapping
	// (MemAvailable: free memory plus reclaimable cache).
	AvailableBytes uint64 `json:"available_bytes"`
	// FreeBytes is memory not used at all (MemFree).
	FreeBytes uint64 `json:"free_bytes"`
	// UsedPercent is (total - available) / total, from 0 to 100.
	UsedPercent float64 `json:"used_percent"`
	// SwapTotalBytes is the swap space configured.
	SwapTotalBytes uint64 `json:"swap_total_bytes"`
	// SwapUsedBytes is the swap space in use.
	SwapUsedBytes uint64 `json:"swap_used_bytes"`
}

// DiskInfo is the capacity and use of one mounted file system.
type DiskInfo struct {
	// Paths are the probed paths that live on this file system.
	Paths []string `json:"paths"`
	// MountPoint is where the file system is mounted; empty when the mount
	// table could not be read.
	MountPoint string `json:"mount_point"`
	// Device is the mounted device or source, such as /dev/nvme0n1p2.
	Device string `json:"device"`
	// FSType is the file system type, such as ext4 or xfs.
	FSType string `json:"fs_type"`
	// TotalBytes is the file system's size.
	TotalBytes uint64 `json:"total_bytes"`
	// FreeBytes is the space an unprivileged user can still write.
	FreeBytes uint64 `json:"free_bytes"`
	// UsedBytes is the space in use.
	UsedBytes uint64 `json:"used_bytes"`
	// UsedPercent is used / (used + free), from 0 to 100, as df reports it.
	UsedPercent float64 `json:"used_percent"`
	// InodesTotal is the number of inodes; 0 on file systems without them.
	InodesTotal uint64 `json:"inodes_total"`
	// InodesUsed is the number of inodes in use.
	InodesUsed uint64 `json:"inodes_used"`
}

// NetInterface is one network interface.
type NetInterface struct {
	// Name is the interface name, such as eth0.
	Name string `json:"name"`
	// MTU is the maximum transmission unit in bytes.
	MTU int `json:"mtu"`
	// HardwareAddr is the MAC address; empty for loopback and tunnels.
	HardwareAddr string `json:"hardware_addr"`
	// Up reports whether the interface is administratively up.
	Up bool `json:"up"`
	// Loopback reports whether this is a loopback interface.
	Loopback bool `json:"loopback"`
	// OperState is the link state from /sys/class/net/NAME/operstate
	// ("up", "down", "unknown"); empty when not reported.
	OperState string `json:"oper_state"`
	// SpeedMbps is the link speed in Mbit/s; 0 when the OS does not report
	// it (virtual interfaces, links that are down).
	SpeedMbps int `json:"speed_mbps"`
	// Addresses are the interface's addresses in CIDR form.
	Addresses []string `json:"addresses"`
}

// CgroupInfo describes the cgroup limits that apply to this process. Files
// are named as the host sees them (without [Options.Root]).
type CgroupInfo struct {
	// Version is "v2" (unified), "v1", "hybrid" (v1 controllers next to a v2
	// mount) or empty when no cgroup file system was found.
	Version string `json:"version"`
	// Path is the process's own cgroup from /proc/self/cgroup: the unified
	// path on v2, the cpu controller's path on v1.
	Path string `json:"path"`
	// CPUQuota is the CPU limit in CPUs (quota / period); 0 means no limit.
	// The tightest limit of the cgroup and its ancestors wins.
	CPUQuota float64 `json:"cpu_quota"`
	// CPULimitFile is the cpu.max or cpu.cfs_quota_us file that set CPUQuota.
	CPULimitFile string `json:"cpu_limit_file"`
	// CPUUsageFile is where cumulative CPU use is read (cpu.stat on v2,
	// cpuacct.usage on v1); empty when there is no CPU limit.
	CPUUsageFile string `json:"cpu_usage_file"`
	// MemoryLimitBytes is the memory limit; 0 means no limit. The tightest
	// limit of the cgroup and its ancestors wins.
	MemoryLimitBytes uint64 `json:"memory_limit_bytes"`
	// MemoryLimitFile is the memory.max or memory.limit_in_bytes file that
	// set MemoryLimitBytes.
	MemoryLimitFile string `json:"memory_limit_file"`
	// MemoryUsageFile is where current memory use is read (memory.current on
	// v2, memory.usage_in_bytes on v1); empty when there is no memory limit.
	MemoryUsageFile string `json:"memory_usage_file"`
}

// Sources of the effective CPU and memory figures, as reported in
// [Effective.CPUSource] and [Effective.MemorySource].
const (
	SourceHost           = "host"
	SourceCPUSet         = "cpuset"
	SourceCgroupV2CPU    = "cgroup v2 cpu.max"
	SourceCgroupV1CPU    = "cgroup v1 cpu.cfs_quota_us"
	SourceCgroupV2Memory = "cgroup v2 memory.max"
	SourceCgroupV1Memory = "cgroup v1 memory.limit_in_bytes"
	SourceUnknown        = "unknown"
)

// Effective is what this process can actually use: the smallest of the
// host's figures, the CPU affinity and the cgroup limits.
type Effective struct {
	// CPUs is the usable CPU count; fractional under a cgroup quota such as
	// 1.5. 0 when nothing could be read.
	CPUs float64 `json:"cpus"`
	// CPUSource says what bound CPUs: one of the Source constants.
	CPUSource string `json:"cpu_source"`
	// MemoryBytes is the usable memory; 0 when nothing could be read.
	MemoryBytes uint64 `json:"memory_bytes"`
	// MemorySource says what bound MemoryBytes: one of the Source constants.
	MemorySource string `json:"memory_source"`
	// GOMAXPROCS is the Go runtime's GOMAXPROCS in the probing process
	// (container-aware since Go 1.25).
	GOMAXPROCS int `json:"gomaxprocs"`
}

// Summary is the profile on one line, for logs.
func (p Profile) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host=%s os=%s", orDash(p.Hostname), orDash(p.OS))
	if p.Platform != "" {
		fmt.Fprintf(&b, "/%s", p.Platform)
		if p.PlatformVersion != "" {
			fmt.Fprintf(&b, " %s", p.PlatformVersion)
		}
	}
	fmt.Fprintf(&b, " cpus=%s (%s; host %d logical, %d physical)",
		formatCPUs(p.Effective.CPUs), orDash(p.Effective.CPUSource), p.CPU.LogicalCores, p.CPU.PhysicalCores)
	fmt.Fprintf(&b, " mem=%s (%s; host %s, %.0f%% used)",
		FormatBytes(p.Effective.MemoryBytes), orDash(p.Effective.MemorySource), FormatBytes(p.Memory.TotalBytes), p.Memory.UsedPercent)
	fmt.Fprintf(&b, " load=%.2f/%.2f/%.2f", p.CPU.Load1, p.CPU.Load5, p.CPU.Load15)
	for _, d := range p.Disks {
		fmt.Fprintf(&b, " disk[%s]=%s free of %s", orDash(d.MountPoint), FormatBytes(d.FreeBytes), FormatBytes(d.TotalBytes))
	}
	if p.Cgroup.Version != "" {
		fmt.Fprintf(&b, " cgroup=%s", p.Cgroup.Version)
	}
	fmt.Fprintf(&b, " gomaxprocs=%d warnings=%d", p.Effective.GOMAXPROCS, len(p.Warnings))
	return b.String()
}

// FormatBytes renders n in binary units: "512 MiB", "1.5 GiB", "0 B".
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / unit
	i := 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(roundTo(v, 1), 'f', -1, 64) + " " + units[i]
}

func roundTo(v float64, decimals int) float64 {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

func formatCPUs(c float64) string {
	return strconv.FormatFloat(roundTo(c, 2), 'f', -1, 64)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
