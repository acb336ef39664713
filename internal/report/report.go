// Package report is the report stage: what the PostgreSQL server
// congressflow works on looks like after (or during) a run, how the last
// ingest walks went, and what the worker that collected it sees.
//
// [Collect] reads the server's statistics views, aware of its version (the
// column names differ across PostgreSQL 13–18: pg_stat_statements'
// total_time before 1.8 and total_exec_time after, checkpoints in
// pg_stat_bgwriter before 17 and pg_stat_checkpointer from 17, the last
// index scan from 16). The rest is pure: the [Report] type, its one-line
// summary, the text rendering ([Write]) and the trend over stored reports
// ([BuildTrend]). Query texts are shown with their string literals
// blanked, so a password in a statement never reaches a report.
package report

import (
	"fmt"
	"strings"
	"time"
)

// Report is what the report stage collects. Summary comes first and says
// it in one line.
type Report struct {
	Summary string `json:"summary"`
	// ID is the report's row in ops.reports (0 when it was not stored).
	ID          int64       `json:"id,omitempty"`
	CollectedAt time.Time   `json:"collected_at"`
	Server      Server      `json:"server"`
	Statements  Statements  `json:"statements"`
	Connections Connections `json:"connections"`
	Sizes       Sizes       `json:"sizes"`
	Cache       Cache       `json:"cache"`
	// Tables are the tables of schema congress, largest first.
	Tables []Table `json:"tables"`
	// UnusedIndexes are indexes never scanned since the statistics were
	// reset (unique and primary-key indexes aside: they enforce).
	UnusedIndexes []Index     `json:"unused_indexes"`
	Checkpoints   Checkpoints `json:"checkpoints"`
	Settings      Settings    `json:"settings"`
	// Ingest is the last walk of each endpoint (ops.ingest_runs).
	Ingest []IngestRun `json:"ingest"`
	Worker Worker      `json:"worker"`
	// Trend compares with earlier reports when asked for (--since).
	Trend *Trend `json:"trend,omitempty"`
	// Notes name what could not be collected, and why (a missing
	// privilege, a view this server lacks).
	Notes []string `json:"notes,omitempty"`
}

// Server identifies the PostgreSQL server and database.
type Server struct {
	// Version is server_version ("15.18 (Debian 15.18-0+deb12u1)"),
	// VersionNum server_version_num (150018).
	Version    string `json:"version"`
	VersionNum int    `json:"version_num"`
	Database   string `json:"database"`
	// StartedAt is pg_postmaster_start_time().
	StartedAt time.Time `json:"started_at"`
	// StatsReset is when the database's statistics were last reset: the
	// counters below count from then (nil: never).
	StatsReset *time.Time `json:"stats_reset,omitempty"`
	// Superuser: without it (or pg_read_all_stats) other roles' queries
	// are hidden.
	Superuser bool `json:"superuser"`
}

// Statements are the top statements of pg_stat_statements.
type Statements struct {
	Available bool `json:"available"`
	// Hint says how to enable pg_stat_statements when it is not
	// available.
	Hint string `json:"hint,omitempty"`
	// Version is the extension's version (the columns depend on it).
	Version string      `json:"version,omitempty"`
	Top     []Statement `json:"top"`
}

// Statement is one normalised statement of pg_stat_statements in this
// database.
type Statement struct {
	QueryID int64   `json:"query_id"`
	Calls   int64   `json:"calls"`
	TotalMS float64 `json:"total_ms"`
	MeanMS  float64 `json:"mean_ms"`
	Rows    int64   `json:"rows"`
	// HitPct is the share of shared blocks found in the buffer cache.
	HitPct *float64 `json:"hit_pct,omitempty"`
	// Query is the statement's text, literals blanked, on one line.
	Query string `json:"query"`
}

// Connections are the client sessions against max_connections.
type Connections struct {
	// Used counts client backends; Max is max_connections, of which
	// Reserved are kept for superusers.
	Used     int          `json:"used"`
	Max      int          `json:"max"`
	Reserved int          `json:"reserved"`
	ByState  []StateCount `json:"by_state"`
	// LongRunning are sessions whose current query has run longer than
	// LongRunningAfterSeconds.
	LongRunningAfterSeconds float64   `json:"long_running_after_seconds"`
	LongRunning             []Session `json:"long_running"`
	// IdleInTransaction are sessions idle inside a transaction for longer
	// than IdleInTransactionAfterSeconds: they hold locks and keep vacuum
	// from cleaning up.
	IdleInTransactionAfterSeconds float64   `json:"idle_in_transaction_after_seconds"`
	IdleInTransaction             []Session `json:"idle_in_transaction"`
}

