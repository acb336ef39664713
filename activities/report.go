package activities

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/logging"
	"github.com/opendiscourse/congressflow/internal/report"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
)

// Reporter holds the report activity's dependencies. Register it on the
// worker with worker.RegisterActivity(&activities.Reporter{...}).
type Reporter struct {
	// Pool is the database reported on, and the worker's pool whose
	// statistics the report shows.
	Pool *pgxpool.Pool
	// Logger receives a line per report. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// ReportInput says what a report collects. The zero value is a report
// without a trend.
type ReportInput struct {
	// Since, when positive, adds the trend of the reports stored over the
	// period that ends now.
	Since time.Duration `json:"since,omitempty"`
	// Top is the number of statements listed. Default 10.
	Top int `json:"top,omitempty"`
	// LongRunning lists queries running longer. Default 1 minute.
	LongRunning time.Duration `json:"long_running,omitempty"`
}

// Report collects the report (see package report), adds this worker's
// view (its pool, CPU and memory), stores it in ops.reports (one row per
// workflow run: a retried attempt replaces it) and, when asked, adds the
// trend of the stored reports since in.Since ago, this one included.
func (r *Reporter) Report(ctx context.Context, in ReportInput) (report.Report, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rep, err := report.Collect(ctx, r.Pool, report.Options{Top: in.Top, LongRunning: in.LongRunning, Now: now})
	if err != nil {
		return rep, classifyDB(err)
	}
	rep.Worker = r.worker(ctx, now(), &rep)
	rep.Summarize()

	info := activity.GetInfo(ctx)
	raw, err := json.Marshal(rep)
	if err != nil {
		return rep, temporal.NewNonRetryableApplicationError("encode report", "EncodeError", err)
	}
	rep.ID, err = store.SaveReport(ctx, r.Pool, store.StoredReport{
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, CollectedAt: rep.CollectedAt,
		Summary: rep.Summary, ServerVersionNum: rep.Server.VersionNum, Database: rep.Server.Database,
		DatabaseBytes: rep.Sizes.DatabaseBytes, CongressBytes: rep.Sizes.SchemaBytes, Report: raw,
	})
	if err != nil {
		return rep, classifyDB(err)
	}
	if in.Since > 0 {
		since := rep.CollectedAt.Add(-in.Since)
		stored, err := store.ReportsSince(ctx, r.Pool, since)
		if err != nil {
			return rep, classifyDB(err)
		}
		tr, err := report.BuildTrend(since, stored)
		if err != nil {
			return rep, temporal.NewNonRetryableApplicationError(logging.OneLine(err), "StoredReportUnreadable", nil)
		}
		rep.Trend = &tr
	}
	logger.InfoContext(ctx, "report: collected", slog.Int64("report_id", rep.ID), slog.String("summary", rep.Summary))
	return rep, nil
}

// worker is this process's view: the pool's statistics, CPU and memory.
func (r *Reporter) worker(ctx context.Context, now time.Time, rep *report.Report) report.Worker {
	w := report.Worker{PID: os.Getpid()}
	w.Hostname, _ = os.Hostname()
	s := r.Pool.Stat()
	w.Pool = report.Pool{
		MaxConns: s.MaxConns(), TotalConns: s.TotalConns(), AcquiredConns: s.AcquiredConns(), IdleConns: s.IdleConns(),
		Acquires: s.AcquireCount(), Waited: s.EmptyAcquireCount(), Canceled: s.CanceledAcquireCount(),
		AcquireSeconds: math.Round(s.AcquireDuration().Seconds()*1000) / 1000,
	}
	if s.AcquireCount() > 0 {
		w.Pool.AvgAcquireMS = math.Round(1e5*s.AcquireDuration().Seconds()/float64(s.AcquireCount())) / 100
	}
	u, err := sysprobe.Self(ctx)
	if err != nil {
		rep.Notes = append(rep.Notes, "worker process: "+logging.OneLine(err))
		return w
	}
	w.UptimeSeconds = math.Round(now.Sub(u.StartedAt).Seconds())
	w.CPUSeconds = math.Round(u.CPUSeconds*100) / 100
	w.CPUPct = math.Round(u.CPUPercent(now)*10) / 10
	w.RSSBytes, w.Goroutines = u.RSSBytes, u.Goroutines
	return w
}
