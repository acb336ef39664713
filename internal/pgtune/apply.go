package pgtune

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/opendiscourse/congressflow/internal/store"
)

// Conditions callers branch on.
var (
	// ErrAlterSystemDisabled: allow_alter_system is off (PG 17+), so
	// ALTER SYSTEM fails; nothing was changed.
	ErrAlterSystemDisabled = errors.New("ALTER SYSTEM is disabled on this server (allow_alter_system = off)")
	// ErrNotPermitted: the role may not ALTER SYSTEM or read
	// pg_file_settings; nothing was changed.
	ErrNotPermitted = errors.New("not permitted to change server settings")
	// ErrRunNotFound: [Revert] found no change the run applied on this
	// server: the run ID is unknown here, or every change it tried was
	// refused. A run that was already reverted is not this error.
	ErrRunNotFound = errors.New("no such tune run")
)

// DefaultSettleTimeout bounds the wait for a configuration reload to reach
// the tuning session.
const DefaultSettleTimeout = 10 * time.Second

// applicationName identifies the tuning session in pg_stat_activity.
const applicationName = "congressflow-tune"

// Connect opens the session tuning works through: the pool's server and
// credentials, but none of the pool's per-session settings, so pg_settings
// shows the server's own values (the pool sets statement_timeout and
// idle_in_transaction_session_timeout for its sessions, which would hide
// them). ALTER SYSTEM runs on it outside any transaction.
func Connect(ctx context.Context, pool *pgxpool.Pool) (*pgx.Conn, error) {
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams = map[string]string{"application_name": applicationName}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect for tuning to %s: %w", store.Describe(cfg), store.Translate(err))
	}
	return conn, nil
}

