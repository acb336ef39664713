package pgtune

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is how a setting's value is written and compared.
type kind int

const (
	kindInt    kind = iota // integer without unit
	kindReal               // floating point
	kindMemory             // integer with an optional memory unit (B, kB, MB, GB, TB)
	kindTime               // integer with an optional time unit (us, ms, s, min, h, d)
	kindBool               // on/off
	kindEnum               // one of spec.values
	kindList               // comma-separated list of names (GUC_LIST_QUOTE)
	kindName               // a database name (NAMEDATALEN - 1 bytes at most)
)

// spec describes one allowed setting. Contexts and units are PostgreSQL
// 15's (postgres --describe-config); where a later version changed them the
// spec says so.
type spec struct {
	kind kind
	// unit is the unit of a bare number, as pg_settings.unit reports it.
	unit string
	// restart: context postmaster, the value changes only at server start.
	restart bool
	// reloadFrom is the first major version where a restart is no longer
	// needed (autovacuum_max_workers in 18). 0: unchanged.
	reloadFrom int
	// since is the first major version that has the setting. 0: every
	// version this package supports (10+).
	since int
	// values are the accepted values of an enum.
	values []string
	// minusOne allows -1 (disabled, or "use another setting").
	minusOne bool
	// library is the preload library that defines the setting; the server
	// knows it only once that library is loaded.
	library string
}

// allowEntries holds every setting this package recommends or accepts as
// an override, in a fixed order. Names outside it are refused; that, and
// value validation, is what keeps ALTER SYSTEM statements safe to build.
var allowEntries = []struct {
	name string
	spec spec
}{
	// PGTune's settings.
	{"max_connections", spec{kind: kindInt, restart: true}},
	{"shared_buffers", spec{kind: kindMemory, unit: "8kB", restart: true}},
	{"effective_cache_size", spec{kind: kindMemory, unit: "8kB"}},
	{"maintenance_work_mem", spec{kind: kindMemory, unit: "kB"}},
	{"checkpoint_completion_target", spec{kind: kindReal}},
	{"wal_buffers", spec{kind: kindMemory, unit: "8kB", restart: true, minusOne: true}},
	{"default_statistics_target", spec{kind: kindInt}},
	{"random_page_cost", spec{kind: kindReal}},
	{"effective_io_concurrency", spec{kind: kindInt}},
	{"work_mem", spec{kind: kindMemory, unit: "kB"}},
	{"huge_pages", spec{kind: kindEnum, restart: true, values: []string{"off", "on", "try"}}},
	{"jit", spec{kind: kindBool, since: 11}},
	{"wal_compression", spec{kind: kindEnum, values: []string{"on", "off", "pglz", "lz4", "zstd"}}},
	{"autovacuum_max_workers", spec{kind: kindInt, restart: true, reloadFrom: 18}},
	{"autovacuum_work_mem", spec{kind: kindMemory, unit: "kB", minusOne: true}},
	{"io_method", spec{kind: kindEnum, restart: true, since: 18, values: []string{"sync", "worker", "io_uring"}}},
	{"io_workers", spec{kind: kindInt, since: 18}},
	{"min_wal_size", spec{kind: kindMemory, unit: "MB"}},
	{"max_wal_size", spec{kind: kindMemory, unit: "MB"}},
	{"max_worker_processes", spec{kind: kindInt, restart: true}},
	{"max_parallel_workers_per_gather", spec{kind: kindInt}},
	{"max_parallel_workers", spec{kind: kindInt}},
	{"max_parallel_maintenance_workers", spec{kind: kindInt, since: 11}},
	{"wal_level", spec{kind: kindEnum, restart: true, values: []string{"minimal", "replica", "logical"}}},
	{"max_wal_senders", spec{kind: kindInt, restart: true}},

	// Settings for a write-heavy ingest database.
	{"checkpoint_timeout", spec{kind: kindTime, unit: "s"}},
	{"synchronous_commit", spec{kind: kindEnum, values: []string{"on", "off", "local", "remote_write", "remote_apply"}}},
	{"autovacuum_vacuum_scale_factor", spec{kind: kindReal}},
	{"autovacuum_analyze_scale_factor", spec{kind: kindReal}},
	{"autovacuum_vacuum_insert_scale_factor", spec{kind: kindReal, since: 13}},
	{"autovacuum_vacuum_cost_limit", spec{kind: kindInt, minusOne: true}},
	{"autovacuum_naptime", spec{kind: kindTime, unit: "s"}},
	{"log_min_duration_statement", spec{kind: kindTime, unit: "ms", minusOne: true}},
	{"log_checkpoints", spec{kind: kindBool}},
	{"log_autovacuum_min_duration", spec{kind: kindTime, unit: "ms", minusOne: true}},
	{"log_lock_waits", spec{kind: kindBool}},
	{"log_temp_files", spec{kind: kindMemory, unit: "kB", minusOne: true}},
	{"track_io_timing", spec{kind: kindBool}},
	{"track_activity_query_size", spec{kind: kindMemory, unit: "B", restart: true}},
	{"idle_in_transaction_session_timeout", spec{kind: kindTime, unit: "ms"}},
	{"default_toast_compression", spec{kind: kindEnum, since: 14, values: []string{"pglz", "lz4"}}},
	{"shared_preload_libraries", spec{kind: kindList, restart: true}},
	{"pg_stat_statements.max", spec{kind: kindInt, restart: true, library: "pg_stat_statements"}},
	{"pg_stat_statements.track", spec{kind: kindEnum, values: []string{"none", "top", "all"}, library: "pg_stat_statements"}},
	{"cron.database_name", spec{kind: kindName, restart: true, library: cronLibrary}},

	// Accepted as overrides.
	{"max_locks_per_transaction", spec{kind: kindInt, restart: true}},
	{"statement_timeout", spec{kind: kindTime, unit: "ms"}},
	{"bgwriter_lru_maxpages", spec{kind: kindInt}},
	{"wal_writer_delay", spec{kind: kindTime, unit: "ms"}},
}

