package pgext

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/opendiscourse/congressflow/internal/store"
)

// Outcome is what the installer found or did for one extension.
type Outcome string

// Outcomes, one per extension.
const (
	// OutcomeInstalled: CREATE EXTENSION ran; Version is the new version.
	OutcomeInstalled Outcome = "installed"
	// OutcomeAlreadyPresent: the extension was already in the database.
	OutcomeAlreadyPresent Outcome = "already_present"
	// OutcomeNeedsPreload: its library is not in shared_preload_libraries.
	// The tune stage adds it; after a restart the next run installs it.
	OutcomeNeedsPreload Outcome = "needs_preload"
	// OutcomeNotAvailable: the server lacks it; Package says what to
	// install (empty when the server version has no such extension).
	OutcomeNotAvailable Outcome = "not_available"
	// OutcomeNotPermitted: the role lacks a privilege; Privilege names it.
	OutcomeNotPermitted Outcome = "not_permitted"
	// OutcomeFailed: the server refused for another reason; Detail holds
	// its error.
	OutcomeFailed Outcome = "failed"
	// OutcomeInstallable: check-only mode found nothing in the way; a real
	// run would install it.
	OutcomeInstallable Outcome = "installable"
)

// Privileges named in [Result.Privilege].
const (
	PrivilegeSuperuser = "superuser"
	// PrivilegeCreateOnDatabase is followed by the quoted database name.
	PrivilegeCreateOnDatabase = "CREATE on database"
)

// Result is the outcome for one extension.
type Result struct {
	Name     string   `json:"name"`
	Category Category `json:"category"`
	Outcome  Outcome  `json:"outcome"`
	// Version is the installed version (installed, already_present).
	Version string `json:"version,omitempty"`
	// Detail explains the outcome in one sentence an operator can act on.
	Detail string `json:"detail,omitempty"`
	// Package is the OS package to install (not_available).
	Package string `json:"package,omitempty"`
	// Privilege is the privilege the role lacks (not_permitted).
	Privilege string `json:"privilege,omitempty"`
	// Preload is the library that must be preloaded (needs_preload).
	Preload string `json:"preload,omitempty"`
}

// Counts tallies results by outcome.
type Counts struct {
	Installed      int `json:"installed"`
	AlreadyPresent int `json:"already_present"`
	NeedsPreload   int `json:"needs_preload"`
	NotAvailable   int `json:"not_available"`
	NotPermitted   int `json:"not_permitted"`
	Failed         int `json:"failed"`
	Installable    int `json:"installable"`
}

// CountOutcomes tallies rs by outcome.
func CountOutcomes(rs []Result) Counts {
	var c Counts
	for _, r := range rs {
		switch r.Outcome {
		case OutcomeInstalled:
			c.Installed++
		case OutcomeAlreadyPresent:
			c.AlreadyPresent++
		case OutcomeNeedsPreload:
			c.NeedsPreload++
		case OutcomeNotAvailable:
			c.NotAvailable++
		case OutcomeNotPermitted:
			c.NotPermitted++
		case OutcomeFailed:
			c.Failed++
		case OutcomeInstallable:
			c.Installable++
		}
	}
	return c
}

// Server is what the installer learned about the server and the session
// before deciding anything.
type Server struct {
	// VersionNum is server_version_num (150018); Major is 15.
	VersionNum int    `json:"version_num"`
	Major      int    `json:"major"`
	Database   string `json:"database"`
	Role       string `json:"role"`
	Superuser  bool   `json:"superuser"`
	// CreateOnDatabase reports CREATE privilege on Database.
	CreateOnDatabase bool `json:"create_on_database"`
	// PreloadKnown is false when the role may not read
	// shared_preload_libraries; preload checks are then skipped.
	PreloadKnown bool `json:"preload_known"`
	// Preloaded are the libraries loaded at server start.
	Preloaded []string `json:"preloaded,omitempty"`
	// PreloadPendingRestart reports a shared_preload_libraries change
	// waiting for a restart.
	PreloadPendingRestart bool `json:"preload_pending_restart"`
}

// Report is the outcome of [Catalog.Install].
type Report struct {
	Server  Server   `json:"server"`
	Results []Result `json:"results"`
	Counts  Counts   `json:"counts"`
	// PreloadNeeded lists the libraries the needs_preload outcomes wait
	// for, in catalog order.
	PreloadNeeded []string `json:"preload_needed,omitempty"`
}

