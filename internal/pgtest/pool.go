package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/opendiscourse/congressflow/internal/store"
)

// MigratedPool opens a pool on url the way the worker does (store.Open),
// applies the migrations, and closes the pool when the test ends.
func MigratedPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := store.Open(ctx, store.PoolConfig{URL: url})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return pool
}