// ReadState reads what the server runs and has configured for the named
// settings, whether it allows ALTER SYSTEM, and whether the given preload
// libraries' files are in its pkglibdir. db should be a session from
// [Connect].
func ReadState(ctx context.Context, db store.DBTX, names, libraries []string) (ServerState, error) {
	st := ServerState{Settings: map[string]Current{}, AllowAlterSystem: true}
	err := db.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, pg_postmaster_start_time(),
       current_setting('is_superuser') = 'on', current_database()`).Scan(&st.VersionNum, &st.PostmasterStartTime, &st.Superuser, &st.Database)
	if err != nil {
		return st, fmt.Errorf("read server version: %w", store.Translate(err))
	}
	st.Version = st.VersionNum / 10000
	if st.Identity, err = ReadIdentity(ctx, db); err != nil {
		return st, err
	}

	rows, err := db.Query(ctx, `
SELECT name, setting, coalesce(unit, ''), context, source, pending_restart, current_setting(name), vartype,
       coalesce(min_val, ''), coalesce(max_val, ''), coalesce(enumvals, '{}')
FROM pg_settings WHERE name = ANY($1)`, names)
	if err != nil {
		return st, fmt.Errorf("read pg_settings: %w", store.Translate(err))
	}
	cur, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Current, error) {
		var c Current
		err := r.Scan(&c.Name, &c.Setting, &c.Unit, &c.Context, &c.Source, &c.PendingRestart, &c.Display, &c.VarType,
			&c.MinVal, &c.MaxVal, &c.EnumVals)
		// A library's integer or enum setting shows as a string until the
		// library is loaded and defines it.
		sp := allowList[c.Name]
		c.Placeholder = sp.library != "" && sp.kind != kindName && c.VarType == "string"
		return c, err
	})
	if err != nil {
		return st, fmt.Errorf("read pg_settings: %w", store.Translate(err))
	}
	for _, c := range cur {
		st.Settings[c.Name] = c
	}

	rows, err = db.Query(ctx, `SELECT name FROM pg_settings WHERE pending_restart ORDER BY name`)
	if err == nil {
		st.PendingRestart, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return st, fmt.Errorf("read pending restarts: %w", store.Translate(err))
	}

	var allow *string
	err = db.QueryRow(ctx, `SELECT (SELECT setting FROM pg_settings WHERE name = 'allow_alter_system')`).Scan(&allow)
	if err != nil {
		return st, fmt.Errorf("read allow_alter_system: %w", store.Translate(err))
	}
	st.AllowAlterSystem = allow == nil || *allow == "on"

	if err := readFileSettings(ctx, db, names, &st); err != nil {
		return st, err
	}
	if err := readPrivileges(ctx, db, names, &st); err != nil {
		return st, err
	}
	if err := checkLibraries(ctx, db, libraries, &st); err != nil {
		return st, err
	}
	return st, nil
}

// readFileSettings fills the configured values from pg_file_settings. The
// last entry for a name wins, as when the server reads the files.
func readFileSettings(ctx context.Context, db store.DBTX, names []string, st *ServerState) error {
	rows, err := db.Query(ctx, `
SELECT name, coalesce(setting, ''), coalesce(error, ''), coalesce(sourcefile, '')
FROM pg_file_settings WHERE name = ANY($1) ORDER BY seqno`, names)
	if err != nil {
		if errors.Is(store.Translate(err), store.ErrPermission) {
			return nil
		}
		return fmt.Errorf("read pg_file_settings: %w", store.Translate(err))
	}
	type entry struct{ name, setting, errText, file string }
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
		var e entry
		err := r.Scan(&e.name, &e.setting, &e.errText, &e.file)
		return e, err
	})
	if err != nil {
		if errors.Is(store.Translate(err), store.ErrPermission) {
			return nil
		}
		return fmt.Errorf("read pg_file_settings: %w", store.Translate(err))
	}
	st.FileSettingsReadable = true
	for _, e := range entries {
		c, ok := st.Settings[e.name]
		if !ok {
			if allowList[e.name].library == "" {
				continue
			}
			// Configured for a library the server has not loaded.
			c = Current{Name: e.name, Placeholder: true}
		}
		c.Configured, c.HasConfigured, c.ConfiguredError = e.setting, true, e.errText
		if path.Base(e.file) == "postgresql.auto.conf" {
			c.AutoConf, c.InAutoConf = e.setting, true
		}
		st.Settings[e.name] = c
	}
	return nil
}

// readPrivileges lists the settings a non-superuser may not ALTER SYSTEM
// (PG 15+ grants it per parameter; before 15 only superusers may).
func readPrivileges(ctx context.Context, db store.DBTX, names []string, st *ServerState) error {
	if st.Superuser {
		return nil
	}
	known := make([]string, 0, len(names))
	for _, n := range names {
		if _, ok := st.Settings[n]; ok {
			known = append(known, n)
		}
	}
	if st.Version < 15 {
		st.NoAlterPrivilege = known
		return nil
	}
	rows, err := db.Query(ctx, `SELECT n FROM unnest($1::text[]) AS n WHERE NOT has_parameter_privilege(n, 'ALTER SYSTEM') ORDER BY n`, known)
	if err == nil {
		st.NoAlterPrivilege, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return fmt.Errorf("read ALTER SYSTEM privileges: %w", store.Translate(err))
	}
	return nil
}

// librarySuffixes are the file name endings of a loadable library
// (PostgreSQL's DLSUFFIX): .so on Linux and the BSDs (and macOS before
// PostgreSQL 16), .dylib on macOS from 16, .dll on Windows.
var librarySuffixes = []string{".so", ".dylib", ".dll"}

// checkLibraries decides, for each library, whether the server can preload
// it: it must be a bare name (see validateLibrary) whose file is in the
// server's pkglibdir, and LOAD must load it in this session. A library
// whose own code refuses a LOAD outside shared_preload_libraries (pg_cron,
// pgaudit: SQLSTATE 55000 or a message naming shared_preload_libraries)
// did load. pg_config, pg_stat_file and LOAD of a library outside
// $libdir/plugins need a superuser (or granted roles); without them the
// status is unknown and the library is not preloaded.
func checkLibraries(ctx context.Context, db store.DBTX, libraries []string, st *ServerState) error {
	if len(libraries) == 0 {
		return nil
	}
	if st.Libraries == nil {
		st.Libraries = map[string]LibraryStatus{}
	}
	if st.LibraryErrors == nil {
		st.LibraryErrors = map[string]string{}
	}
	for _, l := range libraries {
		st.Libraries[l] = LibraryUnknown
	}
	var libdir string
	if err := db.QueryRow(ctx, `SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'`).Scan(&libdir); err != nil {
		terr := store.Translate(err)
		if errors.Is(terr, store.ErrPermission) || errors.Is(terr, store.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("read pkglibdir: %w", terr)
	}
	for _, lib := range libraries {
		if err := validateLibrary(lib); err != nil {
			st.Libraries[lib], st.LibraryErrors[lib] = LibraryUnloadable, err.Error()
			continue
		}
		var found bool
		err := db.QueryRow(ctx, `
SELECT EXISTS (SELECT 1 FROM unnest($2::text[]) AS sfx WHERE NOT coalesce((pg_stat_file($1 || sfx, true)).isdir, true))`,
			path.Join(libdir, lib), librarySuffixes).Scan(&found)
		if err != nil {
			if errors.Is(store.Translate(err), store.ErrPermission) {
				return nil
			}
			return fmt.Errorf("look for library %s: %w", lib, store.Translate(err))
		}
		if !found {
			st.Libraries[lib] = LibraryMissing
			continue
		}
		status, msg, err := loadLibrary(ctx, db, lib)
		if err != nil {
			return err
		}
		st.Libraries[lib] = status
		if msg != "" {
			st.LibraryErrors[lib] = msg
		}
	}
	return nil
}

