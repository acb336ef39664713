package pgtune

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far (relative to the target) a numeric value may be
// from the recommendation and still be left alone, so that re-running the
// tuner does not churn values that are close enough.
const Tolerance = 0.05

// Action says what the plan does with one setting.
type Action string

// Actions of a plan item.
const (
	ActionChange Action = "change" // ALTER SYSTEM SET it
	ActionKeep   Action = "keep"   // already set (within the tolerance)
	ActionSkip   Action = "skip"   // cannot be set now; Note says why
)

// Hardware sources: where the memory and CPU figures came from.
const (
	HardwareProbe = "probe" // probed on the worker host, which runs the database
	HardwareInput = "input" // given in the input
	HardwareMixed = "input+probe"
	// HardwareConfig: the worker's configuration (PG_HOST_MEMORY,
	// PG_HOST_CPUS), for a database on another host.
	HardwareConfig = "config"
)

// Hardware is what the recommendation was computed for.
type Hardware struct {
	MemoryBytes uint64 `json:"memory_bytes"`
	// Memory is MemoryBytes for people ("23.46GB").
	Memory string `json:"memory"`
	// CPUs; 0 when unknown.
	CPUs int `json:"cpus"`
	// Source is HardwareProbe, HardwareInput or HardwareMixed.
	Source string `json:"source"`
}

// LibraryStatus says whether a preload library is on the server and loads.
type LibraryStatus string

// Library statuses.
const (
	// LibraryPresent: its file is in pkglibdir and LOAD loaded it (or its
	// own code said it must be loaded through shared_preload_libraries).
	LibraryPresent LibraryStatus = "present"
	// LibraryMissing: no such file in pkglibdir; preloading it would stop
	// the server.
	LibraryMissing LibraryStatus = "missing"
	// LibraryUnloadable: the file is there but LOAD failed (not a
	// library, built for another server, a failing initializer);
	// preloading it would stop the server. ServerState.LibraryErrors says
	// why.
	LibraryUnloadable LibraryStatus = "unloadable"
	// LibraryUnknown: could not be checked (privilege).
	LibraryUnknown LibraryStatus = "unknown"
)

// Current is what the server runs and has configured for one setting, as
// seen from a session without per-session settings.
type Current struct {
	Name string `json:"name"`
	// Setting and Unit are pg_settings.setting and unit: the running value.
	Setting string `json:"setting"`
	Unit    string `json:"unit,omitempty"`
	// Display is the running value as SHOW prints it ("128MB").
	Display string `json:"display"`
	// Context is pg_settings.context (postmaster, sighup, user, ...).
	Context string `json:"context"`
	// Source is pg_settings.source (default, configuration file, ...).
	Source string `json:"source"`
	// PendingRestart is pg_settings.pending_restart.
	PendingRestart bool `json:"pending_restart,omitempty"`
	// Configured is the value the configuration files set last (what a
	// reload or restart makes live); HasConfigured is false when no file
	// sets it.
	Configured    string `json:"configured,omitempty"`
	HasConfigured bool   `json:"has_configured,omitempty"`
	// Placeholder is true for a setting of a preload library that is not
	// loaded yet: the server holds its value as an untyped placeholder
	// (or only the configuration files name it).
	Placeholder bool `json:"placeholder,omitempty"`
	// ConfiguredError is pg_file_settings.error for that entry.
	ConfiguredError string `json:"configured_error,omitempty"`
	// AutoConf is the value in postgresql.auto.conf (what ALTER SYSTEM
	// wrote); InAutoConf is false when the file does not set it.
	AutoConf   string `json:"auto_conf,omitempty"`
	InAutoConf bool   `json:"in_auto_conf,omitempty"`
	// VarType is pg_settings.vartype (bool, enum, integer, real, string).
	VarType string `json:"vartype,omitempty"`
	// MinVal and MaxVal are pg_settings.min_val and max_val, in Unit;
	// EnumVals is pg_settings.enumvals. They bound what the server
	// accepts; [PlanFor] and [Apply] check planned values against them.
	MinVal   string   `json:"min_val,omitempty"`
	MaxVal   string   `json:"max_val,omitempty"`
	EnumVals []string `json:"enumvals,omitempty"`
}