// StateCount is the number of client sessions in a state.
type StateCount struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// Session is one client session of pg_stat_activity.
type Session struct {
	PID         int    `json:"pid"`
	User        string `json:"user"`
	Database    string `json:"database"`
	Application string `json:"application"`
	State       string `json:"state"`
	// Wait is wait_event_type:wait_event, empty when not waiting.
	Wait string `json:"wait,omitempty"`
	// Seconds is how long the query has run (active) or the session has
	// been idle in its transaction.
	Seconds float64 `json:"seconds"`
	// TransactionSeconds is the age of its transaction.
	TransactionSeconds float64 `json:"transaction_seconds"`
	Query              string  `json:"query"`
}

// Sizes are the database's and schema congress's.
type Sizes struct {
	DatabaseBytes int64 `json:"database_bytes"`
	// SchemaBytes is schema congress: tables, indexes and TOAST.
	SchemaBytes int64 `json:"schema_bytes"`
	Tables      int   `json:"tables"`
	// RowEstimate sums the tables' estimates (pg_class.reltuples).
	RowEstimate int64 `json:"row_estimate"`
}

// Cache is the share of block reads served by the buffer cache.
type Cache struct {
	// HitPct is this database's; ClusterHitPct every database's.
	HitPct        *float64 `json:"hit_pct,omitempty"`
	ClusterHitPct *float64 `json:"cluster_hit_pct,omitempty"`
}

// Table is one table of schema congress.
type Table struct {
	Name       string `json:"name"`
	TotalBytes int64  `json:"total_bytes"`
	HeapBytes  int64  `json:"heap_bytes"`
	IndexBytes int64  `json:"index_bytes"`
	ToastBytes int64  `json:"toast_bytes"`
	// RowEstimate is pg_class.reltuples, or the live rows the statistics
	// count before the first analyse; -1 when neither knows.
	RowEstimate int64 `json:"row_estimate"`
	LiveRows    int64 `json:"live_rows"`
	DeadRows    int64 `json:"dead_rows"`
	// DeadPct is dead rows over live and dead: what vacuum has to clean.
	DeadPct float64 `json:"dead_pct"`
	// EstBloatPct estimates the share of the heap that is free space,
	// from the row estimate and average row width (pg_stats); nil without
	// statistics.
	EstBloatPct *float64 `json:"est_bloat_pct,omitempty"`
	// HitPct and IndexHitPct are the buffer cache hit ratios of the heap
	// and of its indexes; nil before the first read.
	HitPct      *float64 `json:"hit_pct,omitempty"`
	IndexHitPct *float64 `json:"index_hit_pct,omitempty"`
	// LastVacuum and LastAnalyze are the latest, manual or automatic.
	LastVacuum       *time.Time `json:"last_vacuum,omitempty"`
	LastAnalyze      *time.Time `json:"last_analyze,omitempty"`
	ModsSinceAnalyze int64      `json:"mods_since_analyze"`
}

// Index is an index with its size and scans.
type Index struct {
	Name  string `json:"name"`
	Table string `json:"table"`
	Bytes int64  `json:"bytes"`
	Scans int64  `json:"scans"`
	// LastScan is pg_stat_user_indexes.last_idx_scan (PostgreSQL 16+).
	LastScan *time.Time `json:"last_scan,omitempty"`
}

