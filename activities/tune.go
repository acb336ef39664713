package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/store"
	"github.com/opendiscourse/congressflow/internal/sysprobe"
)

// Error types of the tune stage's non-retryable application errors (with
// ErrTypeInvalidInput and ErrTypePermission).
const (
	// ErrTypeAlterSystemDisabled: allow_alter_system is off (PG 17+);
	// nothing was changed.
	ErrTypeAlterSystemDisabled = "AlterSystemDisabled"
	// ErrTypeRestartFailed: the restart command failed, or the server did
	// not come back, or it was not restarted when told it was.
	ErrTypeRestartFailed = "RestartFailed"
	// ErrTypeVerifyFailed: a setting that should be live after the apply
	// (and restart) is not.
	ErrTypeVerifyFailed = "VerifyFailed"
	// ErrTypeNotFound: a revert named a run that never applied anything
	// on this server.
	ErrTypeNotFound = "NotFound"
)

// Default waits of the restart activities.
const (
	// DefaultRestartWait bounds how long RestartPostgres waits for the
	// server to accept connections again after the command.
	DefaultRestartWait = 5 * time.Minute
	// DefaultConfirmWait bounds how long ConfirmRestart waits for a
	// signalled restart to show in pg_postmaster_start_time().
	DefaultConfirmWait = 2 * time.Minute
	// verifyWait bounds how long VerifyTuning waits for mismatches to
	// clear (a reload still reaching a backend) before it fails.
	verifyWait = 10 * time.Second
	// pollInterval is the pause between checks while waiting.
	pollInterval = 500 * time.Millisecond
)

// PreloadResolver names the shared libraries the chosen extensions need in
// shared_preload_libraries. The extension catalog implements it.
type PreloadResolver interface {
	PreloadLibraries(profile string, names []string) ([]string, error)
}

// Tuning holds the tune stage's dependencies. Register it on the worker
// with worker.RegisterActivity(&activities.Tuning{...}).
type Tuning struct {
	// Pool connects to the database server to tune; ops.tuning_changes is
	// in its database. Tuning opens its own session from the pool's
	// settings (see pgtune.Connect).
	Pool *pgxpool.Pool
	// Prober probes the worker host; it is used when the database server
	// runs there. Nil: never probe.
	Prober Prober
	// Preload resolves extension choices to preload libraries. Nil: only
	// pg_stat_statements is preloaded, and choosing extensions is an
	// input error.
	Preload PreloadResolver
	// RestartCommand restarts the database server from the worker host,
	// such as "pg_ctlcluster 15 main restart". It is a shell command line,
	// run with `sh -c`, so quoted arguments work as written. Empty: the
	// "command" restart policy is refused.
	RestartCommand string
	// DBHostMemory and DBHostCPUs describe the database host when it is not
	// this worker's host (PG_HOST_MEMORY, PG_HOST_CPUS), so a remote server
	// can be tuned from an empty input. The input's memory and cpus win;
	// for a local server the probe wins. Empty: unknown.
	DBHostMemory string
	DBHostCPUs   int
	// Logger receives one line per changed setting. Nil discards.
	Logger *slog.Logger
}

// ApplyTuningInput is a plan to apply and the run to record it under.
type ApplyTuningInput struct {
	Plan       pgtune.Plan `json:"plan"`
	WorkflowID string      `json:"workflow_id"`
	RunID      string      `json:"run_id"`
}

// RestartInput tells the restart activities what to confirm.
type RestartInput struct {
	// Before is pg_postmaster_start_time() before the restart; the server
	// counts as restarted once its start time is later.
	Before time.Time `json:"before"`
	// Wait bounds the wait for the server. Zero: DefaultRestartWait for
	// RestartPostgres, DefaultConfirmWait for ConfirmRestart. Should the
	// server not come back, the restore and the restart after it get a
	// bound of their own, as long (DefaultRestartWait for ConfirmRestart).
	Wait time.Duration `json:"wait,omitempty"`
	// RunID is the tune run whose changes the restart makes live (or takes
	// back). If the server does not come back, the postgresql.auto.conf
	// the run kept before its first change is written back and the server
	// restarted again. Empty: nothing to restore.
	RunID string `json:"run_id,omitempty"`
	// Settings are the settings the run changed, named in the
	// instructions when the kept file cannot be read.
	Settings []string `json:"settings,omitempty"`
}

