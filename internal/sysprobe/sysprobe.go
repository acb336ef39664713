package sysprobe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/panics"
)

// DefaultTimeout is how long one collector may run before the probe gives up
// on it.
const DefaultTimeout = 5 * time.Second

// Options configure a [Prober].
type Options struct {
	// Paths are the directories whose file systems are reported in
	// [Profile.Disks]; paths on the same mount are reported once. Empty
	// means the working directory. The worker adds the PostgreSQL data
	// directory when the database is local.
	Paths []string
	// Timeout bounds each collector. Zero means [DefaultTimeout].
	Timeout time.Duration
	// Root is the directory under which /proc, /sys and /etc are read.
	// Empty means "/". Disk paths are not moved under Root.
	Root string
	// Logger receives one warning per failed collector. Nil discards.
	Logger *slog.Logger
}

// Prober probes the machine. Create it with [New]; it is safe for
// concurrent use.
type Prober struct {
	paths   []string
	timeout time.Duration
	fs      hostFS
	logger  *slog.Logger
	clock   clock
}

// clock is the time source; tests replace it.
type clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// New returns a Prober with opts' defaults filled in.
func New(opts Options) *Prober {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Prober{
		paths:   slices.Clone(opts.Paths),
		timeout: cmp.Or(opts.Timeout, DefaultTimeout),
		fs:      hostFS{root: cmp.Or(opts.Root, "/")},
		logger:  logger,
		clock:   realClock{},
	}
}

// Probe collects a [Profile]. Collectors run concurrently, each bounded by
// [Options.Timeout]; one that fails adds to [Profile.Warnings] instead of
// failing the probe. Probe returns an error only when ctx ends first.
func (p *Prober) Probe(ctx context.Context) (Profile, error) {
	prof := Profile{
		CollectedAt: p.clock.Now().UTC().Truncate(time.Microsecond),
		OS:          runtime.GOOS,
	}
	gctx := p.fs.gopsutilContext(ctx)

	type hostPart struct{ hostname, platform, version, kernel string }
	var (
		hostRes           hostPart
		cpuRes            CPUInfo
		memRes            MemoryInfo
		diskRes           []DiskInfo
		netRes            []NetInterface
		cgRes             CgroupInfo
		hostW, cpuW, memW []string
		diskW, netW, cgW  []string
	)
	wg := conc.NewWaitGroup()
	wg.Go(func() {
		hostRes, hostW = collect(gctx, p.timeout, func(ctx context.Context) (hostPart, []string) {
			var h hostPart
			var warns []string
			var err error
			if h.hostname, err = os.Hostname(); err != nil {
				warns = append(warns, fmt.Sprintf("hostname: %v", err))
			}
			if h.platform, _, h.version, err = host.PlatformInformationWithContext(ctx); err != nil {
				warns = append(warns, fmt.Sprintf("platform: %v", err))
			}
			if h.kernel, err = host.KernelVersionWithContext(ctx); err != nil {
				warns = append(warns, fmt.Sprintf("kernel version: %v", err))
			}
			return h, warns
		})
	})
	wg.Go(func() { cpuRes, cpuW = collect(gctx, p.timeout, p.collectCPU) })
	wg.Go(func() { memRes, memW = collect(gctx, p.timeout, collectMemory) })
	wg.Go(func() { diskRes, diskW = collect(gctx, p.timeout, p.collectDisks) })
	wg.Go(func() { netRes, netW = collect(gctx, p.timeout, p.collectNetwork) })
	wg.Go(func() {
		cgRes, cgW = collect(gctx, p.timeout, func(context.Context) (CgroupInfo, []string) { return readCgroup(p.fs) })
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Profile{}, fmt.Errorf("probe system: %w", err)
	}

	prof.Hostname, prof.Platform, prof.PlatformVersion, prof.KernelVersion =
		hostRes.hostname, hostRes.platform, hostRes.version, hostRes.kernel
	prof.CPU, prof.Memory, prof.Cgroup = cpuRes, memRes, cgRes
	prof.Disks = nonNil(diskRes)
	prof.Network = nonNil(netRes)
	prof.Warnings = []string{}
	for _, part := range []struct {
		name  string
		warns []string
	}{{"host", hostW}, {"cpu", cpuW}, {"memory", memW}, {"disk", diskW}, {"network", netW}, {"cgroup", cgW}} {
		for _, w := range part.warns {
			p.logger.WarnContext(ctx, "sysprobe: collector incomplete", slog.String("collector", part.name), slog.String("warning", w))
			prof.Warnings = append(prof.Warnings, part.name+": "+w)
		}
	}
	prof.Effective = effective(prof.CPU, prof.Memory, prof.Cgroup, runtime.GOMAXPROCS(0))
	return prof, nil
}

// gopsutilContext points gopsutil at the same root as our own reads. With
// the real root, gopsutil keeps honouring HOST_PROC and friends.
func (h hostFS) gopsutilContext(ctx context.Context) context.Context {
	if h.root == "/" {
		return ctx
	}
	return context.WithValue(ctx, common.EnvKey, common.EnvMap{
		common.HostProcEnvKey: h.path("/proc"),
		common.HostSysEnvKey:  h.path("/sys"),
		common.HostEtcEnvKey:  h.path("/etc"),
	})
}

// collect runs fn under timeout. fn runs on its own goroutine so a read that
// blocks in the kernel (a hung NFS mount, say) cannot hold up the probe; on
// timeout that goroutine is abandoned and its result, sent to a buffered
// channel, is dropped. A panic in fn becomes a warning.
func collect[T any](ctx context.Context, timeout time.Duration, fn func(context.Context) (T, []string)) (T, []string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v     T
		warns []string
	}
	done := make(chan result, 1)
	go func() {
		var r result
		if rec := panics.Try(func() { r.v, r.warns = fn(ctx) }); rec != nil {
			var zero T
			r = result{v: zero, warns: []string{fmt.Sprintf("panic: %v", rec.Value)}}
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.v, r.warns
	case <-ctx.Done():
		var zero T
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, []string{fmt.Sprintf("timed out after %s", timeout)}
		}
		return zero, []string{ctx.Err().Error()}
	}
}