// Checkpoints are the checkpointer's and background writer's counters.
type Checkpoints struct {
	// Source names the view(s) read: pg_stat_bgwriter before 17,
	// pg_stat_checkpointer and pg_stat_bgwriter from 17.
	Source string `json:"source"`
	// Timed checkpoints ran on checkpoint_timeout; Requested ones were
	// forced, mostly by max_wal_size filling up.
	Timed        int64   `json:"timed"`
	Requested    int64   `json:"requested"`
	RequestedPct float64 `json:"requested_pct"`
	WriteMS      float64 `json:"write_ms"`
	SyncMS       float64 `json:"sync_ms"`
	// BuffersCheckpoint were written by checkpoints, BuffersClean by the
	// background writer (which stopped MaxWrittenClean times at
	// bgwriter_lru_maxpages), BuffersBackend by backends themselves (from
	// pg_stat_io from 17; nil when unknown), BuffersAlloc allocated.
	BuffersCheckpoint int64      `json:"buffers_checkpoint"`
	BuffersClean      int64      `json:"buffers_clean"`
	MaxWrittenClean   int64      `json:"maxwritten_clean"`
	BuffersBackend    *int64     `json:"buffers_backend,omitempty"`
	BuffersAlloc      int64      `json:"buffers_alloc"`
	StatsReset        *time.Time `json:"stats_reset,omitempty"`
}

// Settings compares the server's settings with what tuning applied.
type Settings struct {
	// LastTune is the latest tune run whose changes are still applied.
	LastTune *TuneRun `json:"last_tune,omitempty"`
	// Applied counts the settings tuning applied that are still applied.
	Applied int `json:"applied"`
	// Drift lists applied settings whose running value differs.
	Drift []Drift `json:"drift"`
	// PendingRestart lists every setting waiting for a restart.
	PendingRestart []Pending `json:"pending_restart"`
	// FileErrors are pg_file_settings entries the server rejected.
	FileErrors []FileError `json:"file_errors"`
	// FileSettingsReadable is false when the role may not read
	// pg_file_settings (it needs a superuser or pg_read_all_settings).
	FileSettingsReadable bool `json:"file_settings_readable"`
}

// TuneRun names a tune run.
type TuneRun struct {
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	At         time.Time `json:"at"`
}

// Drift is a setting whose running value is not what tuning applied.
type Drift struct {
	Name    string `json:"name"`
	Applied string `json:"applied"`
	Running string `json:"running"`
	Source  string `json:"source,omitempty"`
	RunID   string `json:"run_id"`
}

// Pending is a setting waiting for a restart. Values are shown for the
// tune stage's allow-listed settings only.
type Pending struct {
	Name string `json:"name"`
	// Running is the value now, Configured the one a restart makes live.
	Running    string `json:"running,omitempty"`
	Configured string `json:"configured,omitempty"`
}

// FileError is a configuration file line the server rejected.
type FileError struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Name  string `json:"name"`
	Error string `json:"error"`
}

