package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/logging"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/store"
)

// fallback is what a restart that leaves the server down is undone with:
// the postgresql.auto.conf a tune run kept before its first change
// (ops.tuning_snapshots), read while the server was up.
type fallback struct {
	runID   string
	dataDir string
	before  string
	// after is the file as the run's apply left it; nil when the apply
	// did not finish.
	after *string
	// local is true when the data directory is on this host, so the
	// worker can write the file back; why says why not.
	local bool
	why   string
	// err says why there is no snapshot to fall back on (the fallback is
	// then nil).
	err error
}

// loadFallback reads the run's kept postgresql.auto.conf. It never fails
// the restart: without it a server left down is reported with the
// settings to take out by hand.
func (t *Tuning) loadFallback(ctx context.Context, runID string) *fallback {
	if runID == "" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	snap, err := store.GetTuningSnapshot(cctx, t.Pool, runID)
	if err != nil {
		t.logger().WarnContext(ctx, "tune: no postgresql.auto.conf to fall back on for this restart",
			slog.String("run_id", runID), slog.String("error", logging.OneLine(err)))
		return &fallback{runID: runID, err: err}
	}
	fb := &fallback{runID: runID, dataDir: snap.DataDirectory, before: snap.Before, after: snap.After}
	fb.local, fb.why = t.dataDirOnThisHost(snap.DataDirectory)
	return fb
}

// dataDirOnThisHost reports whether the worker reaches the server's data
// directory: the server is on this host (unix socket or loopback) and the
// directory holds a cluster here.
func (t *Tuning) dataDirOnThisHost(dir string) (bool, string) {
	if ok, why := localHost(t.Pool.Config().ConnConfig.Host); !ok {
		return false, why
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		return false, fmt.Sprintf("the data directory %s is not readable on this worker's host", dir)
	}
	return true, ""
}

// recoverServer handles a restart that failed (cause says how). A server
// that is up is left alone: the cause is the error, unless it did restart
// after all. A server that is down is brought back with its old settings
// where the worker can do it: the run's kept postgresql.auto.conf is
// written back and the restart command run again (bounded by wait); the
// run then fails saying what was restored. Where the file cannot be
// written from here, the error gives the lines to change and the command
// to run. The error is always a non-retryable ErrTypeRestartFailed: a
// retry would only restart again.
func (t *Tuning) recoverServer(ctx context.Context, in RestartInput, fb *fallback, wait time.Duration, cause string) (time.Time, error) {
	logger := activity.GetLogger(ctx)
	if now, err := t.startTime(ctx); err == nil {
		if !in.Before.IsZero() && now.After(in.Before) {
			t.Pool.Reset()
			return now, nil
		}
		return time.Time{}, restartFailed("%s", cause)
	}
	command := strings.TrimSpace(t.RestartCommand)
	then := "then start PostgreSQL"
	if command != "" {
		then = "then run " + command
	}
	switch {
	case in.RunID == "":
		return time.Time{}, restartFailed("%s; PostgreSQL is down: read its log and fix what stops it, %s", cause, then)
	case fb == nil || fb.err != nil:
		why := "the server was already down when this attempt began"
		if fb != nil && errors.Is(fb.err, store.ErrNotFound) {
			why = "the run kept none"
		} else if fb != nil {
			why = logging.OneLine(fb.err)
		}
		return time.Time{}, restartFailed("%s; PostgreSQL is down and run %s's postgresql.auto.conf from before its changes could not be read (%s): on the database host, remove %s from postgresql.auto.conf in the data directory, %s",
			cause, in.RunID, why, linesOf(in.Settings), then)
	case !fb.local:
		return time.Time{}, restartFailed("%s; PostgreSQL is down and its data directory is not reachable from this worker (%s): on the database host, %s, %s",
			cause, fb.why, fb.instructions(in.Settings), then)
	}

	path := filepath.Join(fb.dataDir, pgtune.AutoConfName)
	if err := pgtune.RestoreAutoConf(fb.dataDir, fb.before); err != nil {
		return time.Time{}, restartFailed("%s; PostgreSQL is down and writing back %s failed (%s): %s, %s",
			cause, path, logging.OneLine(err), fb.instructions(in.Settings), then)
	}
	logger.Warn("tune: the server did not come back; restored postgresql.auto.conf as it was before the run",
		"run_id", fb.runID, "path", path, "cause", cause)
	restored := fmt.Sprintf("restored %s as it was before run %s (%s)", path, fb.runID, fb.changes(in.Settings))
	if command == "" {
		return time.Time{}, restartFailed("%s; PostgreSQL was down, so the worker %s: start PostgreSQL, which then runs its old settings", cause, restored)
	}
	deadline := time.Now().Add(wait)
	out, err := t.runRestartCommand(ctx, time.Until(deadline))
	var after time.Time
	if err == nil {
		after, err = t.waitForRestart(ctx, in.Before, max(time.Until(deadline), pollInterval))
	}
	if err != nil {
		if out != "" && !strings.Contains(failureText(err), out) {
			err = fmt.Errorf("%s: %s", failureText(err), out)
		}
		return time.Time{}, restartFailed("%s; PostgreSQL was down, so the worker %s and restarted it, but it did not come back either (%s): read its log, %s",
			cause, restored, failureText(err), then)
	}
	if err := store.MarkTuningSnapshotRestored(ctx, t.Pool, fb.runID); err != nil {
		logger.Warn("tune: could not mark the snapshot restored", "run_id", fb.runID, "error", logging.OneLine(err))
	}
	logger.Info("tune: server back with its old settings", "run_id", fb.runID, "started_at", after)
	return time.Time{}, restartFailed("%s; PostgreSQL did not come back, so the worker %s and restarted it (started %s): the server runs its old settings again",
		cause, restored, after.UTC().Format(time.RFC3339))
}

// changes names what going back to the kept file undoes: the run's lines
// and the lines it replaced, or the settings it changed when the apply did
// not finish.
func (fb *fallback) changes(settings []string) string {
	if fb.after == nil {
		return "it takes out " + linesOf(settings)
	}
	remove, putBack := pgtune.AutoConfChanges(fb.before, *fb.after)
	s := "taken out: " + quoteLines(remove)
	if len(putBack) > 0 {
		s += "; put back: " + quoteLines(putBack)
	}
	return s
}

// instructions says how to put the kept file's settings back by hand.
func (fb *fallback) instructions(settings []string) string {
	file := filepath.Join(fb.dataDir, pgtune.AutoConfName)
	if fb.after == nil {
		return fmt.Sprintf("remove %s from %s", linesOf(settings), file)
	}
	remove, putBack := pgtune.AutoConfChanges(fb.before, *fb.after)
	s := fmt.Sprintf("remove these lines from %s: %s", file, quoteLines(remove))
	if len(putBack) > 0 {
		s += "; add these lines back: " + quoteLines(putBack)
	}
	return s
}

func quoteLines(lines []string) string {
	if len(lines) == 0 {
		return "none"
	}
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = fmt.Sprintf("%q", l)
	}
	return strings.Join(q, ", ")
}

// linesOf names the lines of the settings a run changed.
func linesOf(settings []string) string {
	if len(settings) == 0 {
		return "the lines of the settings the run changed (ops.tuning_changes lists them)"
	}
	return "the lines setting " + strings.Join(settings, ", ")
}

// restartFailed is the restart step's non-retryable failure.
func restartFailed(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeRestartFailed, nil)
}

// failureText is an error's message on one line, without the
// ApplicationError's type suffix.
func failureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return strings.Join(strings.Fields(appErr.Message()), " ")
	}
	return logging.OneLine(err)
}