// loadLibrary runs LOAD for a bare library name in this session and says
// what it showed: present, unloadable (with the server's message), or
// unknown when the role may not LOAD it. Other errors (the connection)
// are returned.
func loadLibrary(ctx context.Context, db store.DBTX, lib string) (LibraryStatus, string, error) {
	_, err := db.Exec(ctx, "LOAD "+QuoteLiteral(lib))
	if err == nil {
		return LibraryPresent, "", nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return LibraryUnknown, "", fmt.Errorf("LOAD %s: %w", lib, store.Translate(err))
	}
	switch {
	case pgErr.Code == "42501":
		return LibraryUnknown, "", nil
	case pgErr.Code == "55000", strings.Contains(pgErr.Message+" "+pgErr.Hint, "shared_preload_libraries"):
		// Its initializer ran and asks to be preloaded: it loads.
		return LibraryPresent, "", nil
	}
	return LibraryUnloadable, pgErr.Message, nil
}

// PlanFor reads the server's state for a recommendation's settings and
// libraries and builds the plan. db should be a session from [Connect].
//
// Before anything is applied it checks every value the plan changes
// against pg_settings (min_val and max_val in the setting's unit, and
// enumvals). A value the server would refuse fails the plan with a
// [SettingError] for each such setting, naming the input field when an
// override asked for it; they match [ErrInvalidInput].
func PlanFor(ctx context.Context, db store.DBTX, rec Recommendation, hw Hardware) (Plan, error) {
	names := make([]string, len(rec.Settings))
	var libs []string
	for i, s := range rec.Settings {
		names[i] = s.Name
		if allowList[s.Name].kind == kindList {
			libs = append(libs, splitList(s.Value)...)
		}
	}
	if slices.Contains(libs, cronLibrary) && !slices.Contains(names, "cron.database_name") {
		names = append(names, "cron.database_name")
	}
	st, err := ReadState(ctx, db, names, libs)
	if err != nil {
		return Plan{}, err
	}
	p := BuildPlan(rec, st, hw)
	if err := checkValues(p.Items, st); err != nil {
		return Plan{}, fmt.Errorf("the server would refuse the plan, so nothing is applied: %w", err)
	}
	return p, nil
}

// Change is one setting changed (or restored) by a run.
type Change struct {
	Name    string  `json:"name"`
	Old     string  `json:"old"`
	New     string  `json:"new"`
	Context Context `json:"context"`
	Source  Source  `json:"source,omitempty"`
}

// ApplyReport says what an apply did and where each setting stands.
type ApplyReport struct {
	// RunID is the run the changes are recorded under.
	RunID string `json:"run_id"`
	// Changes made with ALTER SYSTEM.
	Changes []Change `json:"changes"`
	// Live lists changed settings that are in effect now.
	Live []string `json:"live"`
	// PendingRestart lists every setting waiting for a restart.
	PendingRestart []string `json:"pending_restart,omitempty"`
	// Rejected settings were refused by the server. A refusal stops
	// [Apply], which then reverts the run and returns an error, so a
	// successful report has none.
	Rejected []Rejection `json:"rejected,omitempty"`
	// NotLive are changed settings that should be live and are not (yet).
	NotLive []Mismatch `json:"not_live,omitempty"`
	// Message sums it up in one line.
	Message string `json:"message"`
	// PostmasterStartTime after the apply: a restart moves it.
	PostmasterStartTime time.Time `json:"postmaster_start_time"`
}

