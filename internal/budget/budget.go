// Package budget shares one Congress.gov API key's request budget between
// every worker process that uses the same database and key.
//
// A key has one budget: 5,000 requests an hour by default, the figure the
// API announces in X-Ratelimit-Limit when it does (some keys have 20,000),
// counted by api.data.gov over a rolling hour (congress-api.md §1). A
// [Budget] keeps a token bucket for the key in one row of ops.api_budget,
// keyed by a hash of the key (never the key). Each process leases a few
// tokens at a time in one short UPDATE, so a large budget costs a database
// round trip every few requests, not one per request; a process that dies
// holding a lease loses at most that lease, and a lease not used within its
// span expires.
//
// # Why a steady pace is the right one
//
// The bucket refills at (L − b)/(W + s) tokens a second for a limit L per
// window W, a burst b of one lease and a lease span s: in any window of W
// the requests sent are at most what was granted in W + s, at most
// b + rate × (W + s) = L. So however many processes share the key, they
// never exceed the limit together, and they reach it within a fraction of
// a percent. X-Ratelimit-Remaining is recorded but does not slow the pace:
// in a rolling window, requests age out at the pace a steady client sends
// them, so a low Remaining is the normal state of a key used at its limit,
// not a reason to stall. A 429 with Retry-After pauses every process on
// the key until then (see [Budget.Pause]).
package budget

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// Defaults.
const (
	// DefaultLimit is the per-key limit until the API announces one.
	DefaultLimit = congress.DefaultRequestsPerHour
	// DefaultWindow is the API's rolling window.
	DefaultWindow = time.Hour
	// spanPerWindow sets a lease's span: the window divided by it (two
	// seconds for an hour).
	spanPerWindow = 1800
	// maxLease bounds the tokens one lease takes.
	maxLease = 50
)

// Config configures a [Budget].
type Config struct {
	// Key is the API key whose budget this is. Only a hash of it is
	// stored. Required.
	Key string
	// Limit caps the requests per Window below what the API announces
	// (to leave a share of the key to other clients), and is the limit
	// until the API announces one. 0: the announced limit, DefaultLimit
	// until then.
	Limit int
	// Window is the rolling window the limit applies to. Default one hour,
	// as the API counts; tests use shorter ones.
	Window time.Duration
	// MaxWait is the longest Wait sleeps for a token; a longer wait is
	// returned as ErrRateLimited with the delay, so an activity yields
	// its slot and Temporal retries it later. Default
	// congress.DefaultMaxWait.
	MaxWait time.Duration
	// Logger receives a line when the announced limit changes or the key
	// is paused. Default: discard.
	Logger *slog.Logger
}

// Budget is a [congress.Limiter] whose bucket lives in PostgreSQL, shared
// by every process using the same database and key. It is safe for
// concurrent use.
type Budget struct {
	pool    *pgxpool.Pool
	hash    string
	cap     int
	window  time.Duration
	span    time.Duration
	maxWait time.Duration
	logger  *slog.Logger

	mu        sync.Mutex
	held      int       // leased tokens not yet used
	heldUntil time.Time // when they expire
	readyAt   time.Time // when they may be used
	limit     int       // the limit the row's rate follows
	announced int       // the announced limit recorded in the row
	remaining int       // the latest X-Ratelimit-Remaining, -1 unknown
}

