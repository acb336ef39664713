package report

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The monitoring queries. Those whose columns depend on the server's
// version (or the extension's) are built by a function of it; each returns
// the same columns on every version.

// Version boundaries of the views read here.
const (
	// v14: pg_class.reltuples is -1 for a table never vacuumed or
	// analysed (0 before, indistinguishable from empty).
	v14 = 140000
	// v16: pg_stat_user_indexes.last_idx_scan, pg_stat_io.
	v16 = 160000
	// v17: checkpoint counters move to pg_stat_checkpointer;
	// pg_stat_bgwriter loses buffers_backend.
	v17 = 170000
)

const serverSQL = `SELECT current_setting('server_version'), current_setting('server_version_num')::int, current_database(),
       pg_postmaster_start_time(), current_setting('is_superuser') = 'on',
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database())`

// statementsStatusSQL says whether pg_stat_statements can be read: the
// library preloaded, the extension created in this database (its schema
// and version), the extension available on the server.
const statementsStatusSQL = `SELECT 'pg_stat_statements' = ANY(string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')),
       (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'),
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'),
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements')`

// statementsSQL reads the top statements of this database by total
// execution time from pg_stat_statements in schema, whose version decides
// the columns: total_time and mean_time before 1.8 (PostgreSQL 12 and
// older), total_exec_time and mean_exec_time from 1.8. $1 is the limit.
func statementsSQL(schema, extVersion string) string {
	total, mean := "total_exec_time", "mean_exec_time"
	if versionLess(extVersion, "1.8") {
		total, mean = "total_time", "mean_time"
	}
	return `SELECT coalesce(queryid, 0), calls, ` + total + `, ` + mean + `, rows,
       100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0), coalesce(query, '')
FROM ` + pgx.Identifier{schema, "pg_stat_statements"}.Sanitize() + `
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY ` + total + ` DESC LIMIT $1`
}

// versionLess compares dotted versions numerically ("1.10" > "1.8"). An
// empty version is not less than anything.
func versionLess(v, than string) bool {
	if v == "" {
		return false
	}
	a, b := strings.Split(v, "."), strings.Split(than, ".")
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := 0, 0
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

const connectionsSQL = `SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int`

const statesSQL = `SELECT coalesce(state, 'unknown'), count(*)::int FROM pg_stat_activity
WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 1`

// sessionsSQL lists client sessions running a query longer than $1
// seconds or idle in a transaction longer than $2 seconds.
const sessionsSQL = `SELECT pid, coalesce(usename, ''), coalesce(datname, ''), coalesce(application_name, ''), coalesce(state, ''),
       coalesce(wait_event_type || ':' || wait_event, ''),
       coalesce(extract(epoch FROM now() - CASE WHEN state = 'active' THEN query_start ELSE state_change END), 0)::float8,
       coalesce(extract(epoch FROM now() - xact_start), 0)::float8,
       coalesce(left(query, 2000), '')
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
  AND ((state = 'active' AND query_start < now() - $1 * interval '1 second')
    OR (state LIKE 'idle in transaction%' AND state_change < now() - $2 * interval '1 second'))
ORDER BY coalesce(xact_start, query_start) LIMIT 50`

const databaseSizeSQL = `SELECT pg_database_size(current_database())`

// tablesSQL reads the tables of schema $1 with sizes, row counts and
// estimates, vacuum state, cache hits and the average row width pg_stats
// knows. Before 14 a reltuples of 0 on a table without pages is unknown.
func tablesSQL(versionNum int) string {
	estimate := `CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples::bigint END`
	if versionNum < v14 {
		estimate = `CASE WHEN c.reltuples = 0 AND c.relpages = 0 THEN -1 ELSE c.reltuples::bigint END`
	}
	return `SELECT n.nspname || '.' || c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_indexes_size(c.oid),
       ` + estimate + `, coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0), coalesce(s.n_mod_since_analyze, 0),
       greatest(s.last_vacuum, s.last_autovacuum), greatest(s.last_analyze, s.last_autoanalyze),
       io.heap_blks_hit, io.heap_blks_read, io.idx_blks_hit, io.idx_blks_read,
       (SELECT sum(st.avg_width)::float8 FROM pg_stats st WHERE st.schemaname = n.nspname AND st.tablename = c.relname),
       current_setting('block_size')::int
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
LEFT JOIN pg_statio_user_tables io ON io.relid = c.oid
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
ORDER BY pg_total_relation_size(c.oid) DESC, 1`
}

const cacheSQL = `SELECT (SELECT 100.0 * blks_hit / nullif(blks_hit + blks_read, 0) FROM pg_stat_database WHERE datname = current_database())::float8,
       (SELECT 100.0 * sum(blks_hit) / nullif(sum(blks_hit) + sum(blks_read), 0) FROM pg_stat_database)::float8`

// unusedIndexesSQL lists indexes never scanned, largest first, that do
// not enforce anything. From 16 it reads last_idx_scan too.
func unusedIndexesSQL(versionNum int) string {
	last := `NULL::timestamptz`
	if versionNum >= v16 {
		last = `s.last_idx_scan`
	}
	return `SELECT s.schemaname || '.' || s.indexrelname, s.schemaname || '.' || s.relname, pg_relation_size(s.indexrelid), s.idx_scan, ` + last + `
FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
ORDER BY pg_relation_size(s.indexrelid) DESC, 1 LIMIT 50`
}

// checkpointsSQL reads the checkpoint and background-writer counters:
// pg_stat_bgwriter alone before 17; from 17 pg_stat_checkpointer for
// checkpoints, pg_stat_bgwriter for the background writer and pg_stat_io
// for what client backends wrote themselves (pg_stat_bgwriter lost
// buffers_backend). It returns the source, timed, requested, write and
// sync milliseconds, buffers written by checkpoints, by the background
// writer, its stops at the page limit, by backends, buffers allocated and
// the reset time.
func checkpointsSQL(versionNum int) string {
	if versionNum < v17 {
		return `SELECT 'pg_stat_bgwriter', checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time,
       buffers_checkpoint, buffers_clean, maxwritten_clean, buffers_backend, buffers_alloc, stats_reset
FROM pg_stat_bgwriter`
	}
	return `SELECT 'pg_stat_checkpointer, pg_stat_bgwriter, pg_stat_io', c.num_timed, c.num_requested, c.write_time, c.sync_time,
       c.buffers_written, b.buffers_clean, b.maxwritten_clean,
       (SELECT sum(writes)::bigint FROM pg_stat_io WHERE backend_type = 'client backend'), b.buffers_alloc, c.stats_reset
FROM pg_stat_checkpointer c, pg_stat_bgwriter b`
}

// fileErrorsSQL lists configuration lines the server rejected. The values
// are left out: a file may hold a connection string with a password.
const fileErrorsSQL = `SELECT coalesce(sourcefile, ''), coalesce(sourceline, 0), coalesce(name, ''), error
FROM pg_file_settings WHERE error IS NOT NULL ORDER BY seqno`
