package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// CongressSchema is the schema of the Congress.gov tables.
const CongressSchema = "congress"

// TableName returns the table of an endpoint: its name with '-' as '_'
// ("house-vote" is congress.house_vote).
func TableName(endpoint string) string { return strings.ReplaceAll(endpoint, "-", "_") }

// Tables knows how to write each endpoint's items into its table. Build it
// once with [NewTables]; it is safe for concurrent use.
type Tables struct {
	byName map[string]*table
}

// table is one endpoint's table and its prepared SQL.
type table struct {
	ep       congress.Endpoint
	ident    string   // congress.<name>, sanitized
	stage    string   // the temporary staging table, sanitized
	copyCols []string // staged columns, in COPY order
	create   string   // creates the staging table when the session lacks it
	upsert   string   // staging → table, returning inserted and updated counts
	same     string   // ordinals of keys stored with the same content, seen today
}

// NewTables prepares the SQL for every registry endpoint. Identifiers come
// from the registry (an allow-list) and are quoted.
func NewTables() *Tables {
	ts := &Tables{byName: map[string]*table{}}
	for _, ep := range congress.Endpoints() {
		ts.byName[ep.Name] = newTable(ep)
	}
	return ts
}

func newTable(ep congress.Endpoint) *table {
	name := TableName(ep.Name)
	t := &table{
		ep:    ep,
		ident: pgx.Identifier{CongressSchema, name}.Sanitize(),
		stage: pgx.Identifier{"_stage_" + name}.Sanitize(),
	}
	var keys []string
	for _, k := range ep.Key {
		keys = append(keys, k.Name)
	}
	t.copyCols = append(t.copyCols, keys...)
	for _, c := range ep.Columns {
		t.copyCols = append(t.copyCols, c.Name)
	}
	if ep.UpdateField != "" {
		t.copyCols = append(t.copyCols, "update_date")
	}
	t.copyCols = append(t.copyCols, "data", "content_hash")

	quote := func(cols []string) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = pgx.Identifier{c}.Sanitize()
		}
		return out
	}
	cols, keyCols := quote(t.copyCols), quote(keys)
	var set []string
	for _, c := range cols[len(keys):] {
		set = append(set, c+" = excluded."+c)
	}
	var arrays, aliases, join []string
	for i, k := range ep.Key {
		arrays = append(arrays, fmt.Sprintf("$%d::%s[]", i+1, k.Type))
		aliases = append(aliases, fmt.Sprintf("k%d", i))
		join = append(join, fmt.Sprintf("t.%s = s.k%d", keyCols[i], i))
	}
	// The ordinals (1-based) of keys whose stored content hash is the one
	// given and whose row was seen within the day: the upsert would leave
	// them alone, so they need not be staged.
	t.same = fmt.Sprintf(`SELECT s.i FROM unnest(%s, $%d::bytea[]) WITH ORDINALITY AS s(%s, h, i)
JOIN %s t ON %s
WHERE t.content_hash = s.h AND t.last_seen_at >= now() - interval '1 day'`,
		strings.Join(arrays, ", "), len(ep.Key)+1, strings.Join(aliases, ", "), t.ident, strings.Join(join, " AND "))
	t.create = fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`, t.stage, t.ident)
	// A row is written when its content changed, or to move last_seen_at
	// on at most once a day; updated_at moves only with the content.
	t.upsert = fmt.Sprintf(`WITH up AS (
    INSERT INTO %[1]s AS t (%[2]s, first_seen_at, last_seen_at, updated_at)
    SELECT %[2]s, now(), now(), now() FROM %[3]s
    ON CONFLICT (%[4]s) DO UPDATE SET %[5]s,
        last_seen_at = excluded.last_seen_at,
        updated_at = CASE WHEN t.content_hash IS DISTINCT FROM excluded.content_hash THEN excluded.updated_at ELSE t.updated_at END
    WHERE t.content_hash IS DISTINCT FROM excluded.content_hash
       OR t.last_seen_at < excluded.last_seen_at - interval '1 day'
    RETURNING (xmax = 0) AS inserted, updated_at = now() AS changed
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE changed AND NOT inserted) FROM up`,
		t.ident, strings.Join(cols, ", "), t.stage, strings.Join(keyCols, ", "), strings.Join(set, ", "))
	return t
}

func (ts *Tables) table(endpoint string) (*table, error) {
	t, ok := ts.byName[endpoint]
	if !ok {
		return nil, fmt.Errorf("store: no table for endpoint %q", endpoint)
	}
	return t, nil
}

// UpsertCounts says what an upsert did with a page's distinct items.
type UpsertCounts struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// Add returns the sum of two counts.
func (c UpsertCounts) Add(o UpsertCounts) UpsertCounts {
	return UpsertCounts{c.Inserted + o.Inserted, c.Updated + o.Updated, c.Unchanged + o.Unchanged}
}

// Upsert writes items of endpoint in tx: COPY into a temporary staging
// table, then one INSERT … ON CONFLICT that rewrites only rows whose
// content hash changed. Rows stored already with the same content are
// found first, by key and hash, and left out of the COPY: a walk over
// data that has not changed sends keys and hashes, not documents (an
// unchanged re-ingest runs about 4 times as fast as a first load; the
// lookup costs a first load a few per cent).
// Duplicate keys within items keep the last one.
func (ts *Tables) Upsert(ctx context.Context, tx pgx.Tx, endpoint string, items []congress.Item) (UpsertCounts, error) {
	var c UpsertCounts
	if len(items) == 0 {
		return c, nil
	}
	t, err := ts.table(endpoint)
	if err != nil {
		return c, err
	}
	batch, err := t.distinct(items)
	if err != nil {
		return c, err
	}
	same, err := t.unchanged(ctx, tx, batch)
	if err != nil {
		return c, err
	}
	c.Unchanged = len(same)
	batch = batch.without(same)
	if len(batch.items) == 0 {
		return c, nil
	}
	if _, err := tx.Exec(ctx, t.create); err != nil {
		return c, wrap("create staging table for "+endpoint, err)
	}
	// Rows are built as COPY sends them, so the typed columns are
	// extracted while the server takes the rows before them.
	next, rowErr := 0, error(nil)
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		if next == len(batch.items) {
			return nil, nil
		}
		row, err := t.row(batch, next)
		next++
		rowErr = err
		return row, err
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"_stage_" + TableName(endpoint)}, t.copyCols, rows); err != nil {
		if rowErr != nil {
			return c, rowErr
		}
		return c, wrap("copy "+endpoint+" items", err)
	}
	var ins, upd int
	if err := tx.QueryRow(ctx, t.upsert).Scan(&ins, &upd); err != nil {
		return c, wrap("upsert "+endpoint+" items", err)
	}
	c.Inserted, c.Updated = ins, upd
	c.Unchanged += len(batch.items) - ins - upd
	return c, nil
}

// batch is a page's distinct items with their typed keys and hashes.
type batch struct {
	items  []congress.Item
	keys   [][]any // per key field, one value per item
	hashes [][]byte
}

// distinct keys the items (the last of a key wins), types their key parts
// and hashes their bytes.
func (t *table) distinct(items []congress.Item) (batch, error) {
	index := make(map[string]int, len(items))
	b := batch{keys: make([][]any, len(t.ep.Key))}
	for _, it := range items {
		sum := sha256.Sum256(it.Raw)
		if i, dup := index[it.Key]; dup {
			b.items[i], b.hashes[i] = it, sum[:]
			continue
		}
		index[it.Key] = len(b.items)
		b.items = append(b.items, it)
		b.hashes = append(b.hashes, sum[:])
		for i, k := range t.ep.Key {
			v := it.KeyParts[i]
			if k.Type != congress.TypeInt {
				b.keys[i] = append(b.keys[i], v)
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return batch{}, fmt.Errorf("store: %s key %s %q is not an integer", t.ep.Name, k.Name, v)
			}
			b.keys[i] = append(b.keys[i], n)
		}
	}
	return b, nil
}

// without returns the batch less the items at the given indexes.
func (b batch) without(drop map[int]bool) batch {
	if len(drop) == 0 {
		return b
	}
	out := batch{keys: make([][]any, len(b.keys))}
	for j := range b.items {
		if drop[j] {
			continue
		}
		out.items = append(out.items, b.items[j])
		out.hashes = append(out.hashes, b.hashes[j])
		for i := range b.keys {
			out.keys[i] = append(out.keys[i], b.keys[i][j])
		}
	}
	return out
}

// unchanged returns the indexes of the batch's items stored already with
// the same content and seen within the day.
func (t *table) unchanged(ctx context.Context, tx pgx.Tx, b batch) (map[int]bool, error) {
	// Each key field's values go as one typed array ($n::bigint[] or
	// ::text[], from the registry).
	args := make([]any, 0, len(b.keys)+1)
	for _, vs := range b.keys {
		args = append(args, vs)
	}
	args = append(args, b.hashes)
	rows, err := tx.Query(ctx, t.same, args...)
	if err != nil {
		return nil, wrap("find unchanged "+t.ep.Name+" items", err)
	}
	ordinals, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, wrap("find unchanged "+t.ep.Name+" items", err)
	}
	same := make(map[int]bool, len(ordinals))
	for _, i := range ordinals {
		same[int(i)-1] = true
	}
	return same, nil
}

// row is the COPY row of the batch's j-th item.
func (t *table) row(b batch, j int) ([]any, error) {
	it := b.items[j]
	row := make([]any, 0, len(t.copyCols))
	for i := range t.ep.Key {
		row = append(row, b.keys[i][j])
	}
	vals, err := t.ep.ColumnValues(it.Raw)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	row = append(row, vals...)
	if t.ep.UpdateField != "" {
		var upd any
		if !it.UpdateDate.IsZero() {
			upd = it.UpdateDate
		}
		row = append(row, upd)
	}
	return append(row, json.RawMessage(it.Raw), b.hashes[j]), nil
}

// RecordSeen adds keys to a walk's seen set for scope and returns how many
// were new.
func RecordSeen(ctx context.Context, db DBTX, walkID string, scope int, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	tag, err := db.Exec(ctx, `INSERT INTO ops.ingest_seen (walk_id, scope, key)
SELECT $1, $2, k FROM unnest($3::text[]) AS k ON CONFLICT DO NOTHING`, walkID, scope, keys)
	if err != nil {
		return 0, wrap("record seen keys", err)
	}
	return int(tag.RowsAffected()), nil
}

// ForgetSeen drops a walk's seen sets.
func ForgetSeen(ctx context.Context, db DBTX, walkID string) error {
	_, err := db.Exec(ctx, `DELETE FROM ops.ingest_seen WHERE walk_id = $1`, walkID)
	return wrap("forget seen keys", err)
}

// SaveCursor stores a walk's cursor: seq counts the pages it has committed.
func SaveCursor(ctx context.Context, db DBTX, walkID, endpoint string, seq int, cursor []byte) error {
	_, err := db.Exec(ctx, `INSERT INTO ops.ingest_cursors (walk_id, endpoint, seq, cursor, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (walk_id) DO UPDATE SET seq = excluded.seq, cursor = excluded.cursor, updated_at = now()`,
		walkID, endpoint, seq, json.RawMessage(cursor))
	return wrap("save cursor", err)
}

// LoadCursor returns a walk's stored cursor and its seq; found is false
// when none was stored.
func LoadCursor(ctx context.Context, db DBTX, walkID string) (seq int, cursor []byte, found bool, err error) {
	err = db.QueryRow(ctx, `SELECT seq, cursor FROM ops.ingest_cursors WHERE walk_id = $1`, walkID).Scan(&seq, &cursor)
	if err == pgx.ErrNoRows {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, wrap("load cursor", err)
	}
	return seq, cursor, true, nil
}

// IngestRun is one row of ops.ingest_runs: one endpoint walk.
type IngestRun struct {
	WalkID, WorkflowID, RunID, Endpoint, Mode string
	Congresses                                []int
	WindowFrom                                *time.Time
	WindowTo                                  time.Time
	Status                                    string
	Pages                                     int
	Items, Inserted, Updated, Unchanged       int64
	Rejected                                  int64
	Requests, MinRequests, Retries, Limited   int
	Count, Confirmed, Gap                     int64
	Error                                     string
	StartedAt, UpdatedAt                      time.Time
	FinishedAt                                *time.Time
}

// Statuses of an ingest run.
const (
	RunRunning   = "running"
	RunCompleted = "completed"
	RunFailed    = "failed"
)

// SaveIngestRun inserts or updates a walk's row. StartedAt is kept from
// the first save; FinishedAt is set when the status is final.
func SaveIngestRun(ctx context.Context, db DBTX, r IngestRun) error {
	if r.Congresses == nil {
		r.Congresses = []int{}
	}
	_, err := db.Exec(ctx, `INSERT INTO ops.ingest_runs (walk_id, workflow_id, run_id, endpoint, mode, congresses,
    window_from, window_to, status, pages, items, inserted, updated, unchanged, rejected,
    requests, min_requests, retries, rate_limited, count_reported, confirmed, gap, error, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
    CASE WHEN $9 = 'running' THEN NULL ELSE now() END)
ON CONFLICT (walk_id) DO UPDATE SET run_id = excluded.run_id, status = excluded.status, pages = excluded.pages,
    items = excluded.items, inserted = excluded.inserted, updated = excluded.updated, unchanged = excluded.unchanged,
    rejected = excluded.rejected, requests = excluded.requests, min_requests = excluded.min_requests,
    retries = excluded.retries, rate_limited = excluded.rate_limited, count_reported = excluded.count_reported,
    confirmed = excluded.confirmed, gap = excluded.gap, error = excluded.error, updated_at = now(),
    finished_at = excluded.finished_at`,
		r.WalkID, r.WorkflowID, r.RunID, r.Endpoint, r.Mode, r.Congresses, r.WindowFrom, r.WindowTo, r.Status,
		r.Pages, r.Items, r.Inserted, r.Updated, r.Unchanged, r.Rejected,
		r.Requests, r.MinRequests, r.Retries, r.Limited, r.Count, r.Confirmed, r.Gap, r.Error)
	return wrap("save ingest run", err)
}

// GetIngestRun returns a walk's row.
func GetIngestRun(ctx context.Context, db DBTX, walkID string) (IngestRun, error) {
	var r IngestRun
	err := db.QueryRow(ctx, `SELECT walk_id, workflow_id, run_id, endpoint, mode, congresses, window_from, window_to, status,
    pages, items, inserted, updated, unchanged, rejected, requests, min_requests, retries, rate_limited,
    count_reported, confirmed, gap, error, started_at, updated_at, finished_at
FROM ops.ingest_runs WHERE walk_id = $1`, walkID).Scan(&r.WalkID, &r.WorkflowID, &r.RunID, &r.Endpoint, &r.Mode,
		&r.Congresses, &r.WindowFrom, &r.WindowTo, &r.Status, &r.Pages, &r.Items, &r.Inserted, &r.Updated,
		&r.Unchanged, &r.Rejected, &r.Requests, &r.MinRequests, &r.Retries, &r.Limited, &r.Count, &r.Confirmed,
		&r.Gap, &r.Error, &r.StartedAt, &r.UpdatedAt, &r.FinishedAt)
	if err != nil {
		return r, wrap("read ingest run "+walkID, err)
	}
	return r, nil
}

// TableRows returns the number of rows of each endpoint's table, exactly
// (count(*)), for the endpoints named.
func TableRows(ctx context.Context, db DBTX, endpoints []string) (map[string]int64, error) {
	out := make(map[string]int64, len(endpoints))
	for _, name := range endpoints {
		if _, ok := congress.EndpointByName(name); !ok {
			return nil, fmt.Errorf("store: no table for endpoint %q", name)
		}
		var n int64
		q := `SELECT count(*) FROM ` + pgx.Identifier{CongressSchema, TableName(name)}.Sanitize()
		if err := db.QueryRow(ctx, q).Scan(&n); err != nil {
			return nil, wrap("count rows of "+name, err)
		}
		out[name] = n
	}
	return out, nil
}

// Watermarks returns an endpoint's watermarks by congress (0: the list
// across congresses): the end of the last window walked completely.
func Watermarks(ctx context.Context, db DBTX, endpoint string) (map[int]time.Time, error) {
	rows, err := db.Query(ctx, `SELECT congress, watermark FROM ops.sync_state WHERE endpoint = $1`, endpoint)
	if err != nil {
		return nil, wrap("read watermarks", err)
	}
	out := map[int]time.Time{}
	for rows.Next() {
		var c int
		var w time.Time
		if err := rows.Scan(&c, &w); err != nil {
			return nil, wrap("read watermarks", err)
		}
		out[c] = w
	}
	return out, wrap("read watermarks", rows.Err())
}

// AdvanceWatermarks moves an endpoint's watermarks for the congresses
// given (0: the list across congresses) to at, never backwards. Call it in
// the transaction of the walk's last page.
func AdvanceWatermarks(ctx context.Context, db DBTX, endpoint string, congresses []int, at time.Time, walkID string) error {
	_, err := db.Exec(ctx, `INSERT INTO ops.sync_state (endpoint, congress, watermark, walk_id)
SELECT $1, c, $3, $4 FROM unnest($2::int[]) AS c
ON CONFLICT (endpoint, congress) DO UPDATE SET watermark = greatest(ops.sync_state.watermark, excluded.watermark),
    walk_id = CASE WHEN excluded.watermark > ops.sync_state.watermark THEN excluded.walk_id ELSE ops.sync_state.walk_id END,
    updated_at = now()`, endpoint, congresses, at, walkID)
	return wrap("advance watermarks", err)
}

// ChangedCongresses returns the congresses of bills updated at or after
// since, ascending.
func ChangedCongresses(ctx context.Context, db DBTX, since time.Time) ([]int, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT congress::int FROM congress.bill WHERE update_date >= $1 ORDER BY 1`, since)
	if err != nil {
		return nil, wrap("read changed congresses", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	return out, wrap("read changed congresses", err)
}

// CurrentCongress returns the highest congress number in congress.congress,
// or 0 when the table is empty.
func CurrentCongress(ctx context.Context, db DBTX) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT coalesce(max(number), 0)::int FROM congress.congress`).Scan(&n)
	return n, wrap("read the current congress", err)
}
