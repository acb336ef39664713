package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// queryWidth is how much of a query text a table shows.
const queryWidth = 70

// Write renders the report as sections of aligned tables, for a terminal.
func Write(w io.Writer, r Report) error {
	p := &printer{w: w}
	p.line("%s", r.Summary)
	p.line("collected %s%s", r.CollectedAt.Format(time.RFC3339), idNote(r.ID))

	s := r.Server
	p.section("SERVER")
	p.line("PostgreSQL %s, database %s, up since %s%s", s.Version, s.Database, s.StartedAt.UTC().Format(time.RFC3339), since(s.StatsReset))
	if !s.Superuser {
		p.line("not a superuser: other roles' queries and some settings may be hidden (grant pg_read_all_stats and pg_read_all_settings)")
	}

	st := r.Statements
	if st.Available {
		p.section(fmt.Sprintf("TOP STATEMENTS (pg_stat_statements %s, this database, by total time)", st.Version))
		t := p.table("CALLS", "TOTAL MS", "MEAN MS", "ROWS", "HIT %", "QUERY")
		for _, q := range st.Top {
			t.row(q.Calls, fmt.Sprintf("%.1f", q.TotalMS), fmt.Sprintf("%.2f", q.MeanMS), q.Rows, optPct(q.HitPct), cut(q.Query, queryWidth))
		}
		t.flush("no statements recorded yet")
	} else {
		p.section("TOP STATEMENTS")
		p.line("%s", st.Hint)
	}

	c := r.Connections
	p.section(fmt.Sprintf("CONNECTIONS: %d of max_connections %d (%d reserved for superusers)", c.Used, c.Max, c.Reserved))
	t := p.table("STATE", "SESSIONS")
	for _, s := range c.ByState {
		t.row(s.State, s.Count)
	}
	t.flush("no client sessions")
	p.sub(fmt.Sprintf("queries running longer than %s", secs(c.LongRunningAfterSeconds)))
	sessions(p, c.LongRunning)
	p.sub(fmt.Sprintf("sessions idle in a transaction longer than %s", secs(c.IdleInTransactionAfterSeconds)))
	sessions(p, c.IdleInTransaction)

	z := r.Sizes
	p.section(fmt.Sprintf("SIZES: database %s, schema congress %s in %d tables, ~%s rows",
		Bytes(z.DatabaseBytes), Bytes(z.SchemaBytes), z.Tables, thousands(z.RowEstimate)))
	t = p.table("TABLE", "TOTAL", "HEAP", "INDEXES", "TOAST", "ROWS (EST)", "DEAD %", "EST BLOAT %", "HEAP HIT %", "INDEX HIT %", "LAST VACUUM", "LAST ANALYZE")
	for _, tb := range r.Tables {
		rows := "unknown"
		if tb.RowEstimate >= 0 {
			rows = thousands(tb.RowEstimate)
		}
		t.row(tb.Name, Bytes(tb.TotalBytes), Bytes(tb.HeapBytes), Bytes(tb.IndexBytes), Bytes(tb.ToastBytes), rows,
			fmt.Sprintf("%.1f", tb.DeadPct), optPct(tb.EstBloatPct), optPct(tb.HitPct), optPct(tb.IndexHitPct),
			when(tb.LastVacuum, r.CollectedAt), when(tb.LastAnalyze, r.CollectedAt))
	}
	t.flush("no tables in schema congress")

	p.section(fmt.Sprintf("CACHE: hit ratio %s%% in this database, %s%% in all databases", optPct(r.Cache.HitPct), optPct(r.Cache.ClusterHitPct)))

	p.section("UNUSED INDEXES (never scanned since the statistics were reset; unique and primary keys aside)")
	t = p.table("INDEX", "TABLE", "SIZE", "SCANS")
	for _, i := range r.UnusedIndexes {
		t.row(i.Name, i.Table, Bytes(i.Bytes), i.Scans)
	}
	t.flush("none")

	ck := r.Checkpoints
	p.section(fmt.Sprintf("CHECKPOINTS (%s)%s", ck.Source, since(ck.StatsReset)))
	if ck.Source != "" {
		p.line("timed %d, requested %d (%.1f%% requested%s); writing %s, syncing %s",
			ck.Timed, ck.Requested, ck.RequestedPct, requestedAdvice(ck), secs(ck.WriteMS/1000), secs(ck.SyncMS/1000))
		backend := "unknown"
		if ck.BuffersBackend != nil {
			backend = thousands(*ck.BuffersBackend)
		}
		p.line("buffers written: %s by checkpoints, %s by the background writer (it stopped %d times at bgwriter_lru_maxpages), %s by backends; %s allocated",
			thousands(ck.BuffersCheckpoint), thousands(ck.BuffersClean), ck.MaxWrittenClean, backend, thousands(ck.BuffersAlloc))
	}

	se := r.Settings
	p.section("SETTINGS")
	if se.LastTune != nil {
		p.line("%d settings applied by tuning; the latest run: %s (workflow %s) at %s",
			se.Applied, se.LastTune.RunID, se.LastTune.WorkflowID, se.LastTune.At.UTC().Format(time.RFC3339))
	} else {
		p.line("no tuning applied on this server (starter tune --apply)")
	}
	p.sub("drift: applied by tuning, running something else")
	t = p.table("SETTING", "APPLIED", "RUNNING", "SOURCE", "TUNE RUN")
	for _, d := range se.Drift {
		t.row(d.Name, d.Applied, d.Running, d.Source, d.RunID)
	}
	t.flush("none")
	p.sub("waiting for a restart")
	t = p.table("SETTING", "RUNNING", "AFTER A RESTART")
	for _, pr := range se.PendingRestart {
		t.row(pr.Name, dash(pr.Running), dash(pr.Configured))
	}
	t.flush("none")
	p.sub("configuration lines the server rejected (pg_file_settings)")
	if !se.FileSettingsReadable {
		p.line("not readable by this role (needs a superuser or pg_read_all_settings)")
	} else {
		t = p.table("FILE", "LINE", "SETTING", "ERROR")
		for _, f := range se.FileErrors {
			t.row(f.File, f.Line, f.Name, f.Error)
		}
		t.flush("none")
	}

	p.section("INGEST (the last walk of each endpoint)")
	t = p.table("ENDPOINT", "STATUS", "ITEMS", "ITEMS/S", "PAGES/S", "REQUESTS", "MIN", "SUCCESS %", "RETRIES", "429s", "DURATION", "COMPLETE %", "STARTED")
	for _, in := range r.Ingest {
		t.row(in.Endpoint, in.Status, thousands(in.Items), fmt.Sprintf("%.1f", in.ItemsPerSecond), fmt.Sprintf("%.2f", in.PagesPerSecond),
			in.Requests, in.MinRequests, fmt.Sprintf("%.1f", in.SuccessPct), in.Retries, in.RateLimited, secs(in.Seconds),
			completeness(in), in.StartedAt.UTC().Format("2006-01-02 15:04"))
	}
	t.flush("no ingest has run")
	for _, in := range r.Ingest {
		if in.Error != "" {
			p.line("%s: %s", in.Endpoint, in.Error)
		}
	}

	wk := r.Worker
	p.section(fmt.Sprintf("WORKER %s (pid %d, up %s)", wk.Hostname, wk.PID, secs(wk.UptimeSeconds)))
	pl := wk.Pool
	p.line("pool: %d in use, %d idle, %d open of %d; %s acquisitions, %s waited for a connection, %d cancelled, %.2f ms on average",
		pl.AcquiredConns, pl.IdleConns, pl.TotalConns, pl.MaxConns, thousands(pl.Acquires), thousands(pl.Waited), pl.Canceled, pl.AvgAcquireMS)
	p.line("process: CPU %s (%.1f%% of one CPU since the start), RSS %s, %d goroutines",
		secs(wk.CPUSeconds), wk.CPUPct, Bytes(int64(wk.RSSBytes)), wk.Goroutines)

	if tr := r.Trend; tr != nil {
		writeTrend(p, *tr)
	}
	if len(r.Notes) > 0 {
		p.section("NOT COLLECTED")
		for _, n := range r.Notes {
			p.line("%s", n)
		}
	}
	return p.err
}

