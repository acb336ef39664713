package sysprobe

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	// cgroupV1UnlimitedFloor: cgroup v1 reports "no memory limit" as the
	// page counter's maximum rounded down to a page (9223372036854771712 with
	// 4 KiB pages, 9223372036854710272 with 64 KiB pages). Anything at or
	// above 2^62 bytes (4 EiB) is treated as that sentinel.
	cgroupV1UnlimitedFloor = uint64(1) << 62
	// defaultCFSPeriodMicros is the kernel's default CFS period, used when
	// cpu.max carries only a quota.
	defaultCFSPeriodMicros = 100000
	// defaultCgroupMount is where systemd and container runtimes mount the
	// cgroup file systems; used when mountinfo cannot be read.
	defaultCgroupMount = "/sys/fs/cgroup"
)

// hostFS reads files of the probed host under a root directory, so tests can
// point it at fixtures.
type hostFS struct{ root string }

// path maps a host path such as /proc/self/cgroup to the file to open.
func (h hostFS) path(hostPath string) string {
	return filepath.Join(h.root, filepath.FromSlash(hostPath))
}

func (h hostFS) read(hostPath string) (string, error) {
	b, err := os.ReadFile(h.path(hostPath))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (h hostFS) exists(hostPath string) bool {
	_, err := os.Stat(h.path(hostPath))
	return err == nil
}

// cgroupLine is one line of /proc/self/cgroup: "ID:controllers:path".
type cgroupLine struct {
	id          string
	controllers []string // empty for the v2 unified hierarchy
	path        string
}

func parseProcCgroup(data string) ([]cgroupLine, error) {
	var lines []cgroupLine
	for i, line := range strings.Split(data, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("/proc/self/cgroup line %d %q: want ID:controllers:path", i+1, line)
		}
		l := cgroupLine{id: parts[0], path: parts[2]}
		if parts[1] != "" {
			l.controllers = strings.Split(parts[1], ",")
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// cgroupLayout is where this process's cgroup directories are, as host
// paths.
type cgroupLayout struct {
	v2Dir, v2Mount string            // unified hierarchy; empty when absent
	v1Dirs         map[string]string // controller → this process's directory
	v1Mounts       map[string]string // controller → the hierarchy's mount point
	v2Path, v1Path string            // paths from /proc/self/cgroup
}

// resolveCgroupLayout finds this process's cgroup directories from
// /proc/self/cgroup and /proc/self/mountinfo. The second result says whether
// /proc/self/cgroup exists at all.
func resolveCgroupLayout(h hostFS) (cgroupLayout, bool, []string) {
	var warns []string
	lay := cgroupLayout{v1Dirs: map[string]string{}, v1Mounts: map[string]string{}}
	data, err := h.read("/proc/self/cgroup")
	if errors.Is(err, fs.ErrNotExist) {
		return lay, false, nil
	}
	if err != nil {
		return lay, false, []string{fmt.Sprintf("read /proc/self/cgroup: %v", err)}
	}
	lines, err := parseProcCgroup(data)
	if err != nil {
		return lay, false, []string{err.Error()}
	}
	var mounts []mount
	if mi, err := h.read("/proc/self/mountinfo"); err != nil {
		warns = append(warns, fmt.Sprintf("read /proc/self/mountinfo: %v; assuming cgroups under %s", err, defaultCgroupMount))
	} else if mounts, err = parseMountInfo(mi); err != nil {
		warns = append(warns, fmt.Sprintf("%v; assuming cgroups under %s", err, defaultCgroupMount))
		mounts = nil
	}

	for _, l := range lines {
		if l.id == "0" && len(l.controllers) == 0 {
			lay.v2Path = l.path
			mountPoint, mountRoot := "", "/"
			if mounts != nil {
				for _, m := range mounts {
					if m.fsType == "cgroup2" {
						mountPoint, mountRoot = m.mountPoint, m.root
						break
					}
				}
			} else {
				for _, dir := range []string{defaultCgroupMount, defaultCgroupMount + "/unified"} {
					if h.exists(dir + "/cgroup.controllers") {
						mountPoint = dir
						break
					}
				}
			}
			if mountPoint != "" {
				lay.v2Mount = mountPoint
				lay.v2Dir = cgroupDir(mountPoint, mountRoot, l.path)
			}
			continue
		}
		for _, c := range l.controllers {
			if c != "cpu" && c != "cpuacct" && c != "memory" {
				continue
			}
			if c == "cpu" {
				lay.v1Path = l.path
			}
			mountPoint, mountRoot := "", "/"
			if mounts != nil {
				for _, m := range mounts {
					if m.fsType == "cgroup" && slices.Contains(m.superOpts, c) {
						mountPoint, mountRoot = m.mountPoint, m.root
						break
					}
				}
			} else {
				for _, dir := range []string{defaultCgroupMount + "/" + strings.Join(l.controllers, ","), defaultCgroupMount + "/" + c} {
					if h.exists(dir) {
						mountPoint = dir
						break
					}
				}
			}
			if mountPoint != "" {
				lay.v1Mounts[c] = mountPoint
				lay.v1Dirs[c] = cgroupDir(mountPoint, mountRoot, l.path)
			}
		}
	}
	return lay, true, warns
}

// cgroupDir is the directory of cgroup path p in a hierarchy whose
// mountRoot is mounted at mountPoint. Without a cgroup namespace a container
// sees its own cgroup mounted at the mount point while /proc/self/cgroup
// still names the full path; a path outside the mount root (or escaping it
// with "..") also means the mount point itself is our cgroup.
func cgroupDir(mountPoint, mountRoot, p string) string {
	p = path.Clean("/" + p)
	mountRoot = path.Clean("/" + mountRoot)
	if !pathWithin(p, mountRoot) || strings.Contains(p, "/../") {
		return mountPoint
	}
	rel := strings.TrimPrefix(p, mountRoot)
	return path.Join(mountPoint, rel)
}

// ancestors lists dir and its parents up to and including top.
func ancestors(dir, top string) []string {
	out := []string{dir}
	for dir != top && pathWithin(dir, top) {
		dir = path.Dir(dir)
		out = append(out, dir)
	}
	return out
}

// readCgroup resolves the process's cgroup and the tightest CPU and memory
// limits of it and its ancestors.
func readCgroup(h hostFS) (CgroupInfo, []string) {
	lay, ok, warns := resolveCgroupLayout(h)
	if !ok {
		return CgroupInfo{}, warns
	}
	var info CgroupInfo
	switch {
	case lay.v2Mount != "" && len(lay.v1Mounts) > 0:
		info.Version = "hybrid"
	case lay.v2Mount != "":
		info.Version = "v2"
	case len(lay.v1Mounts) > 0:
		info.Version = "v1"
	}
	info.Path = lay.v2Path
	if info.Version == "v1" || info.Version == "hybrid" {
		info.Path = lay.v1Path
	}

	// CPU: a v1 cpu controller takes precedence; in hybrid mode the unified
	// hierarchy carries no cpu controller.
	if dir, ok := lay.v1Dirs["cpu"]; ok {
		for _, d := range ancestors(dir, lay.v1Mounts["cpu"]) {
			q, err := readV1CPUQuota(h, d)
			if err != nil {
				warns = append(warns, err.Error())
				continue
			}
			if q > 0 && (info.CPUQuota == 0 || q < info.CPUQuota) {
				info.CPUQuota, info.CPULimitFile = q, d+"/cpu.cfs_quota_us"
			}
		}
		if info.CPUQuota > 0 {
			if acct, ok := lay.v1Dirs["cpuacct"]; ok && h.exists(acct+"/cpuacct.usage") {
				info.CPUUsageFile = acct + "/cpuacct.usage"
			}
		}
	} else if lay.v2Dir != "" {
		for _, d := range ancestors(lay.v2Dir, lay.v2Mount) {
			q, err := readV2CPUMax(h, d)
			if err != nil {
				warns = append(warns, err.Error())
				continue
			}
			if q > 0 && (info.CPUQuota == 0 || q < info.CPUQuota) {
				info.CPUQuota, info.CPULimitFile = q, d+"/cpu.max"
			}
		}
		if info.CPUQuota > 0 {
			if f := path.Dir(info.CPULimitFile) + "/cpu.stat"; h.exists(f) {
				info.CPUUsageFile = f
			}
		}
	}

	if dir, ok := lay.v1Dirs["memory"]; ok {
		for _, d := range ancestors(dir, lay.v1Mounts["memory"]) {
			limit, err := readV1MemoryLimit(h, d)
			if err != nil {
				warns = append(warns, err.Error())
				continue
			}
			if limit > 0 && (info.MemoryLimitBytes == 0 || limit < info.MemoryLimitBytes) {
				info.MemoryLimitBytes, info.MemoryLimitFile = limit, d+"/memory.limit_in_bytes"
			}
		}
		if info.MemoryLimitBytes > 0 {
			if f := path.Dir(info.MemoryLimitFile) + "/memory.usage_in_bytes"; h.exists(f) {
				info.MemoryUsageFile = f
			}
		}
	} else if lay.v2Dir != "" {
		for _, d := range ancestors(lay.v2Dir, lay.v2Mount) {
			limit, err := readV2MemoryMax(h, d)
			if err != nil {
				warns = append(warns, err.Error())
				continue
			}
			if limit > 0 && (info.MemoryLimitBytes == 0 || limit < info.MemoryLimitBytes) {
				info.MemoryLimitBytes, info.MemoryLimitFile = limit, d+"/memory.max"
			}
		}
		if info.MemoryLimitBytes > 0 {
			if f := path.Dir(info.MemoryLimitFile) + "/memory.current"; h.exists(f) {
				info.MemoryUsageFile = f
			}
		}
	}
	return info, warns
}

// readV2CPUMax reads dir/cpu.max ("max 100000" or "200000 100000") and
// returns the limit in CPUs, 0 for none or a missing file.
func readV2CPUMax(h hostFS, dir string) (float64, error) {
	data, err := h.read(dir + "/cpu.max")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s/cpu.max: %w", dir, err)
	}
	q, err := parseCPUMax(data)
	if err != nil {
		return 0, fmt.Errorf("%s/cpu.max: %w", dir, err)
	}
	return q, nil
}

// parseCPUMax parses cgroup v2 cpu.max: "$QUOTA $PERIOD" in microseconds,
// QUOTA "max" for no limit, PERIOD optional.
func parseCPUMax(data string) (float64, error) {
	f := strings.Fields(data)
	if len(f) == 0 || len(f) > 2 {
		return 0, fmt.Errorf("parse %q: want \"QUOTA PERIOD\"", strings.TrimSpace(data))
	}
	if f[0] == "max" {
		return 0, nil
	}
	quota, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || quota <= 0 {
		return 0, fmt.Errorf("parse quota %q: want a positive integer or max", f[0])
	}
	period := int64(defaultCFSPeriodMicros)
	if len(f) == 2 {
		period, err = strconv.ParseInt(f[1], 10, 64)
		if err != nil || period <= 0 {
			return 0, fmt.Errorf("parse period %q: want a positive integer", f[1])
		}
	}
	return float64(quota) / float64(period), nil
}

// readV1CPUQuota reads cpu.cfs_quota_us and cpu.cfs_period_us in dir and
// returns the limit in CPUs, 0 for none (quota -1) or missing files.
func readV1CPUQuota(h hostFS, dir string) (float64, error) {
	qs, err := h.read(dir + "/cpu.cfs_quota_us")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s/cpu.cfs_quota_us: %w", dir, err)
	}
	quota, err := strconv.ParseInt(strings.TrimSpace(qs), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s/cpu.cfs_quota_us %q: want an integer", dir, strings.TrimSpace(qs))
	}
	if quota <= 0 {
		return 0, nil // -1: no limit
	}
	ps, err := h.read(dir + "/cpu.cfs_period_us")
	if err != nil {
		return 0, fmt.Errorf("read %s/cpu.cfs_period_us: %w", dir, err)
	}
	period, err := strconv.ParseInt(strings.TrimSpace(ps), 10, 64)
	if err != nil || period <= 0 {
		return 0, fmt.Errorf("parse %s/cpu.cfs_period_us %q: want a positive integer", dir, strings.TrimSpace(ps))
	}
	return float64(quota) / float64(period), nil
}

// readV2MemoryMax reads dir/memory.max ("max" or bytes); 0 means no limit.
func readV2MemoryMax(h hostFS, dir string) (uint64, error) {
	data, err := h.read(dir + "/memory.max")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s/memory.max: %w", dir, err)
	}
	s := strings.TrimSpace(data)
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s/memory.max %q: want bytes or max", dir, s)
	}
	return v, nil
}