func (p *Prober) collectCPU(ctx context.Context) (CPUInfo, []string) {
	var c CPUInfo
	var warns []string
	var err error
	if c.LogicalCores, err = cpu.CountsWithContext(ctx, true); err != nil {
		warns = append(warns, fmt.Sprintf("logical cores: %v", err))
	}
	if c.PhysicalCores, err = cpu.CountsWithContext(ctx, false); err != nil {
		// Some virtual machines and ARM boards do not report cores per
		// package; that is not worth a warning when the logical count is known.
		if c.LogicalCores == 0 {
			warns = append(warns, fmt.Sprintf("physical cores: %v", err))
		}
	}
	if infos, err := cpu.InfoWithContext(ctx); err != nil {
		warns = append(warns, fmt.Sprintf("model: %v", err))
	} else if len(infos) > 0 {
		c.Model = strings.TrimSpace(infos[0].ModelName)
	}
	if avg, err := load.AvgWithContext(ctx); err != nil {
		warns = append(warns, fmt.Sprintf("load average: %v", err))
	} else {
		c.Load1, c.Load5, c.Load15 = finite(avg.Load1), finite(avg.Load5), finite(avg.Load15)
	}
	if status, err := p.fs.read("/proc/self/status"); err == nil {
		for _, line := range strings.Split(status, "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				if n, err := parseCPUList(v); err != nil {
					warns = append(warns, fmt.Sprintf("allowed CPUs: %v", err))
				} else {
					c.AllowedCPUs = n
				}
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		warns = append(warns, fmt.Sprintf("allowed CPUs: %v", err))
	}
	return c, warns
}