func writeTrend(p *printer, tr Trend) {
	p.section(fmt.Sprintf("TREND since %s (%d reports)", tr.Since.Format(time.RFC3339), tr.Reports))
	t := p.table("AT", "DATABASE", "CONGRESS", "ROWS (EST)")
	for _, pt := range tr.Points {
		t.row(pt.At.Format("2006-01-02 15:04"), Bytes(pt.DatabaseBytes), Bytes(pt.SchemaBytes), thousands(pt.RowEstimate))
	}
	t.flush("no stored reports in the period")
	p.sub("tables, largest growth first")
	t = p.table("TABLE", "FIRST", "LAST", "CHANGE", "PER DAY", "ROWS FIRST", "ROWS LAST")
	for _, tb := range tr.Tables {
		t.row(tb.Name, Bytes(tb.FirstBytes), Bytes(tb.LastBytes), signedBytes(tb.ChangeBytes), signedBytes(int64(tb.BytesPerDay)),
			thousands(tb.FirstRows), thousands(tb.LastRows))
	}
	t.flush("none")
	p.sub("ingest rates of completed walks, items/s")
	t = p.table("ENDPOINT", "WALKS", "FIRST", "LAST", "MIN", "MEDIAN", "MAX")
	for _, in := range tr.Ingest {
		t.row(in.Endpoint, in.Walks, fmt.Sprintf("%.1f", in.First), fmt.Sprintf("%.1f", in.Last), fmt.Sprintf("%.1f", in.Min),
			fmt.Sprintf("%.1f", in.Median), fmt.Sprintf("%.1f", in.Max))
	}
	t.flush("no completed walk in the period")
}

