package bench_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/bench"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

// TestBenchP2Store writes 100,000 bills from the fake into congress.bill as
// the migrations create it (primary key and three b-tree indexes):
//
//   - ours: store.Tables.Upsert of every item in one transaction (first
//     load into an empty table), and in 250-item pages, one transaction
//     each, as the ingest commits pages (reported beside it);
//   - (a) psql's \copy of the same rows into a staging table and one
//     INSERT … ON CONFLICT, in one psql run: the physical limit;
//   - (b) one INSERT … ON CONFLICT per row, each its own transaction;
//   - (c) ours again over the unchanged rows against ours' first load.
func TestBenchP2Store(t *testing.T) {
	b := setup(t)
	n := b.size(100000, 20000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	// A cluster of its own with fsync on, as a production server runs: a
	// commit per row costs what it costs there.
	cluster, err := pgtest.NewCluster(ctx, pgtest.Options{Durable: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cluster.Remove(context.WithoutCancel(ctx)) })
	require.NoError(t, cluster.Start(ctx))
	url := cluster.URL("postgres")
	pool := pgtest.MigratedPool(t, url)
	batch := envInt(t, "BENCH_P2_BATCH", n)
	h, err := congresstest.NewHandler(congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"bill": n}, Seed: 41})
	require.NoError(t, err)
	items, err := h.Items("bill")
	require.NoError(t, err)
	ep, _ := congress.EndpointByName("bill")
	cols := copyColumns(ep)
	rows := rowsOf(t, ep, items)
	copyFile := filepath.Join(t.TempDir(), "bill.copy")
	writeCopyText(t, copyFile, rows)
	script := filepath.Join(t.TempDir(), "load.sql")
	require.NoError(t, os.WriteFile(script, []byte(psqlScript(cols, copyFile)), 0o644))
	psql := psqlPath(t)
	tables := store.NewTables()

	reset := func() {
		_, err := pool.Exec(ctx, "TRUNCATE congress.bill")
		require.NoError(t, err)
		_, err = pool.Exec(ctx, "CHECKPOINT")
		require.NoError(t, err)
	}
	count := func() int {
		var c int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM congress.bill").Scan(&c))
		return c
	}
	ours := func(batch, wantInserted int) time.Duration {
		began := time.Now()
		var got store.UpsertCounts
		for i := 0; i < len(items); i += batch {
			page := items[i:min(i+batch, len(items))]
			require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				c, err := tables.Upsert(ctx, tx, "bill", page)
				got = got.Add(c)
				return err
			}))
		}
		took := time.Since(began)
		require.Equal(t, wantInserted, got.Inserted)
		require.Equal(t, n, count())
		return took
	}

	var first, again, paged, copyT, rowT []time.Duration
	var sa, sb, sc []float64
	for run := range b.count {
		reset()
		first = append(first, ours(batch, n))
		again = append(again, ours(batch, 0))
		reset()
		paged = append(paged, ours(congress.MaxLimit, n))

		reset()
		began := time.Now()
		out, err := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", script).CombinedOutput()
		copyT = append(copyT, time.Since(began))
		require.NoError(t, err, "psql: %s", out)
		require.Equal(t, n, count())

		reset()
		rowT = append(rowT, rowByRow(t, ctx, pool, cols, rows))
		require.Equal(t, n, count())

		sa = append(sa, copyT[run].Seconds()/first[run].Seconds())
		sb = append(sb, rowT[run].Seconds()/first[run].Seconds())
		sc = append(sc, first[run].Seconds()/again[run].Seconds())
		t.Logf("run %d: ours %s, again %s, in pages %s, psql %s, row by row %s", run+1, first[run], again[run], paged[run], copyT[run], rowT[run])
	}
	settings := fmt.Sprintf("%d bills in batches of %d (one Upsert call and transaction each); congress.bill from the migrations "+
		"(primary key + 3 b-tree indexes, no GIN); a cluster with fsync on; in %d-item pages as the ingest commits them: %s",
		n, batch, congress.MaxLimit, itemsPerSecond(n, bench.MedianDuration(paged)))
	ourFirst := itemsPerSecond(n, bench.MedianDuration(first))
	b.record(t, bench.Result{ID: "P2a", Name: "store vs psql \\copy + one upsert (speed ours/psql)", Target: 0.8, AtLeast: true,
		Samples: sa, Ours: ourFirst, Baseline: itemsPerSecond(n, bench.MedianDuration(copyT)), Settings: settings})
	b.record(t, bench.Result{ID: "P2b", Name: "store vs row-by-row INSERT, commit per row (speed ours/row)", Target: 15, AtLeast: true,
		Samples: sb, Ours: ourFirst, Baseline: itemsPerSecond(n, bench.MedianDuration(rowT)), Settings: settings})
	b.record(t, bench.Result{ID: "P2c", Name: "unchanged re-ingest vs first load (speed again/first)", Target: 1.8, AtLeast: true,
		Samples: sc, Ours: itemsPerSecond(n, bench.MedianDuration(again)), Baseline: ourFirst, Settings: settings})
}

