package pgtune

import (
	"fmt"
	"slices"
	"strings"
)

// Values of the ingest settings. Each is a named constant so the reason
// next to it explains one number.
const (
	// checkpointTimeout: 15 minutes between timed checkpoints (default
	// 5min) halves checkpoint I/O and full-page images during long loads;
	// timescaledb-tune's write-heavy profile uses the same 900s.
	checkpointTimeout = "15min"
	// Autovacuum thresholds as fractions of a table (defaults 0.2, 0.1 and
	// 0.2): large, steadily growing tables are vacuumed and analyzed
	// sooner.
	vacuumScaleFactor       = "0.05"
	analyzeScaleFactor      = "0.02"
	vacuumInsertScaleFactor = "0.05"
	// vacuumCostLimit: autovacuum's I/O budget per round (default 200 via
	// vacuum_cost_limit), raised tenfold for flash storage.
	vacuumCostLimit = "2000"
	// slowStatement and slowAutovacuum: what counts as slow enough to log.
	slowStatement  = "1s"
	slowAutovacuum = "1s"
	// queryTextBytes is kept per backend for pg_stat_activity (default 1kB).
	queryTextBytes = "4096"
	// idleInTransaction ends sessions idle inside a transaction this long.
	idleInTransaction = "10min"
	// statementsTracked by pg_stat_statements (default 5000).
	statementsTracked = "10000"
	// statsLibrary is always preloaded: the report stage reads it.
	statsLibrary = "pg_stat_statements"
	// cronLibrary is pg_cron's library. Its background worker runs jobs
	// from one database, cron.database_name (default postgres), and
	// CREATE EXTENSION pg_cron succeeds only there; see [BuildPlan].
	cronLibrary = "pg_cron"
)

// ingest returns the settings a DBA adds for a write-heavy ingest database.
// Each reason cites the PostgreSQL documentation page (by its name under
// https://www.postgresql.org/docs/current/) or another source.
func ingest(in Input) []Setting {
	v := in.PGVersion
	var out []Setting
	add := func(name, value, reason string) {
		out = append(out, Setting{Name: name, Value: value, Reason: reason, Source: SourceIngest})
	}
	add("checkpoint_timeout", checkpointTimeout,
		"fewer timed checkpoints during long loads: less checkpoint I/O and fewer full-page images in WAL (docs: wal-configuration)")
	if in.SynchronousCommitOff {
		add("synchronous_commit", "off",
			"opted in: commits return before the WAL flush; a crash loses the last moments of commits but never corrupts, and ingest re-fetches them (docs: wal-async-commit)")
	}
	add("autovacuum_vacuum_scale_factor", vacuumScaleFactor,
		"vacuum a table after 5% of its rows changed, not 20%, so upserts' dead rows do not pile up in big tables (docs: routine-vacuuming)")
	add("autovacuum_analyze_scale_factor", analyzeScaleFactor,
		"refresh planner statistics after 2% of rows changed, not 10%, while tables grow (docs: routine-vacuuming)")
	if v >= 13 {
		add("autovacuum_vacuum_insert_scale_factor", vacuumInsertScaleFactor,
			"vacuum insert-mostly tables after 5% new rows, not 20%: visibility map and freezing keep up with ingest (docs: runtime-config-autovacuum)")
	}
	if in.Storage != StorageHDD {
		add("autovacuum_vacuum_cost_limit", vacuumCostLimit,
			fmt.Sprintf("let autovacuum do 10x the default I/O per round on %s so it keeps pace with writes (docs: runtime-config-autovacuum)", in.Storage))
	}
	add("log_min_duration_statement", slowStatement,
		"log statements slower than 1s to find slow upserts and queries (docs: runtime-config-logging)")
	add("log_checkpoints", "on",
		"log each checkpoint's cause and timing: shows whether max_wal_size forces checkpoints during loads (docs: runtime-config-logging)")
	add("log_autovacuum_min_duration", slowAutovacuum,
		"log autovacuum runs over 1s to see whether vacuum keeps up with ingest (docs: runtime-config-logging)")
	add("log_lock_waits", "on",
		"log lock waits longer than deadlock_timeout: concurrent upserts of the same rows show up (docs: runtime-config-logging)")
	add("log_temp_files", "0",
		"log every temporary file: a spill means work_mem is too small for that query (docs: runtime-config-logging)")
	add("track_io_timing", "on",
		"time block reads and writes for pg_stat_statements and EXPLAIN (BUFFERS); cheap where pg_test_timing is fast (docs: runtime-config-statistics)")
	add("track_activity_query_size", queryTextBytes,
		"keep 4kB of each running query's text in pg_stat_activity instead of 1kB, so long upserts stay readable (docs: runtime-config-statistics)")
	add("idle_in_transaction_session_timeout", idleInTransaction,
		"end sessions idle inside a transaction for 10min: they hold locks and stop vacuum from removing dead rows (docs: runtime-config-client)")
	if v >= 14 {
		add("default_toast_compression", "lz4",
			"compress large jsonb documents with lz4, faster than pglz at a similar ratio; timescaledb-tune sets it too (docs: runtime-config-client)")
	}

	libs := mergeLibraries([]string{statsLibrary}, in.PreloadLibraries)
	reason := "load pg_stat_statements for query statistics; merged with the libraries already listed (docs: pgstatstatements)"
	if len(libs) > 1 {
		reason = "load pg_stat_statements and what the chosen extensions need (" + strings.Join(libs[1:], ", ") + "); merged with the libraries already listed (docs: runtime-config-client)"
	}
	add("shared_preload_libraries", joinList(libs), reason)
	add("pg_stat_statements.max", statementsTracked,
		"track 10000 distinct statements instead of 5000 so ingest's statements are not evicted (docs: pgstatstatements)")
	add("pg_stat_statements.track", "all",
		"also count statements run inside functions and procedures (docs: pgstatstatements)")
	return out
}

// mergeLibraries appends to base the items of extra it lacks, keeping
// order and dropping duplicates.
func mergeLibraries(base, extra []string) []string {
	out := slices.Clone(base)
	for _, e := range extra {
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// ApplyOverrides applies explicit settings to a recommendation: a known
// setting gets the new value, an unknown one is appended. Each override is
// validated against the allow-list for the recommendation's version. A
// shared_preload_libraries override adds libraries; it never removes the
// ones the recommendation needs.
func ApplyOverrides(rec Recommendation, overrides []Override) (Recommendation, error) {
	version := rec.Input.PGVersion
	out := rec
	out.Settings = slices.Clone(rec.Settings)
	for i, o := range overrides {
		if err := ValidateValue(o.Name, o.Value, version); err != nil {
			return Recommendation{}, fieldErr(fmt.Sprintf("overrides[%d]", i), "%s", err)
		}
		value := o.Value
		j := slices.IndexFunc(out.Settings, func(s Setting) bool { return s.Name == o.Name })
		if allowList[o.Name].kind == kindList && j >= 0 {
			value = joinList(mergeLibraries(splitList(out.Settings[j].Value), splitList(o.Value)))
		}
		s := Setting{Name: o.Name, Value: value, Reason: "set in the input", Source: SourceOverride, Field: fmt.Sprintf("overrides[%d]", i)}
		if j >= 0 {
			s.Reason = "set in the input (recommended: " + out.Settings[j].Value + ")"
			out.Settings[j] = finish(s, version)
		} else {
			out.Settings = append(out.Settings, finish(s, version))
		}
	}
	return out, nil
}