// target is the value a change is compared with: the configured one when a
// file sets it (it is what will be live), else the running one.
func (c Current) target() (value, unit string) {
	if c.HasConfigured {
		return c.Configured, c.Unit
	}
	return c.Setting, c.Unit
}

// rejected reports whether the server refused the configured value.
// "setting could not be applied" is how PostgreSQL marks a value that
// waits for a restart; that is not a rejection.
func (c Current) rejected() bool {
	return c.ConfiguredError != "" && !c.PendingRestart
}

// ServerState is what [ReadState] learns from the server.
type ServerState struct {
	// Server names it for people: user@host:port/db.
	Server string `json:"server"`
	// Database is current_database() of the session that read the state:
	// the database being tuned for.
	Database string `json:"database,omitempty"`
	// Version is the major version, VersionNum server_version_num.
	Version    int `json:"version"`
	VersionNum int `json:"version_num"`
	// Settings known to the server, by name; a name the server does not
	// know is absent.
	Settings map[string]Current `json:"settings"`
	// PendingRestart lists every setting waiting for a restart, ours or
	// not.
	PendingRestart []string `json:"pending_restart,omitempty"`
	// AllowAlterSystem is allow_alter_system (PG 17+); true before 17.
	AllowAlterSystem bool `json:"allow_alter_system"`
	// Superuser is true when the session's role is a superuser.
	Superuser bool `json:"superuser"`
	// NoAlterPrivilege lists allow-listed settings the role may not ALTER
	// SYSTEM (only filled for non-superusers).
	NoAlterPrivilege []string `json:"no_alter_privilege,omitempty"`
	// FileSettingsReadable is false when pg_file_settings was not
	// readable (it needs a superuser or pg_read_all_settings).
	FileSettingsReadable bool `json:"file_settings_readable"`
	// Libraries says, for each library asked about, whether its file is in
	// the server's pkglibdir and loads.
	Libraries map[string]LibraryStatus `json:"libraries,omitempty"`
	// LibraryErrors holds the server's error for each unloadable library.
	LibraryErrors map[string]string `json:"library_errors,omitempty"`
	// PostmasterStartTime is pg_postmaster_start_time().
	PostmasterStartTime time.Time `json:"postmaster_start_time"`
	// Identity is the server's system identifier and port.
	Identity ServerIdentity `json:"identity"`
}

// Item is one setting of a plan: the recommendation, what the server has,
// and what the plan does about it.
type Item struct {
	Setting
	// Current is the running value as SHOW prints it; empty when the
	// server does not know the setting.
	Current string `json:"current"`
	// Pending is a configured value that is not live yet (it waits for a
	// restart).
	Pending string `json:"pending,omitempty"`
	// Action is change, keep or skip.
	Action Action `json:"action"`
	// Note explains a keep or skip, or what a change leaves out.
	Note string `json:"note,omitempty"`
}

// ServerIdentity tells one PostgreSQL server from another without its
// credentials: the system identifier initdb gave the cluster
// (pg_control_system()) and the port it listens on, which tells apart the
// copies of one cluster running on one host.
type ServerIdentity struct {
	SystemIdentifier string `json:"system_identifier"`
	Port             int    `json:"port"`
}

// String is "system identifier 7312..., port 5432".
func (id ServerIdentity) String() string {
	return fmt.Sprintf("system identifier %s, port %d", id.SystemIdentifier, id.Port)
}