// copyColumns are the columns the store stages for ep, in its order: key,
// typed columns, update_date, data, content_hash.
func copyColumns(ep congress.Endpoint) []string {
	var cols []string
	for _, k := range ep.Key {
		cols = append(cols, k.Name)
	}
	for _, c := range ep.Columns {
		cols = append(cols, c.Name)
	}
	if ep.UpdateField != "" {
		cols = append(cols, "update_date")
	}
	return append(cols, "data", "content_hash")
}

// rowsOf converts items to rows of copyColumns, as the store does.
func rowsOf(t *testing.T, ep congress.Endpoint, items []congress.Item) [][]any {
	t.Helper()
	out := make([][]any, len(items))
	for i, it := range items {
		row := make([]any, 0, len(ep.Key)+len(ep.Columns)+3)
		for j, k := range ep.Key {
			if k.Type == congress.TypeInt {
				v, err := strconv.ParseInt(it.KeyParts[j], 10, 64)
				require.NoError(t, err)
				row = append(row, v)
				continue
			}
			row = append(row, it.KeyParts[j])
		}
		vals, err := ep.ColumnValues(it.Raw)
		require.NoError(t, err)
		row = append(row, vals...)
		if ep.UpdateField != "" {
			var upd any
			if !it.UpdateDate.IsZero() {
				upd = it.UpdateDate
			}
			row = append(row, upd)
		}
		sum := sha256.Sum256(it.Raw)
		out[i] = append(row, json.RawMessage(it.Raw), sum[:])
	}
	return out
}

// writeCopyText writes rows in COPY's text format.
func writeCopyText(t *testing.T, path string, rows [][]any) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	esc := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				w.WriteByte('\t')
			}
			switch v := v.(type) {
			case nil:
				w.WriteString(`\N`)
			case string:
				w.WriteString(esc.Replace(v))
			case int64:
				w.WriteString(strconv.FormatInt(v, 10))
			case bool:
				w.WriteString(strconv.FormatBool(v))
			case time.Time:
				w.WriteString(v.UTC().Format(time.RFC3339Nano))
			case json.RawMessage:
				w.WriteString(esc.Replace(string(v)))
			case []byte:
				w.WriteString(`\\x` + hex.EncodeToString(v))
			default:
				t.Fatalf("no COPY text for %T", v)
			}
		}
		w.WriteByte('\n')
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

// upsertSQL is the upsert the store runs, from source into congress.bill.
func upsertSQL(cols []string, source string) string {
	var set []string
	for _, c := range cols[3:] {
		set = append(set, c+" = excluded."+c)
	}
	list := strings.Join(cols, ", ")
	return fmt.Sprintf(`INSERT INTO congress.bill AS t (%s, first_seen_at, last_seen_at, updated_at)
%s
ON CONFLICT (congress, type, number) DO UPDATE SET %s, last_seen_at = excluded.last_seen_at,
    updated_at = CASE WHEN t.content_hash IS DISTINCT FROM excluded.content_hash THEN excluded.updated_at ELSE t.updated_at END
WHERE t.content_hash IS DISTINCT FROM excluded.content_hash OR t.last_seen_at < excluded.last_seen_at - interval '1 day'`,
		list, source, strings.Join(set, ", "))
}

// psqlScript stages the file with \copy and upserts it, in one transaction.
func psqlScript(cols []string, file string) string {
	list := strings.Join(cols, ", ")
	return "BEGIN;\nCREATE TEMP TABLE stage (LIKE congress.bill INCLUDING DEFAULTS) ON COMMIT DROP;\n" +
		`\copy stage (` + list + `) FROM '` + file + "'\n" +
		upsertSQL(cols, "SELECT "+list+", now(), now(), now() FROM stage") + ";\nCOMMIT;\n"
}

// rowByRow inserts each row with its own INSERT … ON CONFLICT, each in its
// own transaction (autocommit).
func rowByRow(t *testing.T, ctx context.Context, pool *pgxpool.Pool, cols []string, rows [][]any) time.Duration {
	t.Helper()
	params := make([]string, len(cols))
	for i := range cols {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	q := upsertSQL(cols, "VALUES ("+strings.Join(params, ", ")+", now(), now(), now())")
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	began := time.Now()
	for _, row := range rows {
		_, err := conn.Exec(ctx, q, row...)
		require.NoError(t, err)
	}
	return time.Since(began)
}

// psqlPath is the psql of `pg_config --bindir`.
func psqlPath(t *testing.T) string {
	t.Helper()
	dir, err := pgtest.BinDir()
	require.NoError(t, err)
	return filepath.Join(dir, "psql")
}