// ApplyOptions configure [Apply] and [Revert].
type ApplyOptions struct {
	// WorkflowID and RunID identify the run in ops.tuning_changes.
	WorkflowID, RunID string
	// Logger receives one line per change. Nil discards.
	Logger *slog.Logger
	// SettleTimeout bounds the wait for the reload. Default
	// [DefaultSettleTimeout].
	SettleTimeout time.Duration
}

func (o ApplyOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Apply runs the plan's changes. Before the first one it keeps
// postgresql.auto.conf, as the server reads it, with the run in
// ops.tuning_snapshots (see [ReadAutoConf], [RestoreAutoConf]); then for
// each setting it records the old value in ops.tuning_changes and runs
// ALTER SYSTEM on its own (never in a transaction). Then it reloads the
// configuration, keeps the file as the run left it, and reports what is
// live and what waits for a restart. With nothing to change it changes
// nothing and says so.
//
// Nothing stays half-applied. Before changing anything it checks every
// value against pg_settings' ranges and enum values, as [PlanFor] does,
// and fails with [SettingError]s when one is out of bounds. A value the
// server still refuses (a check the catalog cannot show, such as
// max_connections plus the worker counts exceeding the server's limit)
// stops it: it reverts what the run changed so far and returns a
// [SettingError] saying so; so does a value the reload rejects, and so does
// any other failure after the first change (a statement, the bookkeeping,
// the reload). Should the revert itself fail (the server went away), both
// errors are returned and the run's records allow a later [Revert].
//
// It stops before changing anything when allow_alter_system is off
// ([ErrAlterSystemDisabled]) or the role lacks the privileges
// ([ErrNotPermitted]). db must be a session, not a transaction; use
// [Connect]. ops.tuning_changes must be in db's database.
func Apply(ctx context.Context, db store.DBTX, p Plan, opts ApplyOptions) (ApplyReport, error) {
	log := opts.logger()
	rep := ApplyReport{RunID: opts.RunID, Changes: []Change{}, Live: []string{}}
	var todo []Item
	for _, it := range p.Items {
		if it.Action == ActionChange {
			todo = append(todo, it)
		}
	}
	names := make([]string, len(todo))
	for i, it := range todo {
		names[i] = it.Name
	}
	st, err := ReadState(ctx, db, names, nil)
	if err != nil {
		return rep, err
	}
	rep.PostmasterStartTime = st.PostmasterStartTime
	rep.PendingRestart = st.PendingRestart
	if len(todo) == 0 {
		rep.Message = fmt.Sprintf("nothing to change: all %d settings already match (within 5%%)", countKept(p))
		return rep, nil
	}
	if !st.AllowAlterSystem {
		return rep, ErrAlterSystemDisabled
	}
	if !st.Superuser && len(st.NoAlterPrivilege) > 0 {
		return rep, fmt.Errorf("%w: the role may not ALTER SYSTEM %s (connect as a superuser or GRANT ALTER SYSTEM ON PARAMETER)",
			ErrNotPermitted, strings.Join(st.NoAlterPrivilege, ", "))
	}
	if !st.FileSettingsReadable {
		return rep, fmt.Errorf("%w: pg_file_settings is not readable, so old values cannot be recorded (connect as a superuser)", ErrNotPermitted)
	}
	// The plan comes from PlanFor, but Apply is the last line before
	// ALTER SYSTEM: only allow-listed names, valid values and preload
	// libraries that load get there.
	if err := checkItems(ctx, db, todo, &st); err != nil {
		return rep, err
	}
	if err := checkValues(todo, st); err != nil {
		return rep, fmt.Errorf("the server would refuse the plan, so nothing is applied: %w", err)
	}
	if err := keepAutoConf(ctx, db, opts); err != nil {
		return rep, err
	}

	var applied []Item
	for _, it := range todo {
		cur := st.Settings[it.Name]
		var old *string
		if cur.InAutoConf {
			old = &cur.AutoConf
		}
		row, err := store.RecordTuningChange(ctx, db, store.TuningChange{
			WorkflowID: opts.WorkflowID, RunID: opts.RunID, Name: it.Name, OldValue: old, OldDisplay: cur.Display,
			NewValue: it.Value, Context: string(it.Context), Source: string(it.Source),
		})
		if err != nil {
			return rep, undo(ctx, db, opts, fmt.Errorf("record change of %s: %w", it.Name, err))
		}
		stmt := AlterStatement(it.Name, it.Value)
		if err := alterSystem(ctx, db, it.Name, stmt); err != nil {
			if msg, ok := refused(err); ok {
				log.WarnContext(ctx, "tune: server refused a setting; reverting the run", slog.String("guc", it.Name),
					slog.String("value", it.Value), slog.String("error", msg))
				rep.Rejected = append(rep.Rejected, Rejection{Name: it.Name, Value: it.Value, Error: msg})
				// A row an earlier attempt of this run applied stays
				// applied, so the revert restores it.
				if row.Status != store.TuningApplied {
					if serr := store.SetTuningChangeStatus(ctx, db, row.ID, store.TuningFailed, msg); serr != nil {
						return rep, serr
					}
				}
				return rep, undo(ctx, db, opts, &SettingError{Name: it.Name, Value: it.Value, Field: it.Field,
					Problem: "the server refused it: " + msg})
			}
			terr := store.Translate(err)
			if errors.Is(terr, store.ErrPermission) {
				return rep, undo(ctx, db, opts, fmt.Errorf("%s: %w: %w", stmt, ErrNotPermitted, terr))
			}
			return rep, undo(ctx, db, opts, fmt.Errorf("%s: %w", stmt, terr))
		}
		if err := store.SetTuningChangeStatus(ctx, db, row.ID, store.TuningApplied, ""); err != nil {
			return rep, undo(ctx, db, opts, err)
		}
		log.InfoContext(ctx, "tune: setting changed", slog.String("guc", it.Name), slog.String("old", cur.Display),
			slog.String("new", it.Value), slog.String("context", string(it.Context)))
		rep.Changes = append(rep.Changes, Change{Name: it.Name, Old: cur.Display, New: it.Value, Context: it.Context, Source: it.Source})
		applied = append(applied, it)
	}
	if err := reload(ctx, db, opts.SettleTimeout); err != nil {
		return rep, undo(ctx, db, opts, err)
	}
	vr, st, err := check(ctx, db, Plan{Items: applied}, false)
	if err != nil {
		return rep, undo(ctx, db, opts, err)
	}
	if len(vr.Rejected) > 0 {
		rep.Rejected = vr.Rejected
		r := vr.Rejected[0]
		i := slices.IndexFunc(applied, func(it Item) bool { return it.Name == r.Name })
		serr := &SettingError{Name: r.Name, Value: applied[i].Value, Field: applied[i].Field, Problem: "the reload rejected it: " + r.Error}
		log.WarnContext(ctx, "tune: reload rejected a setting; reverting the run", slog.String("guc", r.Name), slog.String("error", r.Error))
		return rep, undo(ctx, db, opts, serr)
	}
	rep.Live = vr.Live
	// The server's list, plus library settings waiting for their library.
	rep.PendingRestart = st.PendingRestart
	for _, n := range vr.PendingRestart {
		if !slices.Contains(rep.PendingRestart, n) {
			rep.PendingRestart = append(rep.PendingRestart, n)
		}
	}
	slices.Sort(rep.PendingRestart)
	rep.NotLive = vr.Mismatches
	rep.PostmasterStartTime = st.PostmasterStartTime
	if after, _, err := ReadAutoConf(ctx, db); err != nil {
		log.WarnContext(ctx, "tune: could not read postgresql.auto.conf after the apply", slog.String("error", err.Error()))
	} else if err := store.SetTuningSnapshotAfter(ctx, db, opts.RunID, after); err != nil {
		log.WarnContext(ctx, "tune: could not keep postgresql.auto.conf after the apply", slog.String("error", err.Error()))
	}
	rep.Message = fmt.Sprintf("changed %d settings: %d live, %d wait for a restart",
		len(rep.Changes), len(vr.Live), len(vr.PendingRestart))
	return rep, nil
}

// keepAutoConf stores postgresql.auto.conf, as the server reads it now,
// with the run (ops.tuning_snapshots) before its first ALTER SYSTEM, with
// the server's data directory: should a restart not bring the server back,
// the worker can write it back. A retried apply keeps the first snapshot.
func keepAutoConf(ctx context.Context, db store.DBTX, opts ApplyOptions) error {
	dir, err := DataDirectory(ctx, db)
	if err != nil {
		return fmt.Errorf("keep %s before changing it: %w", AutoConfName, err)
	}
	content, source, err := ReadAutoConf(ctx, db)
	if err != nil {
		return fmt.Errorf("keep %s before changing it: %w", AutoConfName, err)
	}
	_, err = store.RecordTuningSnapshot(ctx, db, store.TuningSnapshot{
		RunID: opts.RunID, WorkflowID: opts.WorkflowID, DataDirectory: dir, Source: source, Before: content,
	})
	if err != nil {
		return fmt.Errorf("keep %s before changing it: %w", AutoConfName, err)
	}
	return nil
}

// checkItems validates the values Apply is about to set. A list setting's
// libraries that the server's configuration already names stay as they
// are; each one it adds must be a bare name that loads now (see
// checkLibraries), or the server would not start with it.
func checkItems(ctx context.Context, db store.DBTX, items []Item, st *ServerState) error {
	for _, it := range items {
		if allowList[it.Name].kind != kindList {
			if err := ValidateValue(it.Name, it.Value, 0); err != nil {
				return &SettingError{Name: it.Name, Value: it.Value, Field: it.Field, Problem: err.Error()}
			}
			continue
		}
		have, _ := st.Settings[it.Name].target()
		var added []string
		for _, lib := range splitList(it.Value) {
			if !slices.Contains(splitList(have), lib) {
				added = append(added, lib)
			}
		}
		if err := checkLibraries(ctx, db, added, st); err != nil {
			return err
		}
		for _, lib := range added {
			var problem string
			switch st.Libraries[lib] {
			case LibraryPresent:
				continue
			case LibraryMissing:
				problem = fmt.Sprintf("%s is not in the server's pkglibdir (install its package first)", lib)
			case LibraryUnloadable:
				problem = fmt.Sprintf("the server cannot load %s (%s)", lib, st.LibraryErrors[lib])
			default:
				problem = fmt.Sprintf("could not check that the server can load %s (needs a superuser)", lib)
			}
			return &SettingError{Name: it.Name, Value: it.Value, Field: it.Field, Problem: problem + ", and the server would not start with it"}
		}
	}
	return nil
}

// undo reverts what the run changed after a failure (the server refused a
// value, a statement or the reload failed), and returns cause with what the
// revert did. Should the revert fail too, both
// errors are returned; the run's records still allow a later [Revert].
func undo(ctx context.Context, db store.DBTX, opts ApplyOptions, cause error) error {
	rr, err := Revert(ctx, db, opts.RunID, opts)
	if errors.Is(err, ErrRunNotFound) {
		// The failure came before the run recorded anything.
		return fmt.Errorf("%w; stopped there, before run %s had changed anything", cause, opts.RunID)
	}
	if err != nil {
		return errors.Join(cause, fmt.Errorf("revert run %s after the failure: %w", opts.RunID, err))
	}
	return fmt.Errorf("%w; stopped there and reverted the %d settings run %s had changed, so none of the plan stays applied",
		cause, len(rr.Reverted), opts.RunID)
}

// alterSystem runs one ALTER SYSTEM statement for setting name. The server
// refuses ALTER SYSTEM for a setting it does not know, which is the case
// for a preload library's setting until the library is loaded; a session
// placeholder (set_config, which only this session sees) makes it known,
// and the library validates the value when it loads.
func alterSystem(ctx context.Context, db store.DBTX, name, stmt string) error {
	_, err := db.Exec(ctx, stmt)
	var pgErr *pgconn.PgError
	if err == nil || allowList[name].library == "" || !errors.As(err, &pgErr) || pgErr.Code != "42704" {
		return err
	}
	if _, serr := db.Exec(ctx, `SELECT set_config($1, '', false)`, name); serr != nil {
		return err
	}
	_, err = db.Exec(ctx, stmt)
	return err
}

func countKept(p Plan) int {
	n := 0
	for _, it := range p.Items {
		if it.Action == ActionKeep {
			n++
		}
	}
	return n
}

// refused reports whether ALTER SYSTEM failed because of the setting or
// its value (the statement is fine, the server says no), with the
// server's message.
func refused(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "", false
	}
	switch pgErr.Code {
	case "22023", "22P02", "42704", "55P02":
		msg := pgErr.Message
		if pgErr.Detail != "" {
			msg += ": " + pgErr.Detail
		}
		return msg, true
	}
	return "", false
}