// Plan is what the tuner would do, setting by setting.
type Plan struct {
	// Server names the database server.
	Server string `json:"server,omitempty"`
	// Identity is the server's identity (system identifier and port):
	// changes to one server are applied one run at a time, under a lock
	// named after it.
	Identity ServerIdentity `json:"identity"`
	// PGVersion is the major version tuned for; ServerVersion the
	// server's own.
	PGVersion     int `json:"pg_version"`
	ServerVersion int `json:"server_version,omitempty"`
	// Hardware the recommendation was computed for, and its source.
	Hardware Hardware `json:"hardware"`
	// Input is the recommender's resolved input.
	Input Input `json:"input"`
	// Items in recommendation order.
	Items []Item `json:"items"`
	// Statements are the SQL statements apply runs, in order.
	Statements []string `json:"statements"`
	// Changes counts items with ActionChange; RestartChanges those among
	// them that need a restart.
	Changes        int `json:"changes"`
	RestartChanges int `json:"restart_changes"`
	// Blocked, when set, says why nothing can be applied.
	Blocked string `json:"blocked,omitempty"`
	// Warnings from the recommender and the comparison.
	Warnings []string `json:"warnings,omitempty"`
	// PostmasterStartTime when the plan was made.
	PostmasterStartTime time.Time `json:"postmaster_start_time"`
}

// Get returns the plan item for a setting.
func (p Plan) Get(name string) (Item, bool) {
	i := slices.IndexFunc(p.Items, func(it Item) bool { return it.Name == name })
	if i < 0 {
		return Item{}, false
	}
	return p.Items[i], true
}

// PendingRestart lists, in plan order, the settings configured already
// (in postgresql.auto.conf) whose value is not live yet: they wait for a
// restart.
func (p Plan) PendingRestart() []string {
	var names []string
	for _, it := range p.Items {
		if it.Pending != "" {
			names = append(names, it.Name)
		}
	}
	return names
}

