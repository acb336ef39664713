package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

func bill(t *testing.T, number int, title string) congress.Item {
	t.Helper()
	ep, _ := congress.EndpointByName("bill")
	it, err := ep.ItemFromJSON(fmt.Appendf(nil, `{"congress":118,"type":"HR","number":"%d","title":%q,
		"originChamber":"House","updateDate":"2024-03-0%d","latestAction":{"actionDate":"2024-02-01","text":"Referred."}}`,
		number, title, 1+number%9))
	require.NoError(t, err)
	return it
}

func upsert(t *testing.T, pool *pgxpool.Pool, ts *store.Tables, endpoint string, items []congress.Item) store.UpsertCounts {
	t.Helper()
	var c store.UpsertCounts
	require.NoError(t, pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		c, err = ts.Upsert(context.Background(), tx, endpoint, items)
		return err
	}))
	return c
}

// TestUpsertWritesOnlyWhatChanged loads a page, loads it again, then a
// page with one changed, one new and one duplicated item.
func TestUpsertWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	ts := store.NewTables()

	page := []congress.Item{bill(t, 1, "One"), bill(t, 2, "Two"), bill(t, 3, "Three")}
	require.Equal(t, store.UpsertCounts{Inserted: 3}, upsert(t, pool, ts, "bill", page))
	require.Equal(t, store.UpsertCounts{Unchanged: 3}, upsert(t, pool, ts, "bill", page))

	var before time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT updated_at FROM congress.bill WHERE number = '1'`).Scan(&before))
	next := []congress.Item{bill(t, 1, "One, amended"), bill(t, 2, "Two"), bill(t, 4, "Four"), bill(t, 4, "Four, again")}
	require.Equal(t, store.UpsertCounts{Inserted: 1, Updated: 1, Unchanged: 1}, upsert(t, pool, ts, "bill", next))

	var (
		title, last string
		data        json.RawMessage
		congressNo  int64
		updated     time.Time
		actionDate  time.Time
	)
	require.NoError(t, pool.QueryRow(ctx, `SELECT title, data, congress, updated_at, latest_action_date FROM congress.bill WHERE number = '1'`).
		Scan(&title, &data, &congressNo, &updated, &actionDate))
	require.Equal(t, "One, amended", title)
	require.JSONEq(t, string(next[0].Raw), string(data), "data is the item as served")
	require.EqualValues(t, 118, congressNo)
	require.True(t, updated.After(before) || updated.Equal(before))
	require.Equal(t, "2024-02-01", actionDate.Format(time.DateOnly))
	require.NoError(t, pool.QueryRow(ctx, `SELECT title FROM congress.bill WHERE number = '4'`).Scan(&last))
	require.Equal(t, "Four, again", last, "the last duplicate in a page wins")

	// last_seen_at moves at most once a day: a row seen a day ago is
	// written again (counted unchanged), its updated_at kept.
	_, err := pool.Exec(ctx, `UPDATE congress.bill SET last_seen_at = now() - interval '2 days', updated_at = '2020-01-01' WHERE number = '2'`)
	require.NoError(t, err)
	require.Equal(t, store.UpsertCounts{Unchanged: 1}, upsert(t, pool, ts, "bill", []congress.Item{bill(t, 2, "Two")}))
	var seen, upd time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT last_seen_at, updated_at FROM congress.bill WHERE number = '2'`).Scan(&seen, &upd))
	require.WithinDuration(t, time.Now(), seen, time.Minute)
	require.Equal(t, 2020, upd.Year())

	rows, err := store.TableRows(ctx, pool, []string{"bill", "member"})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"bill": 4, "member": 0}, rows)
}