// reload asks the server to re-read its configuration and waits (up to
// timeout) until this session has re-read it too, so pg_settings and
// pending_restart reflect the new files.
func reload(ctx context.Context, db store.DBTX, timeout time.Duration) error {
	var before time.Time
	if err := db.QueryRow(ctx, `SELECT pg_conf_load_time()`).Scan(&before); err != nil {
		return fmt.Errorf("read pg_conf_load_time: %w", store.Translate(err))
	}
	if _, err := db.Exec(ctx, `SELECT pg_reload_conf()`); err != nil {
		return fmt.Errorf("pg_reload_conf: %w", store.Translate(err))
	}
	if timeout <= 0 {
		timeout = DefaultSettleTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var reloaded bool
		err := db.QueryRow(ctx, `SELECT pg_conf_load_time() > $1`, before).Scan(&reloaded)
		if err == nil && reloaded {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("wait for configuration reload: %w", store.Translate(err))
			}
			// Not seen in time; what follows reads the state as it is.
			return nil
		case <-tick.C:
		}
	}
}

// check reads the state of the plan's settings and compares.
func check(ctx context.Context, db store.DBTX, p Plan, restarted bool) (VerifyReport, ServerState, error) {
	names := make([]string, 0, len(p.Items))
	for _, it := range p.Items {
		names = append(names, it.Name)
	}
	st, err := ReadState(ctx, db, names, nil)
	if err != nil {
		return VerifyReport{}, st, err
	}
	return Check(p, st, restarted), st, nil
}