// BuildPlan compares a recommendation with the server's state and decides
// each setting: change it, keep it (already within [Tolerance]) or skip it
// (the server does not know it, a library it needs is missing, or the
// server was built without the recommended enum value). When pg_cron goes
// into shared_preload_libraries it also sets cron.database_name to the
// database being tuned (st.Database). It does no I/O, and it does not
// check values against the server's ranges: [PlanFor] and [Apply] do.
func BuildPlan(rec Recommendation, st ServerState, hw Hardware) Plan {
	p := Plan{
		Server:              st.Server,
		Identity:            st.Identity,
		PGVersion:           rec.Input.PGVersion,
		ServerVersion:       st.Version,
		Hardware:            hw,
		Input:               rec.Input,
		Warnings:            slices.Clone(rec.Warnings),
		PostmasterStartTime: st.PostmasterStartTime,
	}
	if st.Version != 0 && st.Version != rec.Input.PGVersion {
		p.Warnings = append(p.Warnings, fmt.Sprintf("tuned for PostgreSQL %d but the server runs %d", rec.Input.PGVersion, st.Version))
	}
	// The libraries shared_preload_libraries will list: a setting defined
	// by one of them can be planned before the library is loaded.
	finalLibs := map[string]bool{}
	for _, s := range rec.Settings {
		if allowList[s.Name].kind == kindList {
			it := Item{Setting: s}
			planList(&it, st.Settings[s.Name], st)
			for _, l := range splitList(it.Value) {
				finalLibs[l] = true
			}
		}
	}
	settings := rec.Settings
	if s, ok := cronDatabase(rec, finalLibs, st.Database); ok {
		settings = append(slices.Clone(settings), s)
	}
	for _, s := range settings {
		it := Item{Setting: s}
		cur, known := st.Settings[s.Name]
		sp := allowList[s.Name]
		libraryPending := sp.library != "" && (!known || cur.Placeholder)
		switch {
		case libraryPending && !finalLibs[sp.library]:
			it.Action = ActionSkip
			it.Note = fmt.Sprintf("needs %s in shared_preload_libraries, which cannot list it (see there)", sp.library)
		case libraryPending:
			// Set now (through a placeholder), live once the library
			// loads at the restart.
			it.Current, it.Context = cur.Display, ContextRestart
			note := fmt.Sprintf("takes effect when %s loads at the restart", sp.library)
			if same, err := sameValue(sp, s.Value, cur.Configured, ""); err == nil && same && cur.HasConfigured {
				it.Action, it.Pending, it.Note = ActionKeep, cur.Configured, "already configured; "+note
			} else {
				it.Action, it.Note = ActionChange, note
			}
		case !known:
			it.Action = ActionSkip
			it.Note = fmt.Sprintf("PostgreSQL %d does not know this setting", st.Version)
		default:
			it.Current = cur.Display
			if cur.Context == "postmaster" {
				it.Context = ContextRestart
			} else {
				it.Context = ContextReload
			}
			if cur.HasConfigured && cur.PendingRestart {
				it.Pending = cur.Configured
			}
			same, err := closeEnough(s.Name, s.Value, cur)
			switch {
			case sp.kind == kindList:
				planList(&it, cur, st)
			case err != nil:
				it.Action, it.Note = ActionChange, fmt.Sprintf("current value unreadable (%v)", err)
			case same:
				it.Action = ActionKeep
				it.Note = keepNote(s.Value, cur)
			case sp.kind == kindEnum && s.Field == "" && !cur.offers(s.Value):
				// A recommendation the server was built without (lz4,
				// io_uring): leave the setting as it is. An override
				// asking for it fails in checkValues instead.
				it.Action = ActionSkip
				it.Note = fmt.Sprintf("this server does not offer %s (built without it; it offers %s)", s.Value, strings.Join(cur.EnumVals, ", "))
			default:
				it.Action = ActionChange
			}
		}
		if it.Action == ActionChange {
			p.Changes++
			if it.Context == ContextRestart {
				p.RestartChanges++
			}
			p.Statements = append(p.Statements, AlterStatement(it.Name, it.Value))
		}
		p.Items = append(p.Items, it)
	}
	if p.Changes > 0 {
		p.Statements = append(p.Statements, "SELECT pg_reload_conf()")
	}
	switch {
	case !st.AllowAlterSystem:
		p.Blocked = "allow_alter_system is off on this server: ALTER SYSTEM is disabled, so nothing is changed; put the values in postgresql.conf or turn allow_alter_system on"
	case !st.Superuser && len(st.NoAlterPrivilege) > 0 && p.Changes > 0:
		p.Blocked = fmt.Sprintf("the role may not ALTER SYSTEM %s: connect as a superuser or GRANT ALTER SYSTEM ON PARAMETER to it", strings.Join(st.NoAlterPrivilege, ", "))
	case !st.FileSettingsReadable && p.Changes > 0:
		p.Blocked = "pg_file_settings is not readable, so old values cannot be recorded for a revert: connect as a superuser"
	}
	return p
}

// cronDatabase is cron.database_name set to the database being tuned, when
// the recommendation asks for pg_cron and shared_preload_libraries will
// list it (finalLibs): pg_cron's worker runs jobs from that one database,
// and CREATE EXTENSION pg_cron succeeds only there. A cron.database_name
// the input sets explicitly is left to the input.
func cronDatabase(rec Recommendation, finalLibs map[string]bool, database string) (Setting, bool) {
	spl, ok := rec.Get("shared_preload_libraries")
	if !ok || database == "" || !finalLibs[cronLibrary] || !slices.Contains(splitList(spl.Value), cronLibrary) {
		return Setting{}, false
	}
	if _, set := rec.Get("cron.database_name"); set {
		return Setting{}, false
	}
	return finish(Setting{
		Name: "cron.database_name", Value: database, Source: SourceIngest,
		Reason: "pg_cron runs its jobs from this one database, and CREATE EXTENSION pg_cron works only there: point it at the ingest database (pg_cron README)",
	}, rec.Input.PGVersion), true
}

