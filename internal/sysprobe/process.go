package sysprobe

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// ProcessUsage is what this process has used: the report's view of the
// worker that collected it.
type ProcessUsage struct {
	PID int `json:"pid"`
	// StartedAt is when the process started.
	StartedAt time.Time `json:"started_at"`
	// CPUSeconds is user plus system CPU time since the start.
	CPUSeconds float64 `json:"cpu_seconds"`
	// RSSBytes is the resident set size now.
	RSSBytes uint64 `json:"rss_bytes"`
	// Goroutines is runtime.NumGoroutine now.
	Goroutines int `json:"goroutines"`
}

// CPUPercent is the average CPU use since the start, in percent of one
// CPU, at now.
func (u ProcessUsage) CPUPercent(now time.Time) float64 {
	up := now.Sub(u.StartedAt).Seconds()
	if up <= 0 {
		return 0
	}
	return 100 * u.CPUSeconds / up
}

// Self reads this process's CPU time, resident memory and start time.
func Self(ctx context.Context) (ProcessUsage, error) {
	u := ProcessUsage{PID: os.Getpid(), Goroutines: runtime.NumGoroutine()}
	p, err := process.NewProcessWithContext(ctx, int32(u.PID))
	if err != nil {
		return u, fmt.Errorf("read process %d: %w", u.PID, err)
	}
	times, err := p.TimesWithContext(ctx)
	if err != nil {
		return u, fmt.Errorf("read CPU time of process %d: %w", u.PID, err)
	}
	u.CPUSeconds = times.User + times.System
	mem, err := p.MemoryInfoWithContext(ctx)
	if err != nil {
		return u, fmt.Errorf("read memory of process %d: %w", u.PID, err)
	}
	u.RSSBytes = mem.RSS
	ms, err := p.CreateTimeWithContext(ctx)
	if err != nil {
		return u, fmt.Errorf("read start time of process %d: %w", u.PID, err)
	}
	u.StartedAt = time.UnixMilli(ms).UTC()
	return u, nil
}