// readV1MemoryLimit reads dir/memory.limit_in_bytes; 0 means no limit.
func readV1MemoryLimit(h hostFS, dir string) (uint64, error) {
	data, err := h.read(dir + "/memory.limit_in_bytes")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s/memory.limit_in_bytes: %w", dir, err)
	}
	s := strings.TrimSpace(data)
	if s == "-1" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s/memory.limit_in_bytes %q: want bytes", dir, s)
	}
	if v >= cgroupV1UnlimitedFloor {
		return 0, nil
	}
	return v, nil
}

// parseCPUList counts the CPUs in a list such as "0-3,8,10-11".
func parseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty CPU list")
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0, fmt.Errorf("parse CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("parse CPU list %q", s)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// effective combines host figures, affinity and cgroup limits.
func effective(c CPUInfo, m MemoryInfo, cg CgroupInfo, gomaxprocs int) Effective {
	e := Effective{CPUSource: SourceUnknown, MemorySource: SourceUnknown, GOMAXPROCS: gomaxprocs}
	pickCPU := func(v float64, src string) {
		if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) && (e.CPUs == 0 || v < e.CPUs) {
			e.CPUs, e.CPUSource = v, src
		}
	}
	pickCPU(float64(c.LogicalCores), SourceHost)
	pickCPU(float64(c.AllowedCPUs), SourceCPUSet)
	cgCPUSource := SourceCgroupV2CPU
	if path.Base(cg.CPULimitFile) == "cpu.cfs_quota_us" {
		cgCPUSource = SourceCgroupV1CPU
	}
	pickCPU(cg.CPUQuota, cgCPUSource)

	pickMem := func(v uint64, src string) {
		if v > 0 && (e.MemoryBytes == 0 || v < e.MemoryBytes) {
			e.MemoryBytes, e.MemorySource = v, src
		}
	}
	pickMem(m.TotalBytes, SourceHost)
	cgMemSource := SourceCgroupV2Memory
	if path.Base(cg.MemoryLimitFile) == "memory.limit_in_bytes" {
		cgMemSource = SourceCgroupV1Memory
	}
	pickMem(cg.MemoryLimitBytes, cgMemSource)
	return e
}
