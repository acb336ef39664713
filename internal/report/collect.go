package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/opendiscourse/congressflow/internal/logging"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/internal/store"
)

// Collect defaults.
const (
	DefaultSchema            = store.CongressSchema
	DefaultTop               = 10
	DefaultLongRunning       = time.Minute
	DefaultIdleInTransaction = 10 * time.Second
)

// Options choose what [Collect] reads. The zero value is usable.
type Options struct {
	// Schema whose tables are reported. Default "congress".
	Schema string
	// Top is the number of statements listed. Default 10.
	Top int
	// LongRunning: queries running longer are listed. Default 1 minute.
	LongRunning time.Duration
	// IdleInTransaction: sessions idle in a transaction longer are
	// listed. Default 10 seconds.
	IdleInTransaction time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	o.Schema = cmp.Or(o.Schema, DefaultSchema)
	o.Top = cmp.Or(o.Top, DefaultTop)
	o.LongRunning = cmp.Or(o.LongRunning, DefaultLongRunning)
	o.IdleInTransaction = cmp.Or(o.IdleInTransaction, DefaultIdleInTransaction)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Collect reads every section about the server, the database and the
// ingest runs through pool; the caller adds Worker, Trend and the
// Summary. A section the role may not read, or that this server lacks,
// becomes a note and the rest goes on; a server that cannot be reached
// fails the whole (retryable, see [store.Retryable]).
func Collect(ctx context.Context, pool *pgxpool.Pool, opts Options) (Report, error) {
	opts = opts.withDefaults()
	r := Report{CollectedAt: opts.Now().UTC(), Tables: []Table{}, UnusedIndexes: []Index{}, Ingest: []IngestRun{},
		Statements: Statements{Top: []Statement{}},
		Connections: Connections{ByState: []StateCount{}, LongRunning: []Session{}, IdleInTransaction: []Session{},
			LongRunningAfterSeconds: opts.LongRunning.Seconds(), IdleInTransactionAfterSeconds: opts.IdleInTransaction.Seconds()},
		Settings: Settings{Drift: []Drift{}, PendingRestart: []Pending{}, FileErrors: []FileError{}},
	}
	if err := pool.QueryRow(ctx, serverSQL).Scan(&r.Server.Version, &r.Server.VersionNum, &r.Server.Database,
		&r.Server.StartedAt, &r.Server.Superuser, &r.Server.StatsReset); err != nil {
		return r, fmt.Errorf("read the server's version: %w", store.Translate(err))
	}
	sections := []struct {
		name string
		fn   func(context.Context, *pgxpool.Pool, Options, *Report) error
	}{
		{"statements", collectStatements},
		{"connections", collectConnections},
		{"sizes", collectSizes},
		{"cache", collectCache},
		{"unused indexes", collectUnusedIndexes},
		{"checkpoints", collectCheckpoints},
		{"settings", collectSettings},
		{"ingest", collectIngest},
	}
	for _, s := range sections {
		if err := s.fn(ctx, pool, opts, &r); err != nil {
			if ctx.Err() != nil || store.Retryable(err) {
				return r, fmt.Errorf("%s: %w", s.name, err)
			}
			r.Notes = append(r.Notes, s.name+": "+logging.OneLine(err))
		}
	}
	return r, nil
}

func collectStatements(ctx context.Context, pool *pgxpool.Pool, opts Options, r *Report) error {
	var (
		preloaded, available bool
		schema, version      *string
	)
	if err := pool.QueryRow(ctx, statementsStatusSQL).Scan(&preloaded, &schema, &version, &available); err != nil {
		return store.Translate(err)
	}
	st := &r.Statements
	switch {
	case !available:
		st.Hint = "pg_stat_statements is not installed on this server: install PostgreSQL's contrib modules (Debian: postgresql-" +
			fmt.Sprint(r.Server.VersionNum/10000) + " includes them), then " + enableHint
		return nil
	case !preloaded:
		st.Hint = "pg_stat_statements is not loaded (it is not in shared_preload_libraries): " + enableHint
		return nil
	case schema == nil:
		st.Hint = "pg_stat_statements is loaded but not created in database " + r.Server.Database +
			": run `starter extensions --names pg_stat_statements` (CREATE EXTENSION pg_stat_statements)"
		return nil
	}
	st.Version = *version
	rows, err := pool.Query(ctx, statementsSQL(*schema, *version), opts.Top)
	if err != nil {
		return readStatementsError(st, err)
	}
	top, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Statement, error) {
		var s Statement
		err := row.Scan(&s.QueryID, &s.Calls, &s.TotalMS, &s.MeanMS, &s.Rows, &s.HitPct, &s.Query)
		s.Query = CleanQuery(s.Query)
		s.HitPct = round(s.HitPct)
		return s, err
	})
	if err != nil {
		return readStatementsError(st, err)
	}
	st.Available, st.Top = true, top
	return nil
}