// IngestRun is the last walk of an endpoint, with its rates.
type IngestRun struct {
	Endpoint   string     `json:"endpoint"`
	WalkID     string     `json:"walk_id"`
	WorkflowID string     `json:"workflow_id"`
	Mode       string     `json:"mode"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Seconds is the walk's duration (until now while it runs).
	Seconds   float64 `json:"seconds"`
	Pages     int     `json:"pages"`
	Items     int64   `json:"items"`
	Inserted  int64   `json:"inserted"`
	Updated   int64   `json:"updated"`
	Unchanged int64   `json:"unchanged"`
	Requests  int     `json:"requests"`
	// MinRequests is the fewest requests the lists allow.
	MinRequests int `json:"min_requests"`
	Retries     int `json:"retries"`
	// RateLimited counts 429s (and waits the shared budget refused).
	RateLimited    int     `json:"rate_limited"`
	ItemsPerSecond float64 `json:"items_per_second"`
	PagesPerSecond float64 `json:"pages_per_second"`
	// SuccessPct is the share of requests that did not fail.
	SuccessPct float64 `json:"success_pct"`
	// Count is what the API reported, Confirmed what the walk found, Gap
	// what it could not; CompletePct is Confirmed over Count (nil
	// without a count).
	Count       int64    `json:"count"`
	Confirmed   int64    `json:"confirmed"`
	Gap         int64    `json:"gap"`
	CompletePct *float64 `json:"complete_pct,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// Worker is the view of the worker process that collected the report.
type Worker struct {
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
	// UptimeSeconds is how long the process has run.
	UptimeSeconds float64 `json:"uptime_seconds"`
	Pool          Pool    `json:"pool"`
	// CPUSeconds is the process's CPU time; CPUPct its average use of one
	// CPU since the start.
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPct     float64 `json:"cpu_pct"`
	RSSBytes   uint64  `json:"rss_bytes"`
	Goroutines int     `json:"goroutines"`
}

// Pool is the worker's pgx pool.
type Pool struct {
	MaxConns      int32 `json:"max_conns"`
	TotalConns    int32 `json:"total_conns"`
	AcquiredConns int32 `json:"acquired_conns"`
	IdleConns     int32 `json:"idle_conns"`
	// Acquires counts acquisitions; Waited those that found no idle
	// connection; Canceled those given up.
	Acquires int64 `json:"acquires"`
	Waited   int64 `json:"waited"`
	Canceled int64 `json:"canceled"`
	// AcquireSeconds is the total time spent acquiring, AvgAcquireMS its
	// mean.
	AcquireSeconds float64 `json:"acquire_seconds"`
	AvgAcquireMS   float64 `json:"avg_acquire_ms"`
}

// Summarize fills r.Summary: the server and sizes, then what needs
// attention.
func (r *Report) Summarize() {
	var b strings.Builder
	fmt.Fprintf(&b, "PostgreSQL %s: database %s %s (congress %s in %d tables, ~%s rows)",
		majorMinor(r.Server.Version), r.Server.Database, Bytes(r.Sizes.DatabaseBytes), Bytes(r.Sizes.SchemaBytes),
		r.Sizes.Tables, thousands(r.Sizes.RowEstimate))
	if r.Cache.HitPct != nil {
		fmt.Fprintf(&b, ", cache hit %.1f%%", *r.Cache.HitPct)
	}
	fmt.Fprintf(&b, ", %d of %d connections", r.Connections.Used, r.Connections.Max)
	if n := len(r.Ingest); n > 0 {
		// The walks run side by side: the rate is over the time from the
		// first start to the last end.
		var items, count, confirmed int64
		var first, last time.Time
		for _, in := range r.Ingest {
			items += in.Items
			count += in.Count
			confirmed += in.Confirmed
			end := in.StartedAt.Add(time.Duration(in.Seconds * float64(time.Second)))
			if first.IsZero() || in.StartedAt.Before(first) {
				first = in.StartedAt
			}
			if end.After(last) {
				last = end
			}
		}
		secs := last.Sub(first).Seconds()
		fmt.Fprintf(&b, "; last ingest: %d endpoint%s", n, plural(n))
		if count > 0 {
			fmt.Fprintf(&b, ", %s complete", pct(100*float64(confirmed)/float64(count)))
		}
		if secs > 0 {
			fmt.Fprintf(&b, ", %.0f items/s", float64(items)/secs)
		}
	}
	var attention []string
	add := func(n int, one, many string) {
		if n == 1 {
			attention = append(attention, one)
		} else if n > 1 {
			attention = append(attention, fmt.Sprintf(many, n))
		}
	}
	add(len(r.Settings.Drift), "1 setting drifted", "%d settings drifted")
	add(len(r.Settings.PendingRestart), "1 setting waits for a restart", "%d settings wait for a restart")
	add(len(r.Settings.FileErrors), "1 configuration error", "%d configuration errors")
	add(len(r.Connections.LongRunning), "1 long-running query", "%d long-running queries")
	add(len(r.Connections.IdleInTransaction), "1 session idle in transaction", "%d sessions idle in transaction")
	add(len(r.UnusedIndexes), "1 unused index", "%d unused indexes")
	failed := 0
	for _, in := range r.Ingest {
		if in.Status == "failed" {
			failed++
		}
	}
	add(failed, "1 failed walk", "%d failed walks")
	if !r.Statements.Available {
		attention = append(attention, "pg_stat_statements off")
	}
	if len(attention) > 0 {
		b.WriteString("; attention: " + strings.Join(attention, ", "))
	}
	r.Summary = b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// majorMinor is "15.18" of "15.18 (Debian 15.18-0+deb12u1)".
func majorMinor(version string) string {
	v, _, _ := strings.Cut(version, " ")
	return v
}

// Bytes formats a size with binary units: 1.2 GiB, 980 MiB, 12 kB.
func Bytes(n int64) string {
	const unit = 1024
	if n < 0 {
		return "-" + Bytes(-n)
	}
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	suffix := []string{"kB", "MiB", "GiB", "TiB", "PiB"}[exp]
	if v >= 100 {
		return fmt.Sprintf("%.0f %s", v, suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// pct formats a percentage with one decimal, dropping ".0" at 100.
func pct(v float64) string {
	if v >= 99.95 && v <= 100.05 {
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", v)
}