// RestartResult says how the server was restarted.
type RestartResult struct {
	// Restarted is true once pg_postmaster_start_time() moved.
	Restarted bool `json:"restarted"`
	// Command is the command run ("" when an operator restarted it).
	Command string `json:"command,omitempty"`
	// Output is the tail of the command's output.
	Output string `json:"output,omitempty"`
	// StartedBefore and StartedAfter are pg_postmaster_start_time()
	// before and after.
	StartedBefore time.Time `json:"started_before"`
	StartedAfter  time.Time `json:"started_after"`
}

// VerifyTuningInput is the applied plan and whether the server was
// restarted since.
type VerifyTuningInput struct {
	Plan      pgtune.Plan `json:"plan"`
	Restarted bool        `json:"restarted"`
}

// RevertTuningInput names the run to revert.
type RevertTuningInput struct {
	RunID string `json:"run_id"`
	// MissingOK makes a run that applied nothing an empty report rather
	// than a NotFound error: the tune workflow's compensation reverts a
	// run whose apply may have failed before its first change.
	MissingOK bool `json:"missing_ok,omitempty"`
}

// PlanTuning validates the request, finds the database host's hardware
// (the probe when the server is local, else the request's memory and
// cpus), computes the recommendation and compares it with the server's
// settings. It changes nothing.
func (t *Tuning) PlanTuning(ctx context.Context, req pgtune.Request) (pgtune.Plan, error) {
	if err := req.Validate(); err != nil {
		return pgtune.Plan{}, invalidInput(err)
	}
	activity.RecordHeartbeat(ctx)
	conn, err := pgtune.Connect(ctx, t.Pool)
	if err != nil {
		return pgtune.Plan{}, classifyTune(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	db := beating(ctx, conn)

	version := req.PGVersion
	if version == 0 {
		num, err := pgtune.ServerVersionNum(ctx, db)
		if err != nil {
			return pgtune.Plan{}, classifyTune(err)
		}
		version = num / 10000
		if version < pgtune.MinVersion || version > pgtune.MaxVersion {
			return pgtune.Plan{}, invalidInput(fmt.Errorf("pg_version: the server runs PostgreSQL %d; the recommender knows %d to %d (set pg_version to plan for one of them)",
				version, pgtune.MinVersion, pgtune.MaxVersion))
		}
	}
	hw, err := t.hardware(ctx, db, conn.Config().Host, req)
	if err != nil {
		return pgtune.Plan{}, err
	}
	preload, err := t.preloadLibraries(req)
	if err != nil {
		return pgtune.Plan{}, err
	}
	rec, err := pgtune.Recommend(req.Input(hw.MemoryBytes, hw.CPUs, version, preload))
	if err != nil {
		return pgtune.Plan{}, invalidInput(err)
	}
	if rec, err = pgtune.ApplyOverrides(rec, req.Overrides); err != nil {
		return pgtune.Plan{}, invalidInput(err)
	}
	plan, err := pgtune.PlanFor(ctx, db, rec, hw)
	if err != nil {
		return pgtune.Plan{}, classifyTune(err)
	}
	plan.Server = store.Describe(conn.Config())
	activity.GetLogger(ctx).Info("tune: plan ready", "server", plan.Server, "hardware_source", hw.Source,
		"memory", hw.Memory, "cpus", hw.CPUs, "pg_version", version, "changes", plan.Changes, "restart_changes", plan.RestartChanges)
	return plan, nil
}

// ApplyTuning applies a plan with ALTER SYSTEM, recording each change under
// the run, and reloads. A retried attempt keeps the first recorded old
// values. It refuses to start when ALTER SYSTEM is disabled or not
// permitted.
func (t *Tuning) ApplyTuning(ctx context.Context, in ApplyTuningInput) (pgtune.ApplyReport, error) {
	if in.Plan.Blocked != "" {
		typ := ErrTypePermission
		if strings.Contains(in.Plan.Blocked, "allow_alter_system") {
			typ = ErrTypeAlterSystemDisabled
		}
		return pgtune.ApplyReport{}, temporal.NewNonRetryableApplicationError(in.Plan.Blocked, typ, nil)
	}
	if in.RunID == "" {
		return pgtune.ApplyReport{}, invalidInput(errors.New("run_id: empty; changes must be recorded under a run to be revertible"))
	}
	activity.RecordHeartbeat(ctx)
	conn, err := pgtune.Connect(ctx, t.Pool)
	if err != nil {
		return pgtune.ApplyReport{}, classifyTune(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rep, err := pgtune.Apply(ctx, beating(ctx, conn), in.Plan, pgtune.ApplyOptions{
		WorkflowID: in.WorkflowID, RunID: in.RunID, Logger: t.logger().With(slog.String("run_id", in.RunID)),
	})
	if err != nil {
		return rep, classifyTune(err)
	}
	activity.GetLogger(ctx).Info("tune: applied", "message", rep.Message, "pending_restart", strings.Join(rep.PendingRestart, ","))
	return rep, nil
}

// RestartPostgres runs the worker's restart command (sh -c), waits for
// the server to accept connections and confirms that
// pg_postmaster_start_time() moved past in.Before. If it already has (a
// retried attempt after the restart), the command is not run again.
//
// If the command fails or the server does not come back within in.Wait
// and it is down, the run's kept postgresql.auto.conf is written back
// (the data directory on this host) and the command run again; the
// activity then fails and says what it restored. When the file cannot be
// written from here, the error gives the lines to remove and the command
// to run (see recoverServer).
func (t *Tuning) RestartPostgres(ctx context.Context, in RestartInput) (RestartResult, error) {
	res := RestartResult{StartedBefore: in.Before, Command: t.RestartCommand}
	if strings.TrimSpace(t.RestartCommand) == "" {
		return res, temporal.NewNonRetryableApplicationError(
			"restart_policy command: the worker has no restart command configured (configure one, or use the signal or never policy)",
			ErrTypeRestartFailed, nil)
	}
	if now, err := t.startTime(ctx); err == nil && !in.Before.IsZero() && now.After(in.Before) {
		res.Restarted, res.StartedAfter = true, now
		return res, nil
	}
	// Read while the server is up: what a failed restart is undone with.
	fb := t.loadFallback(ctx, in.RunID)
	// One bound for the command and the wait after it, so the step fits
	// the activity's StartToClose (twice the wait, for a restore, plus a
	// margin).
	wait := cmp.Or(in.Wait, DefaultRestartWait)
	deadline := time.Now().Add(wait)
	out, err := t.runRestartCommand(ctx, time.Until(deadline))
	res.Output = out
	var after time.Time
	if err == nil {
		activity.GetLogger(ctx).Info("tune: restart command finished", "command", res.Command)
		after, err = t.waitForRestart(ctx, in.Before, max(time.Until(deadline), pollInterval))
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, err
		}
		after, err = t.recoverServer(ctx, in, fb, wait, failureText(err))
		if err != nil {
			return res, err
		}
	}
	res.Restarted, res.StartedAfter = true, after
	return res, nil
}

// restartHeartbeat is how often RestartPostgres heartbeats while the restart
// command runs: well inside the workflow's 30 s heartbeat timeout, so a
// slow shutdown checkpoint is not mistaken for a dead worker (which would
// start a second restart while the first one runs).
const restartHeartbeat = 5 * time.Second

// runRestartCommand runs the restart command to its end, heartbeating
// meanwhile. Cancelling the activity does not kill it: a pg_ctl killed
// half-way can leave the server down. The command gets its own bound
// instead.
func (t *Tuning) runRestartCommand(ctx context.Context, bound time.Duration) (string, error) {
	cmdCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := pgtune.RunCommand(cmdCtx, t.RestartCommand)
		done <- result{out, err}
	}()
	tick := time.NewTicker(restartHeartbeat)
	defer tick.Stop()
	beat, ended := tick.C, ctx.Done()
	for {
		select {
		case r := <-done:
			return r.out, r.err
		case <-beat:
			activity.RecordHeartbeat(ctx, "restart command running")
		case <-ended:
			// The attempt is over (cancelled or timed out), but the command
			// still runs to its end under its own bound; stop heartbeating.
			beat, ended = nil, nil
		}
	}
}

// ConfirmRestart waits (up to in.Wait) for the server to accept
// connections with a pg_postmaster_start_time() later than in.Before: an
// operator said they restarted it.
//
// If the server is down at the end of the wait, the run's kept
// postgresql.auto.conf is written back and the server restarted with the
// worker's restart command, as RestartPostgres does.
func (t *Tuning) ConfirmRestart(ctx context.Context, in RestartInput) (RestartResult, error) {
	res := RestartResult{StartedBefore: in.Before}
	// An operator may signal while the server is still up, or already
	// down: the kept file is read if it can be.
	fb := t.loadFallback(ctx, in.RunID)
	after, err := t.waitForRestart(ctx, in.Before, cmp.Or(in.Wait, DefaultConfirmWait))
	if err != nil {
		if ctx.Err() != nil {
			return res, err
		}
		if after, err = t.recoverServer(ctx, in, fb, DefaultRestartWait, failureText(err)); err != nil {
			return res, err
		}
	}
	res.Restarted, res.StartedAfter = true, after
	return res, nil
}

// VerifyTuning re-reads pg_settings and fails (non-retryably, with the
// report as details) when a setting that should be live is not. Before a
// restart, settings that need one may wait for it.
func (t *Tuning) VerifyTuning(ctx context.Context, in VerifyTuningInput) (pgtune.VerifyReport, error) {
	deadline := time.Now().Add(verifyWait)
	for {
		vr, err := t.verifyOnce(ctx, in)
		if err != nil {
			return vr, classifyTune(err)
		}
		if len(vr.Mismatches) == 0 {
			return vr, nil
		}
		if time.Now().After(deadline) {
			msgs := make([]string, len(vr.Mismatches))
			for i, m := range vr.Mismatches {
				msgs[i] = fmt.Sprintf("%s: want %s, running %s (%s)", m.Name, m.Want, m.Got, m.Why)
			}
			return vr, temporal.NewNonRetryableApplicationError("settings not live: "+strings.Join(msgs, "; "), ErrTypeVerifyFailed, nil, vr)
		}
		activity.RecordHeartbeat(ctx, len(vr.Mismatches))
		if err := sleep(ctx, pollInterval); err != nil {
			return vr, err
		}
	}
}

func (t *Tuning) verifyOnce(ctx context.Context, in VerifyTuningInput) (pgtune.VerifyReport, error) {
	conn, err := pgtune.Connect(ctx, t.Pool)
	if err != nil {
		return pgtune.VerifyReport{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgtune.Verify(ctx, conn, in.Plan, in.Restarted)
}

// RevertTuning restores the values a run recorded, newest first, and
// reloads. Settings that need a restart to go back are listed in the
// report. Reverting twice is harmless. A run that never applied anything
// on this server fails with a non-retryable ErrTypeNotFound error, unless
// in.MissingOK.
func (t *Tuning) RevertTuning(ctx context.Context, in RevertTuningInput) (pgtune.RevertReport, error) {
	if in.RunID == "" {
		return pgtune.RevertReport{}, invalidInput(errors.New("run_id: empty; name the run to revert"))
	}
	conn, err := pgtune.Connect(ctx, t.Pool)
	if err != nil {
		return pgtune.RevertReport{}, classifyTune(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rep, err := pgtune.Revert(ctx, conn, in.RunID, pgtune.ApplyOptions{Logger: t.logger().With(slog.String("run_id", in.RunID))})
	if errors.Is(err, pgtune.ErrRunNotFound) && in.MissingOK {
		rep.Message = fmt.Sprintf("nothing to revert: run %s changed nothing", in.RunID)
		return rep, nil
	}
	if err != nil {
		return rep, classifyTune(err)
	}
	activity.GetLogger(ctx).Info("tune: reverted", "message", rep.Message)
	return rep, nil
}

// hardware decides the database host's memory and CPUs: the request's
// values first, the probe for what they leave open when the server is
// local, and an input error naming memory and cpus when neither is there.
// When the server is local the probe also bounds the request: memory or
// cpus beyond what it found are refused, naming both figures, unless the
// request says force.
func (t *Tuning) hardware(ctx context.Context, db store.DBTX, host string, req pgtune.Request) (pgtune.Hardware, error) {
	var hw pgtune.Hardware
	fromInput := 0
	if req.Memory != "" {
		hw.MemoryBytes, _ = pgtune.ParseSize(req.Memory)
		fromInput++
	}
	if req.CPUs > 0 {
		hw.CPUs = req.CPUs
		fromInput++
	}
	hw.Source = pgtune.HardwareInput
	local, why := t.databaseIsLocal(ctx, db, host)
	if local && t.Prober == nil {
		local, why = false, "this worker has no probe"
	}
	if local {
		activity.RecordHeartbeat(ctx)
		profile, err := t.Prober.Probe(ctx)
		switch {
		case err != nil && fromInput < 2:
			return hw, classifyDB(fmt.Errorf("probe the database host: %w", err))
		case err != nil:
			// Both figures are given; without a probe there is nothing to
			// check them against.
			t.logger().WarnContext(ctx, "tune: probe failed; memory and cpus are taken from the input unchecked", slog.String("error", err.Error()))
		default:
			if err := checkAgainstProbe(req, profile.Effective); err != nil {
				return hw, err
			}
			fromProbe := 0
			if hw.MemoryBytes == 0 && profile.Effective.MemoryBytes > 0 {
				hw.MemoryBytes = profile.Effective.MemoryBytes
				fromProbe++
			}
			if hw.CPUs == 0 && profile.Effective.CPUs > 0 {
				// PGTune counts whole CPUs; a 1.5-CPU quota is 1.
				hw.CPUs = max(1, int(profile.Effective.CPUs))
				fromProbe++
			}
			switch {
			case fromProbe > 0 && fromInput > 0:
				hw.Source = pgtune.HardwareMixed
			case fromProbe > 0:
				hw.Source = pgtune.HardwareProbe
			}
		}
	}
	if fromInput < 2 {
		if fromConfig := t.configuredHardware(&hw); fromConfig > 0 {
			if fromInput > 0 {
				hw.Source = pgtune.HardwareInput + "+" + pgtune.HardwareConfig
			} else {
				hw.Source = pgtune.HardwareConfig
			}
		}
		if hw.MemoryBytes == 0 {
			return hw, invalidInput(fmt.Errorf(
				"memory: the database host's hardware is unknown (%s); set memory (e.g. \"32GB\") and cpus in the input, or PG_HOST_MEMORY and PG_HOST_CPUS on the worker", why))
		}
	}
	hw.Memory = pgtune.FormatBytes(hw.MemoryBytes)
	return hw, nil
}

// checkAgainstProbe refuses a request for more memory or CPUs than the
// probe found on the (local) database host, unless it says force: settings
// sized for memory the host lacks stop the server at its next start.
func checkAgainstProbe(req pgtune.Request, found sysprobe.Effective) error {
	if req.Force {
		return nil
	}
	var errs []error
	if b, err := pgtune.ParseSize(req.Memory); err == nil && req.Memory != "" && found.MemoryBytes > 0 && b > found.MemoryBytes {
		errs = append(errs, fmt.Errorf("memory: %s is more than the %s the probe found on the database host (this worker's host); give at most %s, or set force to plan for %s anyway",
			req.Memory, pgtune.FormatBytes(found.MemoryBytes), pgtune.FormatBytes(found.MemoryBytes), req.Memory))
	}
	if found.CPUs > 0 && float64(req.CPUs) > math.Ceil(found.CPUs) {
		errs = append(errs, fmt.Errorf("cpus: %d is more than the %s CPUs the probe found on the database host (this worker's host); give at most %d, or set force to plan for %d anyway",
			req.CPUs, strconv.FormatFloat(found.CPUs, 'f', -1, 64), int(math.Ceil(found.CPUs)), req.CPUs))
	}
	if len(errs) == 0 {
		return nil
	}
	return invalidInput(errors.Join(errs...))
}

// configuredHardware fills what hw still lacks from the worker's
// PG_HOST_MEMORY/PG_HOST_CPUS and returns how many figures it filled.
func (t *Tuning) configuredHardware(hw *pgtune.Hardware) int {
	n := 0
	if hw.MemoryBytes == 0 && t.DBHostMemory != "" {
		if b, err := pgtune.ParseSize(t.DBHostMemory); err == nil && b > 0 {
			hw.MemoryBytes = b
			n++
		}
	}
	if hw.CPUs == 0 && t.DBHostCPUs > 0 {
		hw.CPUs = t.DBHostCPUs
		n++
	}
	return n
}

// databaseIsLocal reports whether the server runs on this host: it is
// reached over a unix socket or loopback, and its data directory is
// readable here. The reason says what failed.
func (t *Tuning) databaseIsLocal(ctx context.Context, db store.DBTX, host string) (bool, string) {
	if ok, why := localHost(host); !ok {
		return false, why
	}
	dir, err := pgtune.DataDirectory(ctx, db)
	if err != nil {
		return false, "the role cannot read data_directory"
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		return false, fmt.Sprintf("the data directory %s is not readable on the worker host", dir)
	}
	return true, ""
}

// localHost reports whether a libpq host names this machine: a unix
// socket directory, localhost or a loopback address.
func localHost(host string) (bool, string) {
	switch {
	case strings.HasPrefix(host, "/"):
		return true, ""
	case host == "localhost":
		return true, ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true, ""
	}
	return false, fmt.Sprintf("the server at %s is not on this host", host)
}

// preloadLibraries asks the extension catalog which libraries the chosen
// extensions need.
func (t *Tuning) preloadLibraries(req pgtune.Request) ([]string, error) {
	if req.ExtensionProfile == "" && len(req.ExtensionNames) == 0 {
		return nil, nil
	}
	if t.Preload == nil {
		return nil, invalidInput(errors.New("extension_profile/extension_names: this worker has no extension catalog to resolve preload libraries"))
	}
	libs, err := t.Preload.PreloadLibraries(req.ExtensionProfile, req.ExtensionNames)
	if err != nil {
		return nil, invalidInput(fmt.Errorf("extension_profile/extension_names: %w", err))
	}
	return libs, nil
}

// waitForRestart polls, heartbeating, until the server accepts
// connections with a start time after before, or wait elapses.
func (t *Tuning) waitForRestart(ctx context.Context, before time.Time, wait time.Duration) (time.Time, error) {
	deadline := time.Now().Add(wait)
	var last time.Time
	var lastErr error
	for {
		now, err := t.startTime(ctx)
		if err == nil {
			last = now
			if now.After(before) {
				// Connections from before the restart are dead.
				t.Pool.Reset()
				activity.GetLogger(ctx).Info("tune: server restarted", "started_at", now)
				return now, nil
			}
		}
		lastErr = err
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("the server was not restarted within %s: pg_postmaster_start_time() is still %s", wait, last.Format(time.RFC3339Nano))
			if lastErr != nil {
				msg = fmt.Sprintf("the server did not come back within %s: %s", wait, lastErr)
			}
			return time.Time{}, temporal.NewNonRetryableApplicationError(msg, ErrTypeRestartFailed, nil)
		}
		activity.RecordHeartbeat(ctx, "waiting for the restart")
		if err := sleep(ctx, pollInterval); err != nil {
			return time.Time{}, err
		}
	}
}

// startTime reads pg_postmaster_start_time() on a fresh session.
func (t *Tuning) startTime(ctx context.Context) (time.Time, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgtune.Connect(cctx, t.Pool)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgtune.PostmasterStartTime(cctx, conn)
}

func (t *Tuning) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

// beatingConn is a tuning session that heartbeats before every statement.
// PlanTuning and ApplyTuning run with a short heartbeat timeout: when the
// worker running them dies, Temporal sees it within seconds and a retry
// starts, instead of after the whole StartToClose timeout while
// postgresql.auto.conf holds part of a plan. A statement that blocks
// longer than the heartbeat timeout ends the attempt the same way.
type beatingConn struct {
	actx context.Context
	conn *pgx.Conn
}

// beating wraps an activity's session; actx is the activity's context.
func beating(actx context.Context, conn *pgx.Conn) beatingConn {
	return beatingConn{actx: actx, conn: conn}
}

func (b beatingConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	activity.RecordHeartbeat(b.actx)
	return b.conn.Exec(ctx, sql, args...)
}

func (b beatingConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	activity.RecordHeartbeat(b.actx)
	return b.conn.Query(ctx, sql, args...)
}

func (b beatingConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	activity.RecordHeartbeat(b.actx)
	return b.conn.QueryRow(ctx, sql, args...)
}

// invalidInput marks an input error as non-retryable.
// The message says everything; the cause is left out so the error reads
// once rather than twice.
func invalidInput(err error) error {
	return temporal.NewNonRetryableApplicationError(strings.ReplaceAll(err.Error(), "\n", "; "), ErrTypeInvalidInput, nil)
}

// classifyTune maps tuning errors onto Temporal's retry decisions.
func classifyTune(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgtune.ErrInvalidInput):
		return invalidInput(err)
	case errors.Is(err, pgtune.ErrAlterSystemDisabled):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAlterSystemDisabled, nil)
	case errors.Is(err, pgtune.ErrNotPermitted):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePermission, nil)
	case errors.Is(err, pgtune.ErrRunNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotFound, nil)
	default:
		return classifyDB(err)
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