// enableHint is how to enable pg_stat_statements with congressflow.
const enableHint = "run `starter tune --apply --restart command --extensions pg_stat_statements` (it adds the library to " +
	"shared_preload_libraries and restarts PostgreSQL with the worker's PG_RESTART_COMMAND; with --restart signal, restart it " +
	"yourself), then `starter extensions --names pg_stat_statements`"

// readStatementsError turns "must be loaded via shared_preload_libraries"
// (SQLSTATE 55000, the library listed but the server not restarted since)
// into the hint; other errors pass.
func readStatementsError(st *Statements, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55000" {
		st.Hint = "pg_stat_statements is not loaded yet (" + pgErr.Message + "): restart PostgreSQL"
		return nil
	}
	return store.Translate(err)
}

func collectConnections(ctx context.Context, pool *pgxpool.Pool, opts Options, r *Report) error {
	c := &r.Connections
	if err := pool.QueryRow(ctx, connectionsSQL).Scan(&c.Max, &c.Reserved); err != nil {
		return store.Translate(err)
	}
	rows, err := pool.Query(ctx, statesSQL)
	if err != nil {
		return store.Translate(err)
	}
	if c.ByState, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (StateCount, error) {
		var s StateCount
		err := row.Scan(&s.State, &s.Count)
		return s, err
	}); err != nil {
		return store.Translate(err)
	}
	for _, s := range c.ByState {
		c.Used += s.Count
	}
	rows, err = pool.Query(ctx, sessionsSQL, opts.LongRunning.Seconds(), opts.IdleInTransaction.Seconds())
	if err != nil {
		return store.Translate(err)
	}
	sessions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Session, error) {
		var s Session
		err := row.Scan(&s.PID, &s.User, &s.Database, &s.Application, &s.State, &s.Wait, &s.Seconds, &s.TransactionSeconds, &s.Query)
		s.Query = CleanQuery(s.Query)
		s.Seconds, s.TransactionSeconds = math.Round(s.Seconds*10)/10, math.Round(s.TransactionSeconds*10)/10
		return s, err
	})
	if err != nil {
		return store.Translate(err)
	}
	for _, s := range sessions {
		if s.State == "active" {
			c.LongRunning = append(c.LongRunning, s)
		} else {
			c.IdleInTransaction = append(c.IdleInTransaction, s)
		}
	}
	return nil
}

func collectSizes(ctx context.Context, pool *pgxpool.Pool, opts Options, r *Report) error {
	if err := pool.QueryRow(ctx, databaseSizeSQL).Scan(&r.Sizes.DatabaseBytes); err != nil {
		return store.Translate(err)
	}
	rows, err := pool.Query(ctx, tablesSQL(r.Server.VersionNum), opts.Schema)
	if err != nil {
		return store.Translate(err)
	}
	tables, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Table, error) {
		var (
			t                 Table
			heapHit, heapRead *int64
			idxHit, idxRead   *int64
			width             *float64
			blockSize         int
		)
		err := row.Scan(&t.Name, &t.TotalBytes, &t.HeapBytes, &t.IndexBytes, &t.RowEstimate, &t.LiveRows, &t.DeadRows,
			&t.ModsSinceAnalyze, &t.LastVacuum, &t.LastAnalyze, &heapHit, &heapRead, &idxHit, &idxRead, &width, &blockSize)
		t.ToastBytes = max(0, t.TotalBytes-t.HeapBytes-t.IndexBytes)
		if t.RowEstimate < 0 && (t.LiveRows > 0 || t.LastVacuum != nil) {
			// Never analysed: the statistics' live rows are the estimate.
			t.RowEstimate = t.LiveRows
		}
		if n := t.LiveRows + t.DeadRows; n > 0 {
			t.DeadPct = math.Round(1000*float64(t.DeadRows)/float64(n)) / 10
		}
		t.HitPct, t.IndexHitPct = hitPct(heapHit, heapRead), hitPct(idxHit, idxRead)
		if width != nil {
			t.EstBloatPct = EstimateBloat(t.HeapBytes, t.RowEstimate, *width, blockSize)
		}
		return t, err
	})
	if err != nil {
		return store.Translate(err)
	}
	r.Tables = tables
	r.Sizes.Tables = len(tables)
	for _, t := range tables {
		r.Sizes.SchemaBytes += t.TotalBytes
		r.Sizes.RowEstimate += max(t.RowEstimate, 0)
	}
	return nil
}