func collectMemory(ctx context.Context) (MemoryInfo, []string) {
	v, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return MemoryInfo{}, []string{err.Error()}
	}
	m := MemoryInfo{
		TotalBytes:     v.Total,
		AvailableBytes: v.Available,
		FreeBytes:      v.Free,
		SwapTotalBytes: v.SwapTotal,
	}
	if v.SwapTotal >= v.SwapFree {
		m.SwapUsedBytes = v.SwapTotal - v.SwapFree
	}
	if v.Total > 0 && v.Available <= v.Total {
		m.UsedPercent = finite(float64(v.Total-v.Available) / float64(v.Total) * 100)
	}
	return m, nil
}

func (p *Prober) collectDisks(ctx context.Context) ([]DiskInfo, []string) {
	var warns []string
	paths := p.paths
	if len(paths) == 0 {
		wd, err := os.Getwd()
		if err != nil {
			return nil, []string{fmt.Sprintf("working directory: %v", err)}
		}
		paths = []string{wd}
	}
	var mounts []mount
	if mi, err := p.fs.read("/proc/self/mountinfo"); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			warns = append(warns, fmt.Sprintf("read mountinfo: %v", err))
		}
	} else if mounts, err = parseMountInfo(mi); err != nil {
		warns = append(warns, err.Error())
	}

	var disks []DiskInfo
	index := map[string]int{} // mount point (or path when unknown) → disks index
	for _, raw := range paths {
		abs, err := filepath.Abs(raw)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			warns = append(warns, fmt.Sprintf("%s: %v", raw, err))
			continue
		}
		key := abs
		var d DiskInfo
		if m, ok := mountFor(mounts, filepath.ToSlash(abs)); ok {
			key = m.mountPoint
			d.MountPoint, d.Device, d.FSType = m.mountPoint, m.source, m.fsType
		}
		if i, seen := index[key]; seen {
			disks[i].Paths = append(disks[i].Paths, raw)
			continue
		}
		u, err := disk.UsageWithContext(ctx, abs)
		if err != nil {
			warns = append(warns, fmt.Sprintf("%s: %v", raw, err))
			continue
		}
		d.Paths = []string{raw}
		d.TotalBytes, d.FreeBytes, d.UsedBytes = u.Total, u.Free, u.Used
		if u.Used+u.Free > 0 {
			d.UsedPercent = finite(float64(u.Used) / float64(u.Used+u.Free) * 100)
		}
		d.InodesTotal, d.InodesUsed = u.InodesTotal, u.InodesUsed
		if d.FSType == "" {
			d.FSType = u.Fstype
		}
		index[key] = len(disks)
		disks = append(disks, d)
	}
	return disks, warns
}

func (p *Prober) collectNetwork(ctx context.Context) ([]NetInterface, []string) {
	ifaces, err := net.InterfacesWithContext(ctx)
	if err != nil {
		return nil, []string{err.Error()}
	}
	out := make([]NetInterface, 0, len(ifaces))
	for _, ifc := range ifaces {
		n := NetInterface{
			Name:         ifc.Name,
			MTU:          ifc.MTU,
			HardwareAddr: ifc.HardwareAddr,
			Addresses:    []string{},
		}
		for _, f := range ifc.Flags {
			switch f {
			case "up":
				n.Up = true
			case "loopback":
				n.Loopback = true
			}
		}
		for _, a := range ifc.Addrs {
			n.Addresses = append(n.Addresses, a.Addr)
		}
		if safeName(ifc.Name) {
			n.SpeedMbps = p.linkSpeed(ifc.Name)
			if s, err := p.fs.read("/sys/class/net/" + ifc.Name + "/operstate"); err == nil {
				n.OperState = strings.TrimSpace(s)
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// linkSpeed reads /sys/class/net/NAME/speed. The file is missing on virtual
// interfaces, reads -1 (or fails with EINVAL) when the link is down; all of
// those mean unknown, reported as 0.
func (p *Prober) linkSpeed(name string) int {
	s, err := p.fs.read("/sys/class/net/" + name + "/speed")
	if err != nil {
		return 0
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v <= 0 {
		return 0
	}
	return v
}

// safeName reports whether an interface name can be used as a path element.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// finite maps NaN and ±Inf to 0 so the profile always encodes as JSON.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