// planList plans shared_preload_libraries: the libraries already listed
// stay, in their order; wanted ones are appended when their file is on the
// server and loads. A library that is missing, does not load or cannot be
// checked is left out, because the server refuses to start with one that
// does not load.
func planList(it *Item, cur Current, st ServerState) {
	libs := st.Libraries
	value, _ := cur.target()
	have := splitList(value)
	merged := slices.Clone(have)
	var notes []string
	for _, lib := range splitList(it.Value) {
		if slices.Contains(have, lib) {
			continue
		}
		switch libs[lib] {
		case LibraryPresent:
			merged = append(merged, lib)
		case LibraryMissing:
			notes = append(notes, fmt.Sprintf("left out %s: its file is not in the server's pkglibdir (install its package first)", lib))
		case LibraryUnloadable:
			notes = append(notes, fmt.Sprintf("left out %s: the server cannot load it (%s)", lib, st.LibraryErrors[lib]))
		default:
			notes = append(notes, fmt.Sprintf("left out %s: could not check the server's pkglibdir for it (needs a superuser)", lib))
		}
	}
	it.Value = joinList(merged)
	it.Note = strings.Join(notes, "; ")
	if len(merged) == len(have) {
		it.Action = ActionKeep
		if it.Note == "" {
			it.Note = keepNote(it.Value, cur)
		}
		return
	}
	it.Action = ActionChange
}

func keepNote(value string, cur Current) string {
	if cur.PendingRestart {
		return "already configured; waits for a restart"
	}
	if t, _ := cur.target(); t != value && cur.Display != value {
		return "within 5% of the target"
	}
	return "already set"
}

// closeEnough reports whether the server's value for an allow-listed
// setting is within [Tolerance] of value (numbers) or equal to it.
func closeEnough(name, value string, cur Current) (bool, error) {
	have, unit := cur.target()
	return sameValue(allowList[name], value, have, unit)
}

// sameValue compares a wanted value with a value the server reports (in
// gucUnit when it has no unit of its own).
func sameValue(sp spec, want, have, gucUnit string) (bool, error) {
	switch sp.kind {
	case kindInt, kindReal, kindMemory, kindTime:
		w, err := parseQuantity(want, sp.kind, sp.unit)
		if err != nil {
			return false, err
		}
		h, err := parseQuantity(have, sp.kind, cmp.Or(gucUnit, sp.unit))
		if err != nil {
			return false, err
		}
		if w == h {
			return true, nil
		}
		if w == 0 || w < 0 || h < 0 {
			return false, nil
		}
		return math.Abs(w-h)/w <= Tolerance, nil
	case kindBool:
		return normalBool(want) == normalBool(have), nil
	case kindList:
		haveItems := splitList(have)
		for _, w := range splitList(want) {
			if !slices.Contains(haveItems, w) {
				return false, nil
			}
		}
		return true, nil
	case kindName:
		// Database names are case-sensitive.
		return want == have, nil
	default:
		return strings.EqualFold(strings.TrimSpace(want), strings.TrimSpace(have)), nil
	}
}

// offers reports whether an enum setting's pg_settings.enumvals has value
// (when the server reported them).
func (c Current) offers(value string) bool {
	return len(c.EnumVals) == 0 || slices.ContainsFunc(c.EnumVals, func(e string) bool { return strings.EqualFold(e, value) })
}