// tupleHeader is a heap tuple's header with its line pointer: 23 bytes
// aligned to 24, plus 4.
const tupleHeader = 24 + 4

// pageHeader is the fixed header of a heap page.
const pageHeader = 24

// EstimateBloat estimates the share of a heap that holds no live row, in
// percent: the pages rows of the average width (aligned to 8 bytes, with
// header and line pointer) would fill, against the pages the heap has. It
// is nil when the estimate or the width is unknown, and is rounded to a
// percent: an indicator, not a measurement (pgstattuple measures).
func EstimateBloat(heapBytes, rowEstimate int64, avgWidth float64, blockSize int) *float64 {
	if heapBytes <= 0 || rowEstimate < 0 || avgWidth <= 0 || blockSize <= pageHeader {
		return nil
	}
	tuple := math.Ceil(avgWidth/8)*8 + tupleHeader
	perPage := math.Floor(float64(blockSize-pageHeader) / tuple)
	if perPage < 1 {
		return nil
	}
	needed := math.Ceil(float64(rowEstimate)/perPage) * float64(blockSize)
	v := math.Round(max(0, 100*(1-needed/float64(heapBytes))))
	return &v
}

func hitPct(hit, read *int64) *float64 {
	if hit == nil || read == nil || *hit+*read == 0 {
		return nil
	}
	v := 100 * float64(*hit) / float64(*hit+*read)
	return round(&v)
}

// round rounds a percentage to two decimals.
func round(v *float64) *float64 {
	if v == nil {
		return nil
	}
	x := math.Round(*v*100) / 100
	return &x
}

func collectCache(ctx context.Context, pool *pgxpool.Pool, _ Options, r *Report) error {
	if err := pool.QueryRow(ctx, cacheSQL).Scan(&r.Cache.HitPct, &r.Cache.ClusterHitPct); err != nil {
		return store.Translate(err)
	}
	r.Cache.HitPct, r.Cache.ClusterHitPct = round(r.Cache.HitPct), round(r.Cache.ClusterHitPct)
	return nil
}

func collectUnusedIndexes(ctx context.Context, pool *pgxpool.Pool, _ Options, r *Report) error {
	rows, err := pool.Query(ctx, unusedIndexesSQL(r.Server.VersionNum))
	if err != nil {
		return store.Translate(err)
	}
	idx, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Index, error) {
		var i Index
		err := row.Scan(&i.Name, &i.Table, &i.Bytes, &i.Scans, &i.LastScan)
		return i, err
	})
	if err != nil {
		return store.Translate(err)
	}
	r.UnusedIndexes = idx
	return nil
}

func collectCheckpoints(ctx context.Context, pool *pgxpool.Pool, _ Options, r *Report) error {
	c := &r.Checkpoints
	if err := pool.QueryRow(ctx, checkpointsSQL(r.Server.VersionNum)).Scan(&c.Source, &c.Timed, &c.Requested, &c.WriteMS, &c.SyncMS,
		&c.BuffersCheckpoint, &c.BuffersClean, &c.MaxWrittenClean, &c.BuffersBackend, &c.BuffersAlloc, &c.StatsReset); err != nil {
		return store.Translate(err)
	}
	if n := c.Timed + c.Requested; n > 0 {
		c.RequestedPct = math.Round(1000*float64(c.Requested)/float64(n)) / 10
	}
	return nil
}

