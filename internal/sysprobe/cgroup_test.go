package sysprobe

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeTree creates files under root; keys are host paths such as
// "/proc/self/cgroup".
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

const (
	mountinfoV2 = `22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
`
	// A v1 container without a cgroup namespace: the hierarchy's own
	// /docker/abc is mounted at the controller's mount point.
	mountinfoV1Docker = `22 1 0:21 / / rw,relatime - overlay overlay rw
31 22 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs rw,mode=755
32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory
`
	// Hybrid: separate cpu and cpuacct hierarchies plus an empty unified one.
	mountinfoHybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
)

func TestReadCgroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		files     map[string]string
		want      CgroupInfo
		wantWarns int
	}{
		{
			name: "v2 no limits",
			files: map[string]string{
				"/proc/self/cgroup":          "0::/\n",
				"/proc/self/mountinfo":       mountinfoV2,
				"/sys/fs/cgroup/cpu.max":     "max 100000\n",
				"/sys/fs/cgroup/memory.max":  "max\n",
				"/sys/fs/cgroup/cpu.stat":    "usage_usec 1\n",
				"/sys/fs/cgroup/memory.stat": "anon 1\n",
			},
			want: CgroupInfo{Version: "v2", Path: "/"},
		},
		{
			name: "v2 limits on own cgroup resolved from /proc/self/cgroup",
			files: map[string]string{
				"/proc/self/cgroup":    "0::/system.slice/congressflow.service\n",
				"/proc/self/mountinfo": mountinfoV2,
				"/sys/fs/cgroup/system.slice/congressflow.service/cpu.max":        "200000 100000\n",
				"/sys/fs/cgroup/system.slice/congressflow.service/cpu.stat":       "usage_usec 5\n",
				"/sys/fs/cgroup/system.slice/congressflow.service/memory.max":     "2147483648\n",
				"/sys/fs/cgroup/system.slice/congressflow.service/memory.current": "1000\n",
				"/sys/fs/cgroup/system.slice/cpu.max":                             "max 100000\n",
				"/sys/fs/cgroup/system.slice/memory.max":                          "max\n",
			},
			want: CgroupInfo{
				Version:          "v2",
				Path:             "/system.slice/congressflow.service",
				CPUQuota:         2,
				CPULimitFile:     "/sys/fs/cgroup/system.slice/congressflow.service/cpu.max",
				CPUUsageFile:     "/sys/fs/cgroup/system.slice/congressflow.service/cpu.stat",
				MemoryLimitBytes: 2147483648,
				MemoryLimitFile:  "/sys/fs/cgroup/system.slice/congressflow.service/memory.max",
				MemoryUsageFile:  "/sys/fs/cgroup/system.slice/congressflow.service/memory.current",
			},
		},
		{
			name: "v2 tighter parent wins",
			files: map[string]string{
				"/proc/self/cgroup":                           "0::/kubepods/pod1/ctr\n",
				"/proc/self/mountinfo":                        mountinfoV2,
				"/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max":    "max 100000\n",
				"/sys/fs/cgroup/kubepods/pod1/ctr/memory.max": "4294967296\n",
				"/sys/fs/cgroup/kubepods/pod1/cpu.max":        "150000 100000\n",
				"/sys/fs/cgroup/kubepods/pod1/memory.max":     "1073741824\n",
				"/sys/fs/cgroup/kubepods/cpu.max":             "400000 100000\n",
			},
			want: CgroupInfo{
				Version:          "v2",
				Path:             "/kubepods/pod1/ctr",
				CPUQuota:         1.5,
				CPULimitFile:     "/sys/fs/cgroup/kubepods/pod1/cpu.max",
				MemoryLimitBytes: 1073741824,
				MemoryLimitFile:  "/sys/fs/cgroup/kubepods/pod1/memory.max",
			},
		},
		{
			name: "v2 without mountinfo falls back to /sys/fs/cgroup",
			files: map[string]string{
				"/proc/self/cgroup":                 "0::/app\n",
				"/sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
				"/sys/fs/cgroup/app/cpu.max":        "50000 100000\n",
				"/sys/fs/cgroup/app/memory.max":     "max\n",
			},
			want: CgroupInfo{
				Version:      "v2",
				Path:         "/app",
				CPUQuota:     0.5,
				CPULimitFile: "/sys/fs/cgroup/app/cpu.max",
			},
			wantWarns: 1, // missing mountinfo
		},
		{
			name: "v1 docker without cgroup namespace",
			files: map[string]string{
				"/proc/self/cgroup":                            "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n",
				"/proc/self/mountinfo":                         mountinfoV1Docker,
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "50000\n",
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
				"/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage":     "123\n",
				"/sys/fs/cgroup/memory/memory.limit_in_bytes":  "536870912\n",
				"/sys/fs/cgroup/memory/memory.usage_in_bytes":  "1000\n",
			},
			want: CgroupInfo{
				Version:          "v1",
				Path:             "/docker/abc",
				CPUQuota:         0.5,
				CPULimitFile:     "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us",
				CPUUsageFile:     "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage",
				MemoryLimitBytes: 536870912,
				MemoryLimitFile:  "/sys/fs/cgroup/memory/memory.limit_in_bytes",
				MemoryUsageFile:  "/sys/fs/cgroup/memory/memory.usage_in_bytes",
			},
		},
		{
			name: "v1 unlimited: quota -1 and the page-counter maximum",
			files: map[string]string{
				"/proc/self/cgroup":                            "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
				"/proc/self/mountinfo":                         mountinfoV1Docker,
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "-1\n",
				"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
				"/sys/fs/cgroup/memory/memory.limit_in_bytes":  "9223372036854771712\n",
			},
			want: CgroupInfo{Version: "v1", Path: "/docker/abc"},
		},
		{
			name: "hybrid with separate cpu and cpuacct hierarchies",
			files: map[string]string{
				"/proc/self/cgroup":                                 "4:memory:/job/7\n2:cpuacct:/\n1:cpu:/job\n0::/\n",
				"/proc/self/mountinfo":                              mountinfoHybrid,
				"/sys/fs/cgroup/cpu/job/cpu.cfs_quota_us":           "300000\n",
				"/sys/fs/cgroup/cpu/job/cpu.cfs_period_us":          "100000\n",
				"/sys/fs/cgroup/cpu/cpu.cfs_quota_us":               "-1\n",
				"/sys/fs/cgroup/cpuacct/cpuacct.usage":              "99\n",
				"/sys/fs/cgroup/memory/job/7/memory.limit_in_bytes": "9223372036854771712\n",
				"/sys/fs/cgroup/memory/job/memory.limit_in_bytes":   "8589934592\n",
				"/sys/fs/cgroup/memory/job/memory.usage_in_bytes":   "1\n",
				"/sys/fs/cgroup/unified/cgroup.controllers":         "",
			},
			want: CgroupInfo{
				Version:          "hybrid",
				Path:             "/job",
				CPUQuota:         3,
				CPULimitFile:     "/sys/fs/cgroup/cpu/job/cpu.cfs_quota_us",
				CPUUsageFile:     "/sys/fs/cgroup/cpuacct/cpuacct.usage",
				MemoryLimitBytes: 8589934592,
				MemoryLimitFile:  "/sys/fs/cgroup/memory/job/memory.limit_in_bytes",
				MemoryUsageFile:  "/sys/fs/cgroup/memory/job/memory.usage_in_bytes",
			},
		},
		{
			name:  "no cgroup file: not in a cgroup-aware OS",
			files: map[string]string{"/proc/meminfo": "MemTotal: 1 kB\n"},
			want:  CgroupInfo{},
		},
		{
			name: "malformed cpu.max is a warning, memory still read",
			files: map[string]string{
				"/proc/self/cgroup":         "0::/\n",
				"/proc/self/mountinfo":      mountinfoV2,
				"/sys/fs/cgroup/cpu.max":    "lots\n",
				"/sys/fs/cgroup/memory.max": "1048576\n",
			},
			want: CgroupInfo{
				Version:          "v2",
				Path:             "/",
				MemoryLimitBytes: 1048576,
				MemoryLimitFile:  "/sys/fs/cgroup/memory.max",
			},
			wantWarns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeTree(t, root, tt.files)
			got, warns := readCgroup(hostFS{root: root})
			require.Equal(t, tt.want, got)
			require.Len(t, warns, tt.wantWarns, "warnings: %q", warns)
		})
	}
}