// DB is what the installer needs from a connection: a pool, a pooled
// connection or a single connection (not a transaction: one failed CREATE
// must not abort the rest).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// InstallOptions select what [Catalog.Install] installs.
type InstallOptions struct {
	// Profile and Names select extensions as in [Catalog.Resolve].
	Profile string
	Names   []string
	// CheckOnly reports outcomes without creating anything; what would be
	// created reports [OutcomeInstallable].
	CheckOnly bool
	// Logger receives one line per extension. Nil discards.
	Logger *slog.Logger
	// OnResult, when set, is called after each extension's outcome is
	// known (to heartbeat, for example).
	OnResult func(Result)
}

const (
	probeSessionSQL = `
SELECT current_setting('server_version_num')::int,
       current_database(),
       current_user,
       coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false),
       has_database_privilege(current_database(), 'CREATE')`

	// pg_settings hides superuser-only settings from other roles, so no row
	// means "unknown".
	probePreloadSQL = `
SELECT setting, pending_restart FROM pg_catalog.pg_settings WHERE name = 'shared_preload_libraries'`

	availableSQL = `
SELECT a.name, coalesce(v.superuser, true), coalesce(v.trusted, false)
FROM pg_catalog.pg_available_extensions a
LEFT JOIN pg_catalog.pg_available_extension_versions v ON v.name = a.name AND v.version = a.default_version
WHERE a.name = ANY($1)`

	installedSQL = `SELECT extname, extversion FROM pg_catalog.pg_extension WHERE extname = ANY($1)`
)

type available struct {
	superuser bool // creating it needs superuser, unless trusted
	trusted   bool
}

// Install installs the extensions selected by opts into db's database, in
// catalog order, and reports one [Result] per extension. It is idempotent:
// a second run reports already_present for what the first installed.
//
// It returns an error only when the request is invalid ([*RequestError]),
// the server cannot be probed, the connection is lost (check with
// [store.Retryable]) or ctx ends. Any one extension's failure is its
// outcome and does not stop the others.
func (c Catalog) Install(ctx context.Context, db DB, opts InstallOptions) (Report, error) {
	c = c.orDefault()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Reject unknown names before touching the server.
	if _, err := c.Resolve(opts.Profile, opts.Names, 0); err != nil {
		return Report{}, err
	}
	srv, err := probeServer(ctx, db)
	if err != nil {
		return Report{}, err
	}
	exts, err := c.Resolve(opts.Profile, opts.Names, srv.Major)
	if err != nil {
		return Report{}, err
	}
	names := make([]string, len(exts))
	for i, e := range exts {
		names[i] = e.Name
	}
	avail, err := probeAvailable(ctx, db, names)
	if err != nil {
		return Report{}, err
	}
	installed, err := probeInstalled(ctx, db, names)
	if err != nil {
		return Report{}, err
	}

	// Every selected extension gets an outcome. The recommended profile's
	// third-party members (pg_cron) are optional: the server may well lack
	// their package, and their outcome says so without alarm.
	rep := Report{Server: srv}
	optional := c.optionalUnavailable(opts, avail)
	done := make(map[string]Result, len(exts))
	for _, e := range exts {
		r := decide(e, srv, avail, installed, done)
		if r.Outcome == OutcomeNotAvailable && slices.Contains(optional, e.Name) {
			r.Detail = "optional member of the recommended profile; " + r.Detail
		}
		if r.Outcome == OutcomeInstallable && !opts.CheckOnly {
			if r, err = create(ctx, db, e, srv); err != nil {
				return rep, err
			}
		}
		done[e.Name] = r
		rep.Results = append(rep.Results, r)
		if r.Outcome == OutcomeNeedsPreload && r.Preload != "" && !slices.Contains(rep.PreloadNeeded, r.Preload) {
			rep.PreloadNeeded = append(rep.PreloadNeeded, r.Preload)
		}
		lvl := slog.LevelInfo
		if r.Outcome == OutcomeFailed {
			lvl = slog.LevelWarn
		}
		log.LogAttrs(ctx, lvl, "extensions: outcome",
			slog.String("extension", r.Name), slog.String("outcome", string(r.Outcome)),
			slog.String("version", r.Version), slog.String("detail", r.Detail))
		if opts.OnResult != nil {
			opts.OnResult(r)
		}
	}
	rep.Counts = CountOutcomes(rep.Results)
	return rep, nil
}