// Verify re-reads pg_settings and compares it with the plan's changed and
// kept settings. restarted says whether the server was restarted since
// the apply: then nothing may still wait for a restart. It reports; the
// caller decides whether mismatches fail the run.
func Verify(ctx context.Context, db store.DBTX, p Plan, restarted bool) (VerifyReport, error) {
	vr, _, err := check(ctx, db, p, restarted)
	return vr, err
}

// RevertReport says what a revert restored.
type RevertReport struct {
	RunID string `json:"run_id"`
	// Reverted lists the restored settings: Old is the value the run had
	// set, New the restored one ("(reset)" when the run's ALTER SYSTEM
	// entry was removed).
	Reverted []Change `json:"reverted"`
	// PendingRestart lists every setting waiting for a restart afterwards.
	PendingRestart []string `json:"pending_restart,omitempty"`
	Message        string   `json:"message"`
	// PostmasterStartTime after the revert (zero when there was nothing
	// to revert): a restart that makes the old values live moves it.
	PostmasterStartTime time.Time `json:"postmaster_start_time"`
}

// Revert restores the values a run recorded in ops.tuning_changes, newest
// first: ALTER SYSTEM RESET when postgresql.auto.conf did not set the
// parameter before, else ALTER SYSTEM SET to the recorded value. Then it
// reloads. Reverting twice is harmless: reverted rows are skipped, and so
// are failed ones (the server refused their change, so there is nothing
// to restore). A run with no change but refused ones, or none at all,
// never applied anything here: that is [ErrRunNotFound].
func Revert(ctx context.Context, db store.DBTX, runID string, opts ApplyOptions) (RevertReport, error) {
	log := opts.logger()
	rep := RevertReport{RunID: runID, Reverted: []Change{}}
	rows, err := store.ListTuningChanges(ctx, db, runID)
	if err != nil {
		return rep, err
	}
	// A failed row's ALTER SYSTEM was refused: nothing to restore, and its
	// status keeps the server's reason.
	rows = slices.DeleteFunc(rows, func(r store.TuningChange) bool { return r.Status == store.TuningFailed })
	if len(rows) == 0 {
		return rep, fmt.Errorf("run %s: %w: no change of that run is recorded in ops.tuning_changes on this server; give the run ID of a TuneWorkflow that applied settings here (starter tune --apply prints it)",
			runID, ErrRunNotFound)
	}
	rows = slices.DeleteFunc(rows, func(r store.TuningChange) bool { return r.Status == store.TuningReverted })
	if len(rows) == 0 {
		rep.Message = fmt.Sprintf("nothing to revert: run %s was already reverted", runID)
		return rep, nil
	}
	var allow *string
	if err := db.QueryRow(ctx, `SELECT (SELECT setting FROM pg_settings WHERE name = 'allow_alter_system')`).Scan(&allow); err != nil {
		return rep, fmt.Errorf("read allow_alter_system: %w", store.Translate(err))
	}
	if allow != nil && *allow != "on" {
		return rep, ErrAlterSystemDisabled
	}
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		if _, ok := allowList[r.Name]; !ok {
			return rep, fmt.Errorf("revert %s: not an allow-listed setting; ops.tuning_changes row %d was not written by this tool", r.Name, r.ID)
		}
		stmt, restored := ResetStatement(r.Name), "(reset)"
		if r.OldValue != nil {
			stmt, restored = AlterStatement(r.Name, *r.OldValue), *r.OldValue
		}
		if err := alterSystem(ctx, db, r.Name, stmt); err != nil {
			return rep, fmt.Errorf("%s: %w", stmt, store.Translate(err))
		}
		if err := store.SetTuningChangeStatus(ctx, db, r.ID, store.TuningReverted, ""); err != nil {
			return rep, err
		}
		log.InfoContext(ctx, "tune: setting reverted", slog.String("guc", r.Name), slog.String("restored", restored))
		rep.Reverted = append(rep.Reverted, Change{Name: r.Name, Old: r.NewValue, New: restored, Context: Context(r.Context), Source: Source(r.Source)})
	}
	if err := reload(ctx, db, opts.SettleTimeout); err != nil {
		return rep, err
	}
	st, err := ReadState(ctx, db, nil, nil)
	if err != nil {
		return rep, err
	}
	rep.PendingRestart = st.PendingRestart
	rep.PostmasterStartTime = st.PostmasterStartTime
	rep.Message = fmt.Sprintf("reverted %d settings of run %s; %d settings wait for a restart", len(rep.Reverted), runID, len(st.PendingRestart))
	return rep, nil
}