// allowList indexes allowEntries by name. It is built once and only read.
var allowList = func() map[string]spec {
	m := make(map[string]spec, len(allowEntries))
	for _, e := range allowEntries {
		m[e.name] = e.spec
	}
	return m
}()

// Names returns the allow-listed setting names, sorted.
func Names() []string {
	names := make([]string, 0, len(allowEntries))
	for _, e := range allowEntries {
		names = append(names, e.name)
	}
	slices.Sort(names)
	return names
}

// contextFor is the context a setting needs on a major version.
func (s spec) contextFor(version int) Context {
	if s.restart && (s.reloadFrom == 0 || version < s.reloadFrom) {
		return ContextRestart
	}
	return ContextReload
}

var (
	intPattern  = regexp.MustCompile(`^-?[0-9]+$`)
	realPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	memPattern  = regexp.MustCompile(`^[0-9]+(B|kB|MB|GB|TB)?$`)
	timePattern = regexp.MustCompile(`^[0-9]+(us|ms|s|min|h|d)?$`)
	// A preload library this tool adds is a bare name: letters, digits,
	// _ and -. No path (an absolute one would let a workflow input make
	// the server load any file on its host), no dots, no separators; the
	// server finds it in its pkglibdir.
	libraryPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)
)

// maxNameBytes is the longest identifier PostgreSQL keeps (NAMEDATALEN - 1).
const maxNameBytes = 63

var boolValues = []string{"on", "off", "true", "false", "yes", "no", "1", "0"}

