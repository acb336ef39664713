package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T) (context.Context, func() string) {
	t.Helper()
	return context.Background(), func() string { return pgtest.Database(t) }
}

func TestMigrateIsIdempotentAndConcurrentSafe(t *testing.T) {
	t.Parallel()
	ctx, db := open(t)
	pool, err := store.Open(ctx, store.PoolConfig{URL: db()})
	require.NoError(t, err)
	defer pool.Close()

	all, err := store.Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, all)

	// Two workers starting at once: the advisory lock lets exactly one apply.
	type res struct {
		ran []int
		err error
	}
	ch := make(chan res, 2)
	for range 2 {
		go func() {
			ran, err := store.Migrate(ctx, pool)
			ch <- res{ran, err}
		}()
	}
	a, b := <-ch, <-ch
	require.NoError(t, a.err)
	require.NoError(t, b.err)
	require.Equal(t, len(all), len(a.ran)+len(b.ran), "each migration applied exactly once")

	again, err := store.Migrate(ctx, pool)
	require.NoError(t, err)
	require.Empty(t, again)

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ops.schema_migrations`).Scan(&n))
	require.Equal(t, len(all), n)
}

func TestSystemAnalysisUpsertsPerRun(t *testing.T) {
	t.Parallel()
	ctx, db := open(t)
	pool, err := store.Open(ctx, store.PoolConfig{URL: db()})
	require.NoError(t, err)
	defer pool.Close()
	_, err = store.Migrate(ctx, pool)
	require.NoError(t, err)

	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	a := store.SystemAnalysis{WorkflowID: "wf", RunID: "run", Hostname: "h", EffectiveCPUs: 2, EffectiveMemory: 1 << 30,
		Profile: json.RawMessage(`{"hostname":"h"}`), CollectedAt: at}
	id1, err := store.InsertSystemAnalysis(ctx, pool, a)
	require.NoError(t, err)
	a.Hostname = "h2"
	id2, err := store.InsertSystemAnalysis(ctx, pool, a)
	require.NoError(t, err)
	require.Equal(t, id1, id2, "a retried activity updates its row")

	got, err := store.GetSystemAnalysis(ctx, pool, "wf", "run")
	require.NoError(t, err)
	require.Equal(t, "h2", got.Hostname)
	require.JSONEq(t, `{"hostname":"h"}`, string(got.Profile))
	require.True(t, at.Equal(got.CollectedAt))

	_, err = store.GetSystemAnalysis(ctx, pool, "wf", "other")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestOpenErrorsNameTheFixAndHideThePassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		url     string
		wantErr string
	}{
		{name: "unparsable", url: "postgres://bob:s3cret@host:notaport/db", wantErr: "parse DATABASE_URL"},
		{name: "unreachable", url: "postgres://bob:s3cret@127.0.0.1:1/db?connect_timeout=2", wantErr: "connect to PostgreSQL at bob@127.0.0.1:1/db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := store.Open(ctx, store.PoolConfig{URL: tt.url})
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
			require.NotContains(t, err.Error(), "s3cret")
			require.False(t, strings.Contains(err.Error(), "\n"), "one-line error: %q", err)
		})
	}
}

func TestOpenURLPoolSizeWinsOverComputed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.Database(t) + "&pool_max_conns=3"
	pool, err := store.Open(ctx, store.PoolConfig{URL: url, MaxConns: 9, MinConns: 1})
	require.NoError(t, err)
	defer pool.Close()
	require.Equal(t, int32(3), pool.Config().MaxConns)

	pool2, err := store.Open(ctx, store.PoolConfig{URL: pgtest.Database(t), MaxConns: 9})
	require.NoError(t, err)
	defer pool2.Close()
	require.Equal(t, int32(9), pool2.Config().MaxConns)
}
