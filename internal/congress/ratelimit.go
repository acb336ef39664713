package congress

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate budget defaults (reference §1: 5,000 requests per hour per key).
const (
	// DefaultRequestsPerHour is the documented per-key budget.
	DefaultRequestsPerHour = 5000
	// DefaultBurst lets a few requests go back to back after an idle spell
	// without risking the rolling hourly window.
	DefaultBurst = 5
	// DefaultMaxWait is the longest a [TokenBucket] sleeps for a token.
	// Longer waits are returned as [ErrRateLimited] with a RetryAfter so an
	// activity ends and Temporal retries later instead of blocking (and
	// missing heartbeats).
	DefaultMaxWait = 30 * time.Second
)

// RateLimit holds the X-Ratelimit-* headers of one response.
type RateLimit struct {
	// Limit is X-Ratelimit-Limit (requests per window, an hour for the real
	// API); 0 when absent.
	Limit int
	// Remaining is X-Ratelimit-Remaining; meaningful only when Known.
	Remaining int
	// Known reports that X-Ratelimit-Remaining was present and numeric.
	Known bool
}

// readRateLimit parses the rate-limit headers of a response.
func readRateLimit(h http.Header) RateLimit {
	var rl RateLimit
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Ratelimit-Limit"))); err == nil && n > 0 {
		rl.Limit = n
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Ratelimit-Remaining"))); err == nil {
		rl.Remaining, rl.Known = max(n, 0), true
	}
	return rl
}

// Limiter paces requests against a shared budget. [Client.Page] calls Wait
// before every request and Observe after every response that carried
// rate-limit headers. Implementations must be safe for concurrent use.
type Limiter interface {
	// Wait blocks until a request may be sent. When the wait would be too
	// long it returns an error of kind [ErrRateLimited] carrying the delay
	// (see [RetryAfter]); it returns the context's error when ctx ends.
	Wait(ctx context.Context) error
	// Observe feeds back the headers of a response so the limiter can
	// tighten when the API reports less budget than expected.
	Observe(rl RateLimit)
}

// Pauser is a [Limiter] that can hold every request back for a while: the
// client calls Pause with the server's Retry-After after a 429, so that
// no request goes out until then.
type Pauser interface {
	Pause(d time.Duration)
}

// TokenBucketConfig configures a [TokenBucket].
type TokenBucketConfig struct {
	// Limit is the number of requests allowed per Window. Default
	// DefaultRequestsPerHour.
	Limit int
	// Window is the period Limit applies to; the X-Ratelimit-* headers are
	// read in the same unit. Default one hour (the API's window); tests use
	// shorter windows.
	Window time.Duration
	// Burst is the bucket size. Default DefaultBurst.
	Burst int
	// MaxWait is the longest Wait sleeps; longer waits return
	// ErrRateLimited with the delay. Default DefaultMaxWait.
	MaxWait time.Duration
}

// WithDefaults returns the config with zero fields set to their defaults.
func (c TokenBucketConfig) WithDefaults() TokenBucketConfig {
	c.Limit = cmp.Or(c.Limit, DefaultRequestsPerHour)
	c.Window = cmp.Or(c.Window, time.Hour)
	c.Burst = cmp.Or(c.Burst, DefaultBurst)
	c.MaxWait = cmp.Or(c.MaxWait, DefaultMaxWait)
	return c
}

// TokenBucket is an in-process [Limiter] built on golang.org/x/time/rate,
// for tests and runs without a database (workers share one budget per key
// through internal/budget). It paces at Limit per Window, tightens to
// X-Ratelimit-Limit when that is lower, and after a 429 grants nothing
// until the Retry-After has passed ([TokenBucket.Pause]).
type TokenBucket struct {
	cfg         TokenBucketConfig
	limiter     *rate.Limiter
	mu          sync.Mutex
	perWin      float64   // current pace, requests per Window
	pausedUntil time.Time // no grant before (after a 429)
}

// NewTokenBucket returns a [TokenBucket] allowing perHour requests per hour
// with the given burst (0 for the defaults).
func NewTokenBucket(perHour, burst int) *TokenBucket {
	return NewTokenBucketWith(TokenBucketConfig{Limit: perHour, Burst: burst})
}

// NewTokenBucketWith returns a [TokenBucket] for cfg (defaults filled in).
func NewTokenBucketWith(cfg TokenBucketConfig) *TokenBucket {
	cfg = cfg.WithDefaults()
	cfg.Limit, cfg.Burst = max(cfg.Limit, 1), max(cfg.Burst, 1)
	b := &TokenBucket{cfg: cfg, perWin: float64(cfg.Limit)}
	b.limiter = rate.NewLimiter(b.every(b.perWin), cfg.Burst)
	return b
}

func (b *TokenBucket) every(perWindow float64) rate.Limit {
	return rate.Limit(perWindow / b.cfg.Window.Seconds())
}

// Wait implements [Limiter].
func (b *TokenBucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	b.mu.Lock()
	paused := b.pausedUntil.Sub(now)
	b.mu.Unlock()
	if paused > 0 {
		if paused > b.cfg.MaxWait {
			return &APIError{Kind: ErrRateLimited, Code: CodeLocalBudget, RetryAfter: paused,
				Message: "paused after the API answered 429"}
		}
		t := time.NewTimer(paused)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		now = time.Now()
	}
	r := b.limiter.ReserveN(now, 1)
	if !r.OK() {
		return &APIError{Kind: ErrRateLimited, Code: CodeLocalBudget, Message: "local limiter cannot grant a request"}
	}
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	deadline, hasDeadline := ctx.Deadline()
	if delay > b.cfg.MaxWait || (hasDeadline && now.Add(delay).After(deadline)) {
		r.CancelAt(now)
		return &APIError{
			Kind: ErrRateLimited, Code: CodeLocalBudget, RetryAfter: delay,
			Message: fmt.Sprintf("local budget of %.0f requests per %s is spent", b.Rate(), b.cfg.Window),
		}
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// Observe implements [Limiter].
func (b *TokenBucket) Observe(rl RateLimit) {
	if rl.Limit <= 0 && !rl.Known {
		return
	}
	target, burst := paceFor(b.cfg.Limit, b.cfg.Burst, rl)
	b.mu.Lock()
	defer b.mu.Unlock()
	if target != b.perWin {
		b.perWin = target
		b.limiter.SetLimit(b.every(target))
	}
	if burst != b.limiter.Burst() {
		b.limiter.SetBurst(burst)
	}
}

// Pause implements [Pauser]: the bucket grants nothing for d.
func (b *TokenBucket) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}

// Rate returns the current pace in requests per Window.
func (b *TokenBucket) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.perWin
}

// paceFor returns the pace (requests per window) and burst for a configured
// limit and burst given the latest headers. The pace is the lower of the
// configured and the announced limit; X-Ratelimit-Remaining does not slow
// it: in a rolling window, requests age out at the pace a steady client
// sends them, so a low Remaining is the normal state of a key used at its
// limit (a 429 pauses instead, see [TokenBucket.Pause]). With nothing
// remaining the burst drops to one, so no group of requests goes out at
// once.
func paceFor(limit, burst int, rl RateLimit) (float64, int) {
	capacity := limit
	if rl.Limit > 0 && rl.Limit < capacity {
		capacity = rl.Limit
	}
	burst = min(burst, capacity)
	if rl.Known {
		burst = max(min(burst, rl.Remaining), 1)
	}
	return float64(capacity), max(burst, 1)
}