// collectSettings compares what tuning applied with the server, on a
// session of its own: the pool's sessions set statement_timeout and
// idle_in_transaction_session_timeout, which would hide the server's
// values.
func collectSettings(ctx context.Context, pool *pgxpool.Pool, _ Options, r *Report) error {
	applied, err := store.LastAppliedTuning(ctx, pool)
	if err != nil {
		return err
	}
	conn, err := pgtune.Connect(ctx, pool)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	names := pgtune.Names()
	in := make([]pgtune.AppliedSetting, 0, len(applied))
	for _, a := range applied {
		in = append(in, pgtune.AppliedSetting{Name: a.Name, Value: a.Value, RunID: a.RunID})
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
		if r.Settings.LastTune == nil || a.ChangedAt.After(r.Settings.LastTune.At) {
			r.Settings.LastTune = &TuneRun{WorkflowID: a.WorkflowID, RunID: a.RunID, At: a.ChangedAt}
		}
	}
	st, err := pgtune.ReadState(ctx, conn, names, nil)
	if err != nil {
		return err
	}
	s := &r.Settings
	s.Applied = len(applied)
	s.FileSettingsReadable = st.FileSettingsReadable
	for _, d := range pgtune.Drift(in, st) {
		s.Drift = append(s.Drift, Drift(d))
	}
	for _, name := range st.PendingRestart {
		p := Pending{Name: name}
		if cur, ok := st.Settings[name]; ok && pgtune.Allowed(name) {
			p.Running = cur.Display
			if cur.HasConfigured {
				p.Configured = cur.Configured
			}
		}
		s.PendingRestart = append(s.PendingRestart, p)
	}
	if !st.FileSettingsReadable {
		return nil
	}
	rows, err := conn.Query(ctx, fileErrorsSQL)
	if err != nil {
		return store.Translate(err)
	}
	fe, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (FileError, error) {
		var f FileError
		err := row.Scan(&f.File, &f.Line, &f.Name, &f.Error)
		return f, err
	})
	if err != nil {
		return store.Translate(err)
	}
	s.FileErrors = fe
	return nil
}

func collectIngest(ctx context.Context, pool *pgxpool.Pool, opts Options, r *Report) error {
	runs, err := store.LastIngestRuns(ctx, pool)
	if err != nil {
		return err
	}
	for _, run := range runs {
		r.Ingest = append(r.Ingest, IngestFromRun(run, opts.Now()))
	}
	return nil
}

// IngestFromRun derives a walk's rates from its ops.ingest_runs row: its
// duration runs to its end (to now while it runs, to its last update when
// it failed without an end).
func IngestFromRun(run store.IngestRun, now time.Time) IngestRun {
	in := IngestRun{
		Endpoint: run.Endpoint, WalkID: run.WalkID, WorkflowID: run.WorkflowID, Mode: run.Mode, Status: run.Status,
		StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Pages: run.Pages, Items: run.Items, Inserted: run.Inserted,
		Updated: run.Updated, Unchanged: run.Unchanged, Requests: run.Requests, MinRequests: run.MinRequests,
		Retries: run.Retries, RateLimited: run.Limited, Count: run.Count, Confirmed: run.Confirmed, Gap: run.Gap, Error: run.Error,
	}
	end := now
	switch {
	case run.FinishedAt != nil:
		end = *run.FinishedAt
	case run.Status != store.RunRunning:
		end = run.UpdatedAt
	}
	in.Seconds = math.Round(max(0, end.Sub(run.StartedAt).Seconds())*1000) / 1000
	if in.Seconds > 0 {
		in.ItemsPerSecond = math.Round(10*float64(run.Items)/in.Seconds) / 10
		in.PagesPerSecond = math.Round(100*float64(run.Pages)/in.Seconds) / 100
	}
	if run.Requests > 0 {
		in.SuccessPct = math.Round(1000*float64(run.Requests-run.Retries)/float64(run.Requests)) / 10
	}
	if run.Count > 0 {
		v := math.Round(1000*float64(run.Confirmed)/float64(run.Count)) / 10
		in.CompletePct = &v
	}
	return in
}
