package congress

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPaceFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		limit     int
		burst     int
		rl        RateLimit
		wantPace  float64
		wantBurst int
	}{
		{"no headers keeps the configured pace", 5000, 5, RateLimit{}, 5000, 5},
		{"plenty remaining", 5000, 5, RateLimit{Limit: 5000, Remaining: 4000, Known: true}, 5000, 5},
		{"larger announced limit does not loosen", 5000, 5, RateLimit{Limit: 20000, Remaining: 19000, Known: true}, 5000, 5},
		{"smaller announced limit tightens", 5000, 5, RateLimit{Limit: 1000, Remaining: 900, Known: true}, 1000, 5},
		{"DEMO_KEY sized limit", 5000, 5, RateLimit{Limit: 10, Remaining: 9, Known: true}, 10, 5},
		{"low remaining keeps the pace: a rolling window frees requests as fast", 5000, 5, RateLimit{Limit: 5000, Remaining: 250, Known: true}, 5000, 5},
		{"nearly spent: no burst beyond what remains", 5000, 5, RateLimit{Limit: 5000, Remaining: 3, Known: true}, 5000, 3},
		{"spent: burst 1, same pace", 5000, 5, RateLimit{Limit: 5000, Remaining: 0, Known: true}, 5000, 1},
		{"remaining without limit header", 5000, 5, RateLimit{Remaining: 100, Known: true}, 5000, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pace, burst := paceFor(tt.limit, tt.burst, tt.rl)
			require.InDelta(t, tt.wantPace, pace, 0.001)
			require.Equal(t, tt.wantBurst, burst)
		})
	}
}

func TestTokenBucketObserve(t *testing.T) {
	t.Parallel()
	b := NewTokenBucket(0, 0)
	require.InDelta(t, DefaultRequestsPerHour, b.Rate(), 0.001)
	b.Observe(RateLimit{Limit: 5000, Remaining: 100, Known: true})
	require.InDelta(t, DefaultRequestsPerHour, b.Rate(), 0.001, "a low remaining does not stall the pace")
	b.Observe(RateLimit{Limit: 1000, Remaining: 900, Known: true})
	require.InDelta(t, 1000, b.Rate(), 0.001, "a smaller announced limit tightens")
}

func TestTokenBucketPause(t *testing.T) {
	t.Parallel()
	b := NewTokenBucketWith(TokenBucketConfig{Limit: 1000, Window: time.Second, Burst: 10, MaxWait: time.Second})
	b.Pause(200 * time.Millisecond)
	start := time.Now()
	require.NoError(t, b.Wait(t.Context()))
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "no grant during the pause")
	b.Pause(time.Hour)
	err := b.Wait(t.Context())
	require.ErrorIs(t, err, ErrRateLimited)
	d, ok := RetryAfter(err)
	require.True(t, ok)
	require.Greater(t, d, 59*time.Minute, "a pause longer than MaxWait is handed to the caller")
}

func TestReadRateLimit(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	require.Equal(t, RateLimit{}, readRateLimit(h))
	h.Set("X-Ratelimit-Limit", "5000")
	h.Set("X-Ratelimit-Remaining", "4321")
	require.Equal(t, RateLimit{Limit: 5000, Remaining: 4321, Known: true}, readRateLimit(h))
	h.Set("X-Ratelimit-Remaining", "lots")
	require.Equal(t, RateLimit{Limit: 5000}, readRateLimit(h))
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"31714", 31714 * time.Second},
		{" 240 ", 240 * time.Second},
		{"-5", 0},
		{"Tue, 01 Sep 2026 12:02:00 GMT", 2 * time.Minute},
		{"Tue, 01 Sep 2026 11:00:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, parseRetryAfter(tt.in, now), tt.in)
	}
}