// optionalUnavailable returns the recommended profile's third-party
// members that the server lacks and that were not asked for by name.
func (c Catalog) optionalUnavailable(opts InstallOptions, avail map[string]available) []string {
	profile := strings.ToLower(strings.TrimSpace(opts.Profile))
	if profile != ProfileRecommended && (profile != "" || len(opts.Names) > 0) {
		return nil
	}
	var out []string
	for _, name := range c.recommended {
		e, ok := c.Lookup(name)
		if !ok || e.Package == "contrib" || slices.Contains(opts.Names, name) {
			continue
		}
		if _, ok := avail[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

func probeServer(ctx context.Context, db DB) (Server, error) {
	var s Server
	err := db.QueryRow(ctx, probeSessionSQL).Scan(&s.VersionNum, &s.Database, &s.Role, &s.Superuser, &s.CreateOnDatabase)
	if err != nil {
		return s, fmt.Errorf("probe server version and role: %w", store.Translate(err))
	}
	s.Major = s.VersionNum / 10000
	var setting *string
	err = db.QueryRow(ctx, probePreloadSQL).Scan(&setting, &s.PreloadPendingRestart)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return s, fmt.Errorf("read shared_preload_libraries: %w", store.Translate(err))
	case setting != nil:
		s.PreloadKnown = true
		s.Preloaded = ParsePreloadList(*setting)
	}
	return s, nil
}

func probeAvailable(ctx context.Context, db DB, names []string) (map[string]available, error) {
	rows, err := db.Query(ctx, availableSQL, names)
	if err != nil {
		return nil, fmt.Errorf("read pg_available_extensions: %w", store.Translate(err))
	}
	out := map[string]available{}
	var name string
	var a available
	_, err = pgx.ForEachRow(rows, []any{&name, &a.superuser, &a.trusted}, func() error {
		out[name] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read pg_available_extensions: %w", store.Translate(err))
	}
	return out, nil
}

func probeInstalled(ctx context.Context, db DB, names []string) (map[string]string, error) {
	rows, err := db.Query(ctx, installedSQL, names)
	if err != nil {
		return nil, fmt.Errorf("read pg_extension: %w", store.Translate(err))
	}
	out := map[string]string{}
	var name, version string
	_, err = pgx.ForEachRow(rows, []any{&name, &version}, func() error {
		out[name] = version
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read pg_extension: %w", store.Translate(err))
	}
	return out, nil
}

// decide works out an extension's outcome from what the server said,
// without changing anything. It returns [OutcomeInstallable] when nothing
// stands in the way. done holds the outcomes of the extensions before it.
func decide(e Extension, srv Server, avail map[string]available, installed map[string]string, done map[string]Result) Result {
	r := Result{Name: e.Name, Category: e.Category}
	loaded := e.Preload == "" || !srv.PreloadKnown || slices.Contains(srv.Preloaded, e.Preload)

	if v, ok := installed[e.Name]; ok {
		r.Outcome, r.Version = OutcomeAlreadyPresent, v
		if !loaded {
			r.Detail = fmt.Sprintf("installed, but library %s is not in shared_preload_libraries, so it does not work until the tune stage adds it and PostgreSQL restarts", e.Preload)
		}
		return r
	}
	if note := e.versionNote(srv.Major); note != "" {
		r.Outcome, r.Detail = OutcomeNotAvailable, note
		return r
	}
	a, ok := avail[e.Name]
	if !ok {
		return notAvailable(r, e, srv.Major)
	}
	for _, req := range e.Requires {
		dep, ok := done[req]
		if !ok || dep.Outcome == OutcomeInstalled || dep.Outcome == OutcomeAlreadyPresent || dep.Outcome == OutcomeInstallable {
			continue
		}
		r.Outcome, r.Package, r.Privilege, r.Preload = dep.Outcome, dep.Package, dep.Privilege, dep.Preload
		r.Detail = fmt.Sprintf("requires %s (%s): %s", req, dep.Outcome, dep.Detail)
		return r
	}
	if !srv.Superuser && a.superuser {
		switch {
		case !a.trusted:
			r.Outcome, r.Privilege = OutcomeNotPermitted, PrivilegeSuperuser
			r.Detail = fmt.Sprintf("%s is not trusted: only a superuser may create it (role %s is not one)", e.Name, srv.Role)
		case !srv.CreateOnDatabase:
			r.Outcome, r.Privilege = OutcomeNotPermitted, createOnDatabase(srv.Database)
			r.Detail = fmt.Sprintf("role %s lacks CREATE on database %s: GRANT CREATE ON DATABASE %s TO %s",
				srv.Role, srv.Database, pgx.Identifier{srv.Database}.Sanitize(), pgx.Identifier{srv.Role}.Sanitize())
		}
		if r.Outcome != "" {
			if !loaded {
				r.Detail += fmt.Sprintf("; it also needs %s in shared_preload_libraries", e.Preload)
			}
			return r
		}
	}
	if !loaded {
		r.Outcome, r.Preload = OutcomeNeedsPreload, e.Preload
		r.Detail = fmt.Sprintf("library %s is not in shared_preload_libraries: apply the tune stage with a restart, which adds it "+
			`(pipeline input {"tune":{"apply":true,"restart_policy":"command"}} does both and then creates the extension)`, e.Preload)
		if srv.PreloadPendingRestart {
			r.Detail = fmt.Sprintf("library %s is not loaded; a shared_preload_libraries change is waiting for a restart: restart PostgreSQL, then run this stage again", e.Preload)
		}
		return r
	}
	r.Outcome = OutcomeInstallable
	return r
}

func notAvailable(r Result, e Extension, major int) Result {
	r.Outcome, r.Package = OutcomeNotAvailable, e.PackageFor(major)
	from := ""
	switch e.Repository {
	case RepoPGDG:
		from = " from apt.postgresql.org"
	case RepoTimescale:
		from = " from Timescale's package repository"
	}
	r.Detail = fmt.Sprintf("not in pg_available_extensions: install package %s%s on the database server", r.Package, from)
	return r
}

func createOnDatabase(db string) string {
	return PrivilegeCreateOnDatabase + " " + pgx.Identifier{db}.Sanitize()
}

// create runs CREATE EXTENSION and turns a server error into an outcome. It
// returns an error only when the connection is lost or ctx ends.
func create(ctx context.Context, db DB, e Extension, srv Server) (Result, error) {
	r := Result{Name: e.Name, Category: e.Category}
	_, err := db.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+pgx.Identifier{e.Name}.Sanitize()+" CASCADE")
	if err == nil {
		err = db.QueryRow(ctx, `SELECT extversion FROM pg_catalog.pg_extension WHERE extname = $1`, e.Name).Scan(&r.Version)
		if err == nil {
			r.Outcome = OutcomeInstalled
			return r, nil
		}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return r, fmt.Errorf("create extension %s: %w", e.Name, ctxErr)
	}
	if store.Retryable(err) {
		return r, fmt.Errorf("create extension %s: %w", e.Name, store.Translate(err))
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		r.Outcome, r.Detail = OutcomeFailed, err.Error()
		return r, nil
	}
	msg := serverMessage(pgErr)
	switch {
	case pgErr.Code == "42501":
		r.Outcome, r.Detail = OutcomeNotPermitted, msg
		r.Privilege = PrivilegeSuperuser
		if strings.Contains(pgErr.Hint, "CREATE privilege") {
			r.Privilege = createOnDatabase(srv.Database)
		}
	case pgErr.Code == "23505":
		// Another session created it between our check and our CREATE.
		if verr := db.QueryRow(ctx, `SELECT extversion FROM pg_catalog.pg_extension WHERE extname = $1`, e.Name).Scan(&r.Version); verr == nil {
			r.Outcome = OutcomeAlreadyPresent
			return r, nil
		}
		r.Outcome, r.Detail = OutcomeFailed, msg
	case pgErr.Code == "58P01":
		r = notAvailable(r, e, srv.Major)
		r.Detail += " (" + msg + ")"
	case strings.Contains(msg, "shared_preload_libraries"):
		r.Outcome, r.Detail = OutcomeNeedsPreload, msg
		r.Preload = cmp.Or(e.Preload, e.Name)
	default:
		r.Outcome, r.Detail = OutcomeFailed, msg
	}
	return r, nil
}

func serverMessage(e *pgconn.PgError) string {
	msg := e.Message
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg + " [SQLSTATE " + e.Code + "]"
}