// accepts reports whether the server takes value for the setting, judged
// by pg_settings alone, and says why not: a number must lie within
// min_val and max_val once converted to the setting's unit (and, for an
// integer, rounded as the server rounds it); an enum value must be among
// enumvals. Check hooks and limits across settings are beyond it; ALTER
// SYSTEM has the last word.
func (c Current) accepts(value string) (bool, string) {
	switch c.VarType {
	case "integer", "real":
		lo, err1 := strconv.ParseFloat(c.MinVal, 64)
		hi, err2 := strconv.ParseFloat(c.MaxVal, 64)
		if err1 != nil || err2 != nil {
			return true, ""
		}
		v, err := inUnit(value, allowList[c.Name].kind, c.Unit)
		if err != nil {
			return false, err.Error()
		}
		if c.VarType == "integer" {
			v = math.RoundToEven(v)
		}
		if v >= lo && v <= hi {
			return true, ""
		}
		why := fmt.Sprintf("outside the range this server accepts, %s to %s", c.MinVal, c.MaxVal)
		if c.Unit != "" {
			why += " in units of " + c.Unit
			if unitOf(value) != "" {
				why += fmt.Sprintf(" (%s is %s)", value, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		return false, why
	case "enum":
		if c.offers(value) {
			return true, ""
		}
		return false, fmt.Sprintf("not a value this server accepts (it accepts %s)", strings.Join(c.EnumVals, ", "))
	}
	return true, ""
}

// SettingError is a value the server does not accept for a setting: outside
// pg_settings' range or enum values (found before anything is changed), or
// refused by ALTER SYSTEM. It matches [ErrInvalidInput]: the same value
// fails on every attempt.
type SettingError struct {
	// Name and Value are the setting and the value it does not accept.
	Name, Value string
	// Field is the input field that asked for the value, such as
	// "overrides[2]"; empty for a recommended value.
	Field string
	// Problem says what the server accepts, or what it said.
	Problem string
}

func (e *SettingError) Error() string {
	msg := e.Name + " = " + e.Value + ": " + e.Problem
	if e.Field != "" {
		return e.Field + ": " + msg + "; change or drop the override"
	}
	return msg + "; the value is recommended for the hardware and input (check memory, cpus and max_connections)"
}

// Is makes every SettingError match [ErrInvalidInput].
func (e *SettingError) Is(target error) bool { return target == ErrInvalidInput }

// checkValues checks every value the items change against what the server
// accepts (see Current.accepts) and returns a [SettingError] for each one
// it refuses, joined. A library setting the server does not know yet is
// not checked: the library validates it when it loads.
func checkValues(items []Item, st ServerState) error {
	var errs []error
	for _, it := range items {
		if it.Action != ActionChange {
			continue
		}
		cur, ok := st.Settings[it.Name]
		if !ok || cur.Placeholder {
			continue
		}
		if ok, why := cur.accepts(it.Value); !ok {
			errs = append(errs, &SettingError{Name: it.Name, Value: it.Value, Field: it.Field, Problem: why})
		}
	}
	return errors.Join(errs...)
}

func normalBool(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1", "t", "y":
		return "on"
	default:
		return "off"
	}
}

// AlterStatement renders ALTER SYSTEM SET for an allow-listed setting. The
// name comes from the allow-list and is written as is; a list setting
// gets one literal per item (one literal holding "a, b" would name a
// single library called "a, b" and stop the server from starting).
func AlterStatement(name, value string) string {
	if allowList[name].kind == kindList {
		items := splitList(value)
		if len(items) == 0 {
			return "ALTER SYSTEM SET " + name + " = ''"
		}
		lits := make([]string, len(items))
		for i, it := range items {
			lits[i] = QuoteLiteral(it)
		}
		return "ALTER SYSTEM SET " + name + " = " + strings.Join(lits, ", ")
	}
	return "ALTER SYSTEM SET " + name + " = " + QuoteLiteral(value)
}

// ResetStatement renders ALTER SYSTEM RESET for an allow-listed setting.
func ResetStatement(name string) string { return "ALTER SYSTEM RESET " + name }

// QuoteLiteral quotes s as an SQL string literal that reads the same
// whatever standard_conforming_strings says: quotes are doubled, and a
// value with backslashes uses the E'...' form with them doubled. ALTER SYSTEM
// takes no bind parameters, so this (after allow-list validation) is how
// values reach it.
func QuoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "'", "''")
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(s, `\`, `\\`) + "'"
	}
	return "'" + s + "'"
}

// VerifyReport says, for a plan's settings, what is live and what is not.
type VerifyReport struct {
	// Live settings have the planned value (within the tolerance).
	Live []string `json:"live"`
	// PendingRestart settings wait for a restart.
	PendingRestart []string `json:"pending_restart,omitempty"`
	// Rejected settings were refused by the server (pg_file_settings.error).
	Rejected []Rejection `json:"rejected,omitempty"`
	// Mismatches are settings that should be live and are not.
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// Overridden settings are live server-wide (and counted in Live), but a
	// per-role, per-database or session value hides them from the session
	// that checked.
	Overridden []Mismatch `json:"overridden,omitempty"`
}

// Rejection is a setting the server refused.
type Rejection struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Error string `json:"error"`
}

// Mismatch is a setting whose running value is not the planned one.
type Mismatch struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Why  string `json:"why"`
}

// sessionSource reports whether a pg_settings.source is a value set for
// the role, the database or the session rather than server-wide.
func sessionSource(source string) bool {
	switch source {
	case "user", "database", "database user", "client", "session":
		return true
	}
	return false
}

// sameConfigured reports whether the configuration files set the planned
// value.
func sameConfigured(it Item, cur Current) bool {
	same, err := sameValue(allowList[it.Name], it.Value, cur.Configured, cur.Unit)
	return err == nil && same
}

// Check compares the plan's changed and kept settings with the server's
// state. After a restart nothing may wait for one; before it, a setting
// that needs a restart may.
func Check(p Plan, st ServerState, restarted bool) VerifyReport {
	r := VerifyReport{Live: []string{}}
	for _, it := range p.Items {
		if it.Action == ActionSkip {
			continue
		}
		cur, ok := st.Settings[it.Name]
		switch {
		case !ok:
			r.Mismatches = append(r.Mismatches, Mismatch{Name: it.Name, Want: it.Value, Why: "the server does not know it"})
		case cur.Placeholder && restarted:
			r.Mismatches = append(r.Mismatches, Mismatch{Name: it.Name, Want: it.Value, Got: cur.Display,
				Why: fmt.Sprintf("%s is not loaded after the restart", allowList[it.Name].library)})
		case cur.Placeholder:
			r.PendingRestart = append(r.PendingRestart, it.Name)
		case cur.rejected():
			r.Rejected = append(r.Rejected, Rejection{Name: it.Name, Value: cur.Configured, Error: cur.ConfiguredError})
		case cur.PendingRestart && restarted:
			r.Mismatches = append(r.Mismatches, Mismatch{Name: it.Name, Want: it.Value, Got: cur.Display, Why: "still waits for a restart after the restart"})
		case cur.PendingRestart:
			r.PendingRestart = append(r.PendingRestart, it.Name)
		default:
			same, err := sameValue(allowList[it.Name], it.Value, cur.Setting, cur.Unit)
			switch {
			case err != nil:
				r.Mismatches = append(r.Mismatches, Mismatch{Name: it.Name, Want: it.Value, Got: cur.Display, Why: err.Error()})
			case !same && sessionSource(cur.Source) && cur.HasConfigured && cur.ConfiguredError == "" && sameConfigured(it, cur):
				// The server-wide value is right; ALTER ROLE/DATABASE ... SET
				// (or the session) overrides it where this session runs.
				r.Live = append(r.Live, it.Name)
				r.Overridden = append(r.Overridden, Mismatch{Name: it.Name, Want: it.Value, Got: cur.Display,
					Why: "live server-wide; set by " + cur.Source + " for this role or database"})
			case !same:
				why := "the running value differs"
				if cur.Source != "" && cur.Source != "configuration file" {
					why += " (set by " + cur.Source + ")"
				}
				r.Mismatches = append(r.Mismatches, Mismatch{Name: it.Name, Want: it.Value, Got: cur.Display, Why: why})
			default:
				r.Live = append(r.Live, it.Name)
			}
		}
	}
	return r
}