func TestParseCPUMax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{in: "max 100000\n", want: 0},
		{in: "max", want: 0},
		{in: "200000 100000\n", want: 2},
		{in: "150000 100000", want: 1.5},
		{in: "50000", want: 0.5},
		{in: "", wantErr: "want \"QUOTA PERIOD\""},
		{in: "-5 100000", wantErr: "parse quota"},
		{in: "100000 0", wantErr: "parse period"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseCPUMax(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseCPUList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "0", want: 1},
		{in: "0-1\n", want: 2},
		{in: "\t0-3,8,10-11", want: 7},
		{in: "", wantErr: true},
		{in: "3-1", wantErr: true},
		{in: "a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseCPUList(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEffective(t *testing.T) {
	t.Parallel()
	const gib = uint64(1) << 30
	tests := []struct {
		name string
		cpu  CPUInfo
		mem  MemoryInfo
		cg   CgroupInfo
		want Effective
	}{
		{
			name: "bare host",
			cpu:  CPUInfo{LogicalCores: 8, AllowedCPUs: 8},
			mem:  MemoryInfo{TotalBytes: 16 * gib},
			want: Effective{CPUs: 8, CPUSource: SourceHost, MemoryBytes: 16 * gib, MemorySource: SourceHost},
		},
		{
			name: "2-CPU cgroup v2 on a 64-core host",
			cpu:  CPUInfo{LogicalCores: 64, AllowedCPUs: 64},
			mem:  MemoryInfo{TotalBytes: 256 * gib},
			cg: CgroupInfo{
				CPUQuota: 2, CPULimitFile: "/sys/fs/cgroup/cpu.max",
				MemoryLimitBytes: 4 * gib, MemoryLimitFile: "/sys/fs/cgroup/memory.max",
			},
			want: Effective{CPUs: 2, CPUSource: SourceCgroupV2CPU, MemoryBytes: 4 * gib, MemorySource: SourceCgroupV2Memory},
		},
		{
			name: "v1 limits",
			cpu:  CPUInfo{LogicalCores: 16},
			mem:  MemoryInfo{TotalBytes: 64 * gib},
			cg: CgroupInfo{
				CPUQuota: 1.5, CPULimitFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
				MemoryLimitBytes: gib, MemoryLimitFile: "/sys/fs/cgroup/memory/memory.limit_in_bytes",
			},
			want: Effective{CPUs: 1.5, CPUSource: SourceCgroupV1CPU, MemoryBytes: gib, MemorySource: SourceCgroupV1Memory},
		},
		{
			name: "cpuset tighter than quota; memory limit above host",
			cpu:  CPUInfo{LogicalCores: 64, AllowedCPUs: 4},
			mem:  MemoryInfo{TotalBytes: 8 * gib},
			cg: CgroupInfo{
				CPUQuota: 6, CPULimitFile: "/sys/fs/cgroup/cpu.max",
				MemoryLimitBytes: 32 * gib, MemoryLimitFile: "/sys/fs/cgroup/memory.max",
			},
			want: Effective{CPUs: 4, CPUSource: SourceCPUSet, MemoryBytes: 8 * gib, MemorySource: SourceHost},
		},
		{
			name: "quota equal to host: host is the source",
			cpu:  CPUInfo{LogicalCores: 2},
			cg:   CgroupInfo{CPUQuota: 2, CPULimitFile: "/sys/fs/cgroup/cpu.max"},
			want: Effective{CPUs: 2, CPUSource: SourceHost, MemorySource: SourceUnknown},
		},
		{
			name: "nothing known",
			want: Effective{CPUSource: SourceUnknown, MemorySource: SourceUnknown},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, effective(tt.cpu, tt.mem, tt.cg, 0))
		})
	}
}

func TestParseMountInfo(t *testing.T) {
	t.Parallel()
	mounts, err := parseMountInfo(`22 1 8:1 / / rw - ext4 /dev/sda1 rw
40 22 8:2 / /srv/my\040data rw,relatime shared:5 - xfs /dev/sdb1 rw,attr2
41 40 8:3 / /srv/my\040data/pg rw - ext4 /dev/sdc1 rw
`)
	require.NoError(t, err)
	require.Len(t, mounts, 3)
	require.Equal(t, "/srv/my data", mounts[1].mountPoint)
	require.Equal(t, []string{"rw", "attr2"}, mounts[1].superOpts)

	m, ok := mountFor(mounts, "/srv/my data/pg/15/main")
	require.True(t, ok)
	require.Equal(t, "/dev/sdc1", m.source)
	m, ok = mountFor(mounts, "/srv/my data/other")
	require.True(t, ok)
	require.Equal(t, "xfs", m.fsType)
	m, ok = mountFor(mounts, "/srv/my datax")
	require.True(t, ok)
	require.Equal(t, "/", m.mountPoint)

	_, err = parseMountInfo("1 2 3\n")
	require.ErrorContains(t, err, "separator")
}