// KeyHash returns the name a key's budget is stored under: a SHA-256 of
// the key, so the database never holds the key.
func KeyHash(key string) string {
	sum := sha256.Sum256([]byte("congressflow api budget\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// Open returns the budget of cfg.Key, creating its row when this is the
// first process to use the key.
func Open(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Budget, error) {
	if cfg.Key == "" {
		return nil, errors.New("budget: Config.Key is empty")
	}
	if cfg.Limit < 0 {
		return nil, fmt.Errorf("budget: Config.Limit %d is negative", cfg.Limit)
	}
	b := &Budget{
		pool:      pool,
		hash:      KeyHash(cfg.Key),
		cap:       cfg.Limit,
		window:    cmp.Or(cfg.Window, DefaultWindow),
		maxWait:   cmp.Or(cfg.MaxWait, congress.DefaultMaxWait),
		logger:    cfg.Logger,
		remaining: -1,
	}
	if b.logger == nil {
		b.logger = slog.New(slog.DiscardHandler)
	}
	b.span = b.window / spanPerWindow
	// A row written by another process keeps the limit it learnt from the
	// API; a new row starts from this process's view.
	var announced int
	err := pool.QueryRow(ctx, `INSERT INTO ops.api_budget (key_hash, limit_per_window, window_seconds, rate, burst, tokens)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (key_hash) DO UPDATE SET window_seconds = excluded.window_seconds
RETURNING announced_limit`, b.hash, b.effective(0), b.window.Seconds(), b.rate(b.effective(0)), float64(b.lease(b.effective(0)))).Scan(&announced)
	if err != nil {
		return nil, fmt.Errorf("budget: open the budget row: %w", err)
	}
	b.limit = b.effective(announced)
	if err := b.setLimit(ctx, announced); err != nil {
		return nil, err
	}
	return b, nil
}

// effective is the limit the pace follows for an announced limit (0:
// none announced): the announced one, capped by Config.Limit; before any
// announcement, Config.Limit or else DefaultLimit.
func (b *Budget) effective(announced int) int {
	switch {
	case announced > 0 && b.cap > 0:
		return min(announced, b.cap)
	case announced > 0:
		return announced
	case b.cap > 0:
		return b.cap
	}
	return DefaultLimit
}

// lease is how many tokens one lease takes for a limit: what the pace
// spends in a span, at least one.
func (b *Budget) lease(limit int) int {
	n := int(float64(limit) / b.window.Seconds() * b.span.Seconds())
	return min(max(n, 1), maxLease)
}

// rate is the refill in tokens a second that keeps every window of W under
// limit: (limit − burst) / (W + span).
func (b *Budget) rate(limit int) float64 {
	return math.Max(float64(limit-b.lease(limit)), 1) / (b.window + b.span).Seconds()
}

// setLimit makes the row's pace follow an announced limit (0: none).
func (b *Budget) setLimit(ctx context.Context, announced int) error {
	l := b.effective(announced)
	_, err := b.pool.Exec(ctx, `UPDATE ops.api_budget SET announced_limit = $2, limit_per_window = $3, rate = $4, burst = $5
WHERE key_hash = $1`, b.hash, announced, l, b.rate(l), float64(b.lease(l)))
	if err != nil {
		return fmt.Errorf("budget: record the limit: %w", err)
	}
	b.mu.Lock()
	b.limit, b.announced = l, announced
	b.mu.Unlock()
	return nil
}

// Wait implements [congress.Limiter]: it takes a token, leasing more from
// the shared bucket when the process holds none, and sleeps until the
// token may be used. A wait longer than MaxWait gives the lease back and
// returns ErrRateLimited with the delay.
func (b *Budget) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	b.mu.Lock()
	if b.held > 0 && now.Before(b.heldUntil) {
		b.held--
		ready := b.readyAt
		b.mu.Unlock()
		return sleepUntil(ctx, ready)
	}
	b.held = 0
	limit, remaining := b.limit, b.remaining
	b.mu.Unlock()

	n := b.lease(limit)
	var tokens, rate, pause float64
	err := b.pool.QueryRow(ctx, `UPDATE ops.api_budget SET
    tokens = least(burst, tokens + greatest(extract(epoch FROM clock_timestamp() - updated_at), 0) * rate) - $2,
    updated_at = clock_timestamp(),
    granted = granted + $2,
    remaining = coalesce($3, remaining),
    remaining_at = CASE WHEN $3::int IS NULL THEN remaining_at ELSE clock_timestamp() END
WHERE key_hash = $1
RETURNING tokens, rate, greatest(extract(epoch FROM paused_until - clock_timestamp()), 0)`,
		b.hash, n, nullable(remaining)).Scan(&tokens, &rate, &pause)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("budget: lease tokens: %w", err)
	}
	wait := time.Duration(math.Max(-tokens/rate, pause) * float64(time.Second))
	if wait > b.maxWait {
		// Give the lease back: another process may use it sooner.
		_, _ = b.pool.Exec(context.WithoutCancel(ctx), `UPDATE ops.api_budget SET tokens = tokens + $2, granted = granted - $2 WHERE key_hash = $1`, b.hash, n)
		return &congress.APIError{Kind: congress.ErrRateLimited, Code: congress.CodeLocalBudget, RetryAfter: wait.Round(time.Second),
			Message: fmt.Sprintf("the shared budget of %d requests per %s is spent for now", limit, b.window)}
	}
	ready := time.Now().Add(wait)
	b.mu.Lock()
	b.held, b.readyAt, b.heldUntil = n-1, ready, ready.Add(b.span)
	b.mu.Unlock()
	return sleepUntil(ctx, ready)
}

// Observe implements [congress.Limiter]: an announced limit that differs
// from the one the pace follows changes the pace for every process;
// Remaining is kept for the report.
func (b *Budget) Observe(rl congress.RateLimit) {
	b.mu.Lock()
	if rl.Known {
		b.remaining = rl.Remaining
	}
	changed := rl.Limit > 0 && rl.Limit != b.announced
	b.mu.Unlock()
	if !changed {
		return
	}
	if err := b.setLimit(context.Background(), rl.Limit); err != nil {
		b.logger.Warn("budget: cannot record the announced limit", slog.String("error", err.Error()))
		return
	}
	b.logger.Info("budget: the API announces its limit", slog.Int("limit", rl.Limit), slog.Duration("window", b.window),
		slog.Int("pace_limit", b.effective(rl.Limit)))
}

// Pause implements [congress.Pauser]: after a 429, every process on the
// key waits until the delay the API gave has passed.
func (b *Budget) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	b.mu.Lock()
	b.held = 0
	b.mu.Unlock()
	_, err := b.pool.Exec(context.Background(), `UPDATE ops.api_budget
SET paused_until = greatest(paused_until, clock_timestamp() + $2 * interval '1 second'), paused = paused + 1
WHERE key_hash = $1`, b.hash, d.Seconds())
	if err != nil {
		b.logger.Warn("budget: cannot record the pause", slog.String("error", err.Error()))
		return
	}
	b.logger.Warn("budget: the API answered 429; every process on the key waits", slog.Duration("retry_after", d))
}

// State is a budget row, for the report and tests.
type State struct {
	Limit, Announced int
	Window           time.Duration
	Rate             float64 // tokens a second
	Granted          int64
	Paused           int
	PausedUntil      time.Time
	Remaining        *int
}

// Read returns the key's row.
func Read(ctx context.Context, pool *pgxpool.Pool, key string) (State, error) {
	var st State
	var window float64
	err := pool.QueryRow(ctx, `SELECT limit_per_window, announced_limit, window_seconds, rate, granted, paused, paused_until, remaining
FROM ops.api_budget WHERE key_hash = $1`, KeyHash(key)).Scan(&st.Limit, &st.Announced, &window, &st.Rate, &st.Granted, &st.Paused,
		&st.PausedUntil, &st.Remaining)
	st.Window = time.Duration(window * float64(time.Second))
	if err != nil {
		return st, fmt.Errorf("budget: read: %w", err)
	}
	return st, nil
}

func nullable(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