// TestEveryEndpointHasItsTable checks the migrated schema against the
// registry: a table per endpoint, keyed by the natural key, with the typed
// columns; and that the fake's items of each endpoint go in, typed columns
// filled.
func TestEveryEndpointHasItsTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	fake, err := congresstest.NewHandler(congresstest.Options{ItemsPerEndpoint: 300})
	require.NoError(t, err)
	ts := store.NewTables()
	for _, ep := range congress.Endpoints() {
		items, err := fake.Items(ep.Name)
		require.NoError(t, err)
		require.Equal(t, store.UpsertCounts{Inserted: len(items)}, upsert(t, pool, ts, ep.Name, items), ep.Name)
		var stored int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM congress.`+store.TableName(ep.Name)+
			` WHERE data = ANY($1::jsonb[])`, rawStrings(items)).Scan(&stored))
		require.Equal(t, len(items), stored, "%s: data holds the items as served", ep.Name)
		// Walked again with fresh Tables (which ask which rows are
		// unchanged before staging any), nothing is written; one item
		// changed is.
		require.Equal(t, store.UpsertCounts{Unchanged: len(items)}, upsert(t, pool, store.NewTables(), ep.Name, items), ep.Name)
		changed := slices.Clone(items)
		changed[0].Raw = append(json.RawMessage(`{"changed": true, `), changed[0].Raw[1:]...)
		require.Equal(t, store.UpsertCounts{Updated: 1, Unchanged: len(items) - 1}, upsert(t, pool, store.NewTables(), ep.Name, changed), ep.Name)

		table := store.TableName(ep.Name)
		cols := map[string]string{}
		rows, err := pool.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = 'congress' AND table_name = $1`, table)
		require.NoError(t, err)
		for rows.Next() {
			var name, typ string
			require.NoError(t, rows.Scan(&name, &typ))
			cols[name] = typ
		}
		require.NoError(t, rows.Err())
		require.NotEmpty(t, cols, "table congress.%s", table)
		want := map[congress.ColumnType]string{
			congress.TypeText: "text", congress.TypeInt: "bigint", congress.TypeBool: "boolean", congress.TypeDate: "date",
			congress.TypeTime: "timestamp with time zone", congress.TypeJSON: "jsonb",
		}
		for _, k := range ep.Key {
			require.Equal(t, want[k.Type], cols[k.Name], "%s key %s", table, k.Name)
		}
		for _, c := range ep.Columns {
			require.Equal(t, want[c.Type], cols[c.Name], "%s column %s", table, c.Name)
		}
		for _, c := range []string{"data", "content_hash", "first_seen_at", "last_seen_at", "updated_at"} {
			require.Contains(t, cols, c, table)
		}
		var pk []string
		require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(a.attname ORDER BY k.ord)
FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = ('congress.' || quote_ident($1))::regclass AND i.indisprimary`, table).Scan(&pk))
		require.Equal(t, ep.KeyNames(), pk, "%s primary key", table)
		for _, c := range ep.Columns {
			var filled int
			require.NoError(t, pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(%s) FROM congress.%s`, pgx.Identifier{c.Name}.Sanitize(), table)).Scan(&filled))
			require.Positive(t, filled, "%s.%s is never filled", table, c.Name)
		}
	}
}

func rawStrings(items []congress.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it.Raw)
	}
	return out
}

// TestSeenSetsAndCursors covers the walk bookkeeping.
func TestSeenSetsAndCursors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))

	n, err := store.RecordSeen(ctx, pool, "walk-1", 7, []string{"a", "b", "c"})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = store.RecordSeen(ctx, pool, "walk-1", 7, []string{"b", "c", "d"})
	require.NoError(t, err)
	require.Equal(t, 1, n, "only d is new in scope 7")
	n, err = store.RecordSeen(ctx, pool, "walk-1", 8, []string{"b"})
	require.NoError(t, err)
	require.Equal(t, 1, n, "scopes are separate")
	require.NoError(t, store.ForgetSeen(ctx, pool, "walk-1"))
	n, err = store.RecordSeen(ctx, pool, "walk-1", 7, []string{"a"})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	_, _, found, err := store.LoadCursor(ctx, pool, "walk-1")
	require.NoError(t, err)
	require.False(t, found)
	require.NoError(t, store.SaveCursor(ctx, pool, "walk-1", "bill", 3, []byte(`{"pages":3}`)))
	require.NoError(t, store.SaveCursor(ctx, pool, "walk-1", "bill", 4, []byte(`{"pages":4}`)))
	seq, cur, found, err := store.LoadCursor(ctx, pool, "walk-1")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, 4, seq)
	require.JSONEq(t, `{"pages":4}`, string(cur))

	run := store.IngestRun{WalkID: "walk-1", WorkflowID: "wf", RunID: "r1", Endpoint: "bill", Mode: "full",
		WindowTo: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Status: store.RunRunning, Pages: 2, Items: 500}
	require.NoError(t, store.SaveIngestRun(ctx, pool, run))
	run.Status, run.Pages, run.Items, run.RunID = store.RunCompleted, 5, 1200, "r2"
	require.NoError(t, store.SaveIngestRun(ctx, pool, run))
	got, err := store.GetIngestRun(ctx, pool, "walk-1")
	require.NoError(t, err)
	require.Equal(t, store.RunCompleted, got.Status)
	require.EqualValues(t, 1200, got.Items)
	require.Equal(t, "r2", got.RunID)
	require.NotNil(t, got.FinishedAt)
	require.Empty(t, got.Congresses)
}