func sessions(p *printer, ss []Session) {
	t := p.table("PID", "USER", "DATABASE", "APPLICATION", "STATE", "FOR", "TRANSACTION", "WAITING ON", "QUERY")
	for _, s := range ss {
		t.row(s.PID, s.User, s.Database, s.Application, s.State, secs(s.Seconds), secs(s.TransactionSeconds), dash(s.Wait), cut(s.Query, queryWidth))
	}
	t.flush("none")
}

// requestedAdvice reads the checkpoint counters.
func requestedAdvice(c Checkpoints) string {
	if c.Timed+c.Requested >= 10 && c.RequestedPct > 20 {
		return ": max_wal_size is too small for the write load"
	}
	return ""
}

func completeness(in IngestRun) string {
	if in.CompletePct == nil {
		return "-"
	}
	s := fmt.Sprintf("%.1f", *in.CompletePct)
	if in.Gap > 0 {
		s += fmt.Sprintf(" (%d missing)", in.Gap)
	}
	return s
}

func idNote(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf(", stored as ops.reports id %d", id)
}

func since(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ", statistics since " + t.UTC().Format(time.RFC3339)
}

func optPct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return secs(now.Sub(*t).Seconds()) + " ago"
}

// secs formats seconds as a short duration: 850ms, 12.3s, 4m10s, 3h2m, 2d4h.
func secs(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	days := int(d / (24 * time.Hour))
	return fmt.Sprintf("%dd%dh", days, int((d-time.Duration(days)*24*time.Hour)/time.Hour))
}

func signedBytes(n int64) string {
	if n > 0 {
		return "+" + Bytes(n)
	}
	return Bytes(n)
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// printer writes sections and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *printer) section(title string) { p.line("\n%s", title) }

func (p *printer) sub(title string) { p.line("  %s:", title) }

// table starts an aligned table with the given header.
func (p *printer) table(header ...string) *table {
	return &table{p: p, header: header}
}

type table struct {
	p      *printer
	header []string
	rows   [][]string
}

func (t *table) row(cells ...any) {
	r := make([]string, len(cells))
	for i, c := range cells {
		r[i] = strings.ReplaceAll(fmt.Sprint(c), "\t", " ")
	}
	t.rows = append(t.rows, r)
}

// flush prints the table, or empty (indented) when it has no row.
func (t *table) flush(empty string) {
	if len(t.rows) == 0 {
		t.p.line("    %s", empty)
		return
	}
	if t.p.err != nil {
		return
	}
	tw := tabwriter.NewWriter(t.p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    "+strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, "    "+strings.Join(r, "\t"))
	}
	t.p.err = tw.Flush()
}