// ValidateValue checks that value is acceptable for the allow-listed
// setting name on PostgreSQL major version (0: any version). Its errors
// name the setting and say what is accepted.
func ValidateValue(name, value string, version int) error {
	s, ok := allowList[name]
	if !ok {
		return fmt.Errorf("%s: not a setting this tool manages (allowed: %s)", name, strings.Join(Names(), ", "))
	}
	if version != 0 && s.since != 0 && version < s.since {
		return fmt.Errorf("%s: needs PostgreSQL %d or later (server is %d)", name, s.since, version)
	}
	if value == "" {
		return fmt.Errorf("%s: empty value", name)
	}
	if s.minusOne && value == "-1" {
		return nil
	}
	switch s.kind {
	case kindInt:
		if !intPattern.MatchString(value) {
			return fmt.Errorf("%s: %q is not an integer", name, value)
		}
		if n, _ := strconv.Atoi(value); n < 0 {
			return fmt.Errorf("%s: %q must not be negative", name, value)
		}
	case kindReal:
		if !realPattern.MatchString(value) {
			return fmt.Errorf("%s: %q is not a non-negative number such as 1.1", name, value)
		}
	case kindMemory:
		if !memPattern.MatchString(value) {
			return fmt.Errorf("%s: %q is not a size; write a whole number with B, kB, MB, GB or TB, such as 64MB", name, value)
		}
	case kindTime:
		if !timePattern.MatchString(value) {
			return fmt.Errorf("%s: %q is not a duration; write a whole number with us, ms, s, min, h or d, such as 15min", name, value)
		}
	case kindBool:
		if !slices.Contains(boolValues, strings.ToLower(value)) {
			return fmt.Errorf("%s: %q is not on or off", name, value)
		}
	case kindEnum:
		values := s.values
		if name == "wal_compression" && version != 0 && version < 15 {
			values = []string{"on", "off"}
		}
		if !slices.Contains(values, value) {
			return fmt.Errorf("%s: %q is not one of %s", name, value, strings.Join(values, ", "))
		}
	case kindName:
		if len(value) > maxNameBytes || strings.ContainsFunc(value, unicode.IsControl) || !utf8.ValidString(value) {
			return fmt.Errorf("%s: %q is not a database name (1 to %d bytes of text)", name, value, maxNameBytes)
		}
	case kindList:
		items := splitList(value)
		if len(items) == 0 {
			return fmt.Errorf("%s: %q names no library", name, value)
		}
		for _, it := range items {
			if err := validateLibrary(it); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// validateLibrary checks that lib is a bare library name (see
// libraryPattern).
func validateLibrary(lib string) error {
	if len(lib) > maxNameBytes || !libraryPattern.MatchString(lib) {
		return fmt.Errorf("%q is not a bare library name: give the name of a library in the server's pkglibdir, such as pg_stat_statements, without a path, dots or separators", lib)
	}
	return nil
}

// splitList splits a list setting the way PostgreSQL's SplitIdentifierString
// does for shared_preload_libraries: items separated by commas, surrounding
// blanks dropped, double quotes around an item removed ("" inside quotes is
// a quote).
func splitList(value string) []string {
	var items []string
	i, n := 0, len(value)
	isBlank := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for i < n {
		for i < n && isBlank(value[i]) {
			i++
		}
		var item strings.Builder
		if i < n && value[i] == '"' {
			for i++; i < n; i++ {
				if value[i] == '"' {
					if i+1 < n && value[i+1] == '"' {
						item.WriteByte('"')
						i++
						continue
					}
					i++
					break
				}
				item.WriteByte(value[i])
			}
			for i < n && value[i] != ',' {
				i++
			}
		} else {
			start := i
			for i < n && value[i] != ',' {
				i++
			}
			item.WriteString(strings.TrimRight(value[start:i], " \t\n\r"))
		}
		if item.Len() > 0 {
			items = append(items, item.String())
		}
		i++ // the comma
	}
	return items
}

// joinList formats list items the way SHOW prints shared_preload_libraries.
func joinList(items []string) string { return strings.Join(items, ", ") }
