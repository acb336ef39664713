package budget_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/budget"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSharedPaceHoldsAcrossProcesses: three budgets on one database and key
// (three worker processes) together grant no more than the limit in any
// window, and nearly all of it.
func TestSharedPaceHoldsAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	const limit, window = 60, 6 * time.Second // 10 a second
	var stamps []time.Time
	var mu sync.Mutex
	run := time.Now().Add(7 * time.Second)
	var wg sync.WaitGroup
	for range 3 {
		b, err := budget.Open(ctx, pool, budget.Config{Key: "SHARED-KEY", Limit: limit, Window: window})
		require.NoError(t, err)
		for range 3 { // three activities each
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(run) {
					if err := b.Wait(ctx); err != nil {
						continue
					}
					if now := time.Now(); now.Before(run) {
						mu.Lock()
						stamps = append(stamps, now)
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	// Every window of 6 s holds at most the limit.
	for i := range stamps {
		n := 0
		for _, s := range stamps {
			if !s.Before(stamps[i]) && s.Sub(stamps[i]) < window {
				n++
			}
		}
		require.LessOrEqual(t, n, limit, "window starting at request %d", i)
	}
	rate := float64(len(stamps)) / 7
	t.Logf("%d grants in 7 s: %.2f a second for a limit of 10", len(stamps), rate)
	require.Greater(t, rate, 0.9*10)

	st, err := budget.Read(ctx, pool, "SHARED-KEY")
	require.NoError(t, err)
	require.GreaterOrEqual(t, st.Granted, int64(len(stamps)), "one row counts every grant")
}

// TestAnnouncedLimitAndPause: the API's X-Ratelimit-Limit sets the pace
// for every process on the key, a 429's Retry-After pauses all of them, and
// a pause longer than MaxWait comes back as ErrRateLimited with the delay.
func TestAnnouncedLimitAndPause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	a, err := budget.Open(ctx, pool, budget.Config{Key: "K2", Window: time.Minute, MaxWait: 2 * time.Second})
	require.NoError(t, err)
	b, err := budget.Open(ctx, pool, budget.Config{Key: "K2", Window: time.Minute, MaxWait: 2 * time.Second})
	require.NoError(t, err)
	st, err := budget.Read(ctx, pool, "K2")
	require.NoError(t, err)
	require.Equal(t, budget.DefaultLimit, st.Limit, "until the API announces one")

	a.Observe(congress.RateLimit{Limit: 600, Remaining: 10, Known: true})
	st, err = budget.Read(ctx, pool, "K2")
	require.NoError(t, err)
	require.Equal(t, 600, st.Announced)
	require.InDelta(t, 599.0/60.03, st.Rate, 0.05, "(limit − one lease) per (window + span)")

	b.Pause(1500 * time.Millisecond)
	start := time.Now()
	require.NoError(t, a.Wait(ctx), "the other process waits out the pause")
	require.GreaterOrEqual(t, time.Since(start), 1200*time.Millisecond)

	b.Pause(time.Hour)
	err = a.Wait(ctx)
	require.ErrorIs(t, err, congress.ErrRateLimited)
	d, ok := congress.RetryAfter(err)
	require.True(t, ok)
	require.Greater(t, d, 59*time.Minute)
}

// TestCapBelowTheAnnouncedLimit: CONGRESS_API_REQUESTS_PER_HOUR keeps a
// share of a large key for other clients.
func TestCapBelowTheAnnouncedLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	b, err := budget.Open(ctx, pool, budget.Config{Key: "K3", Limit: 3000})
	require.NoError(t, err)
	b.Observe(congress.RateLimit{Limit: 20000, Remaining: 19000, Known: true})
	st, err := budget.Read(ctx, pool, "K3")
	require.NoError(t, err)
	require.Equal(t, 20000, st.Announced)
	require.Equal(t, 3000, st.Limit)
	var granted atomic.Int64
	for range 3 {
		require.NoError(t, b.Wait(ctx))
		granted.Add(1)
	}
	require.EqualValues(t, 3, granted.Load())
}

// TestKeyIsNeverStored: the row is named by a hash.
func TestKeyIsNeverStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	_, err := budget.Open(ctx, pool, budget.Config{Key: "SECRET-KEY-123456789"})
	require.NoError(t, err)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ops.api_budget WHERE row_to_json(api_budget)::text LIKE '%SECRET-KEY%'`).Scan(&n))
	require.Zero(t, n)
}
