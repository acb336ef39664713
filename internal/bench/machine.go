package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a benchmark ran.
type Machine struct {
	CPU      string
	Cores    int
	MemoryGB float64
	Go       string
	Postgres string
	Temporal string
}

// Probe reads the machine: the CPU model and memory from /proc, the Go
// version of this binary, `postgres --version` from `pg_config --bindir`
// and `<temporalCLI> --version`.
func Probe(temporalCLI string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), CPU: "unknown", Postgres: "unknown", Temporal: "unknown"}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64); err == nil {
			m.MemoryGB = kb / (1 << 20)
		}
	}
	if dir, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if out, err := exec.Command(filepath.Join(strings.TrimSpace(string(dir)), "postgres"), "--version").Output(); err == nil {
			m.Postgres = strings.TrimSpace(string(out))
		}
	}
	if temporalCLI != "" {
		if out, err := exec.Command(temporalCLI, "--version").Output(); err == nil {
			m.Temporal = strings.TrimSpace(string(out))
		}
	}
	return m
}

func (m Machine) String() string {
	return fmt.Sprintf("%s, %d cores, %.1f GiB; %s; %s; %s", m.CPU, m.Cores, m.MemoryGB, m.Go, m.Postgres, m.Temporal)
}

// procField returns the value of the first "name: value" line of a /proc
// file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// PeakRSS returns a process's peak resident set size in bytes (VmHWM).
func PeakRSS(pid int) (int64, error) {
	v := procField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM")
	if v == "" {
		return 0, fmt.Errorf("no VmHWM for pid %d", pid)
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("VmHWM %q: %w", v, err)
	}
	return kb << 10, nil
}