// ReadIdentity reads the server's system identifier (pg_control_system(),
// readable by every role) and port.
func ReadIdentity(ctx context.Context, db store.DBTX) (ServerIdentity, error) {
	var id ServerIdentity
	err := db.QueryRow(ctx, `SELECT system_identifier::text, current_setting('port')::int FROM pg_control_system()`).
		Scan(&id.SystemIdentifier, &id.Port)
	if err != nil {
		return id, fmt.Errorf("read the server's system identifier: %w", store.Translate(err))
	}
	return id, nil
}

// PostmasterStartTime returns pg_postmaster_start_time(): a restart moves
// it.
func PostmasterStartTime(ctx context.Context, db store.DBTX) (time.Time, error) {
	var t time.Time
	if err := db.QueryRow(ctx, `SELECT pg_postmaster_start_time()`).Scan(&t); err != nil {
		return t, fmt.Errorf("read pg_postmaster_start_time: %w", store.Translate(err))
	}
	return t, nil
}

// DataDirectory returns the server's data_directory (readable by
// superusers and pg_read_all_settings members).
func DataDirectory(ctx context.Context, db store.DBTX) (string, error) {
	var dir string
	if err := db.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dir); err != nil {
		return "", fmt.Errorf("read data_directory: %w", store.Translate(err))
	}
	return dir, nil
}

// ServerVersionNum returns server_version_num (150018 for 15.18).
func ServerVersionNum(ctx context.Context, db store.DBTX) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read server_version_num: %w", store.Translate(err))
	}
	return n, nil
}
