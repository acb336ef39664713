package congress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
)

const testKey = "TESTKEY-4f9c1d2e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"

// testLogger writes every level to buf.
func testLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newClient(t *testing.T, cfg congress.Config) *congress.Client {
	t.Helper()
	c, err := congress.New(cfg)
	require.NoError(t, err)
	return c
}

// walkResult is what a full walk saw.
type walkResult struct {
	seen     map[string]int // natural key → times seen
	raw      map[string]string
	pages    int
	retries  int
	lastSeen congress.Page
}

// walk pages ep from offset 0 to the end, retrying retryable errors in
// place (the caller's retry loop; Temporal does this in production).
func walk(t *testing.T, c *congress.Client, ep congress.Endpoint, p congress.Params) walkResult {
	t.Helper()
	ctx := t.Context()
	res := walkResult{seen: map[string]int{}, raw: map[string]string{}}
	offset := 0
	for attempts := 0; ; attempts++ {
		require.Less(t, attempts, 10000, "walk does not end")
		page, err := c.Page(ctx, ep, p, offset)
		if err != nil {
			require.True(t, congress.Retryable(err), "non-retryable error: %v", err)
			res.retries++
			if d, ok := congress.RetryAfter(err); ok {
				time.Sleep(min(d, 100*time.Millisecond))
			}
			continue
		}
		res.pages++
		require.Empty(t, page.Rejected)
		for _, it := range page.Items {
			res.seen[it.Key]++
			res.raw[it.Key] = string(it.Raw)
		}
		res.lastSeen = page
		if !page.HasNext {
			return res
		}
		require.Greater(t, page.NextOffset, offset)
		offset = page.NextOffset
	}
}

// requireExactlyOnce checks that the walk saw every source item exactly
// once, with the same bytes.
func requireExactlyOnce(t *testing.T, srv *congresstest.Server, endpoint string, res walkResult) {
	t.Helper()
	items, err := srv.Items(endpoint)
	require.NoError(t, err)
	for key, n := range res.seen {
		require.Equal(t, 1, n, "key %s seen %d times", key, n)
	}
	require.Len(t, res.seen, len(items))
	for _, it := range items {
		require.Equal(t, string(it.Raw), res.raw[it.Key], "item %s", it.Key)
	}
}

// TestPageWalkExactlyOnce pages a 10,000-item endpoint on the fake under
// faults and checks that every item arrives exactly once.
func TestPageWalkExactlyOnce(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		opts    congresstest.Options
		limiter func() congress.Limiter
		limit   int
		check   func(t *testing.T, srv *congresstest.Server, res walkResult)
	}{
		{
			name: "clean",
			check: func(t *testing.T, srv *congresstest.Server, res walkResult) {
				require.Equal(t, 40, res.pages)
				require.EqualValues(t, 40, srv.Requests(), "one request per page")
			},
		},
		{
			// Half of the injected 5xx are HTML pages: about 5% HTML, 5% JSON.
			name:  "ten percent 5xx half HTML, retried",
			opts:  congresstest.Options{ServerErrorRate: 0.1},
			limit: 100,
			check: func(t *testing.T, srv *congresstest.Server, res walkResult) {
				t.Logf("%d requests, %d HTML 5xx, %d JSON 5xx", srv.Requests(), srv.HTMLErrors(), srv.Responses(http.StatusInternalServerError))
				require.Positive(t, srv.HTMLErrors(), "HTML 5xx injected")
				require.Positive(t, srv.Responses(http.StatusInternalServerError), "JSON 5xx injected")
				require.Positive(t, res.retries)
				require.EqualValues(t, res.pages+res.retries, srv.Requests())
			},
		},
		{
			name: "rate limit never hit",
			opts: congresstest.Options{RateLimit: 30, RateWindow: time.Second},
			limiter: func() congress.Limiter {
				// 20 per second with a burst of 5 sends at most 25 in any
				// second, under the server's 30.
				return congress.NewTokenBucketWith(congress.TokenBucketConfig{Limit: 20, Window: time.Second, Burst: 5})
			},
			check: func(t *testing.T, srv *congresstest.Server, res walkResult) {
				require.Zero(t, srv.Responses(http.StatusTooManyRequests))
				require.Zero(t, res.retries)
				require.Equal(t, 30, res.lastSeen.RateLimit.Limit)
				require.True(t, res.lastSeen.RateLimit.Known)
			},
		},
		{
			name: "short pages before the end",
			opts: congresstest.Options{ShortPageEvery: 3},
			check: func(t *testing.T, srv *congresstest.Server, res walkResult) {
				require.Positive(t, srv.ShortPages())
			},
		},
		{
			name: "count one too high",
			opts: congresstest.Options{CountLiesBy: 1},
			check: func(t *testing.T, srv *congresstest.Server, res walkResult) {
				require.Equal(t, 10001, res.lastSeen.Count)
				require.Empty(t, res.lastSeen.Items, "the walk ends on an empty page")
			},
		},
		{
			name: "count one too low",
			opts: congresstest.Options{CountLiesBy: -1},
		},
		{
			name: "slow responses",
			opts: congresstest.Options{Latency: time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.Seed = 7
			opts.Items = map[string]int{"bill": 10000}
			opts.ItemsPerEndpoint = 1
			opts.APIKeys = []string{testKey}
			srv := congresstest.NewServer(opts)
			t.Cleanup(srv.Close)

			cfg := congress.Config{BaseURL: srv.URL(), APIKey: testKey}
			if tt.limiter != nil {
				cfg.Limiter = tt.limiter()
			} else {
				cfg.Limiter = congress.NewTokenBucketWith(congress.TokenBucketConfig{Limit: 1 << 20, Window: time.Second, Burst: 1 << 10})
			}
			c := newClient(t, cfg)
			ep, _ := congress.EndpointByName("bill")
			res := walk(t, c, ep, congress.Params{Limit: tt.limit, Sort: true})
			requireExactlyOnce(t, srv, "bill", res)
			if tt.check != nil {
				tt.check(t, srv, res)
			}
		})
	}
}

// TestBadKey: a rejected key fails the first request with ErrAuth, naming
// the code, and is not retried.
func TestBadKey(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{APIKeys: []string{testKey}, ItemsPerEndpoint: 10})
	t.Cleanup(srv.Close)
	c := newClient(t, congress.Config{BaseURL: srv.URL(), APIKey: "WRONG-KEY-0000000000"})
	ep, _ := congress.EndpointByName("bill")

	_, err := c.Page(t.Context(), ep, congress.Params{}, 0)
	require.ErrorIs(t, err, congress.ErrAuth)
	require.Contains(t, err.Error(), congress.CodeAPIKeyInvalid)
	require.False(t, congress.Retryable(err))
	var ae *congress.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusForbidden, ae.Status)
	require.Equal(t, congress.CodeAPIKeyInvalid, ae.Code)
	require.EqualValues(t, 1, srv.Requests())
	require.NotContains(t, err.Error(), "WRONG-KEY-0000000000")
}

// unlimited is a Limiter that never waits.
type unlimited struct{}

func (unlimited) Wait(ctx context.Context) error { return ctx.Err() }
func (unlimited) Observe(congress.RateLimit)     {}

// TestKeyNeverLeaks drives successes and every kind of failure and checks
// that the key is in no request URL, no error string and no log line.
func TestKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := testLogger(&logs)
	srv := congresstest.NewServer(congresstest.Options{
		APIKeys: []string{testKey}, ItemsPerEndpoint: 600, ServerErrorRate: 0.3, Seed: 3,
		RateLimit: 12, RateWindow: time.Hour,
	})
	t.Cleanup(srv.Close)

	// A server that echoes the key back in its error bodies and redirects.
	var echoHits, echoURLsWithKey atomic.Int64
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echoHits.Add(1)
		key := r.Header.Get("X-Api-Key")
		if strings.Contains(r.URL.String(), key) {
			echoURLsWithKey.Add(1)
		}
		switch r.URL.Query().Get("offset") {
		case "1":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error": "boom for key %s"}`, key)
		case "2":
			fmt.Fprintf(w, "<html><title>%s</title></html>", key)
		case "3":
			http.Redirect(w, r, "http://example.invalid/v3/bill?k="+key, http.StatusFound)
		case "4":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"error": {"code": "API_KEY_INVALID", "message": "An invalid api_key %s was supplied."}}`, key)
		default:
			fmt.Fprintf(w, `{"bills": [{"congress": 1, "type": "%s"}], "pagination": {"count": 1}}`, key)
		}
	}))
	t.Cleanup(echo.Close)

	var errs []error
	ep, _ := congress.EndpointByName("bill")
	missing := congress.Endpoint{Name: "nothing", Path: "/nothing", ListKey: "x", CountField: "pagination.count", Key: ep.Key}

	// No local pacing, so the server's 429s come through.
	c := newClient(t, congress.Config{BaseURL: srv.URL(), APIKey: testKey, Logger: logger, Limiter: unlimited{}})
	_, err := c.Page(t.Context(), missing, congress.Params{}, 0)
	errs = append(errs, err)
	for offset := 0; offset < 20; offset++ { // successes, 5xx, then 429s
		if _, err := c.Page(t.Context(), ep, congress.Params{Limit: 50}, offset*50); err != nil {
			errs = append(errs, err)
		}
	}
	_, err = c.Page(t.Context(), ep, congress.Params{Limit: 999}, 0)
	errs = append(errs, err)

	slow := congresstest.NewServer(congresstest.Options{APIKeys: []string{testKey}, ItemsPerEndpoint: 10, SlowRate: 1, SlowLatency: 5 * time.Second})
	t.Cleanup(slow.Close)
	sc := newClient(t, congress.Config{BaseURL: slow.URL(), APIKey: testKey, Logger: logger, RequestTimeout: 20 * time.Millisecond})
	_, err = sc.Page(t.Context(), ep, congress.Params{}, 0)
	errs = append(errs, err)

	ec := newClient(t, congress.Config{BaseURL: echo.URL + "/v3", APIKey: testKey, Logger: logger})
	for offset := range 5 {
		page, err := ec.Page(t.Context(), ep, congress.Params{}, offset)
		if err != nil {
			errs = append(errs, err)
		} else {
			require.NotEmpty(t, page.Rejected) // the key-shaped type is rejected...
		}
	}
	require.EqualValues(t, 5, echoHits.Load(), "the redirect was not followed")
	require.Zero(t, echoURLsWithKey.Load())

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cc := newClient(t, congress.Config{BaseURL: closed.URL, APIKey: testKey, Logger: logger})
	_, err = cc.Page(t.Context(), ep, congress.Params{}, 0)
	errs = append(errs, err)

	kinds := map[error]bool{}
	for _, err := range errs {
		require.Error(t, err)
		for _, form := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			require.NotContains(t, form, testKey)
		}
		require.Contains(t, err.Error(), "offset")
		for _, kind := range []error{congress.ErrAuth, congress.ErrServer, congress.ErrRateLimited, congress.ErrNotFound, congress.ErrDecode,
			congress.ErrTimeout, congress.ErrNetwork, congress.ErrRequest, congress.ErrInvalidParams} {
			if errors.Is(err, kind) {
				kinds[kind] = true
			}
		}
	}
	require.Len(t, kinds, 9, "every error kind was provoked: %v", kinds)
	for _, u := range append(srv.RecordedURLs(), slow.RecordedURLs()...) {
		require.NotContains(t, u, testKey)
		require.NotContains(t, u, "api_key")
	}
	require.NotEmpty(t, logs.String())
	require.NotContains(t, logs.String(), testKey)

	cfg := congress.Config{APIKey: testKey}
	for _, form := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.String()} {
		require.NotContains(t, form, testKey)
	}
	logs.Reset()
	logger.Info("config", slog.Any("cfg", cfg))
	require.NotContains(t, logs.String(), testKey)
	require.Contains(t, logs.String(), "[redacted]")
}

// TestErrorClassification maps statuses and bodies to error kinds.
func TestErrorClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantKind   error
		wantCode   string
		wantRetry  bool
		wantAfter  time.Duration
		wantInText string
	}{
		{"gateway 403 invalid key", 403, nil, `{"error": {"code": "API_KEY_INVALID", "message": "An invalid api_key was supplied. Get one at https://api.congress.gov:443"}}`,
			congress.ErrAuth, "API_KEY_INVALID", false, 0, "API_KEY_INVALID"},
		{"gateway 403 missing key", 403, nil, `{"error": {"code": "API_KEY_MISSING", "message": "No api_key was supplied."}}`,
			congress.ErrAuth, "API_KEY_MISSING", false, 0, "API_KEY_MISSING"},
		{"cloudflare 403", 403, map[string]string{"Content-Type": "text/html"}, `<html><head><title>Attention Required! | Cloudflare</title></head></html>`,
			congress.ErrAuth, "", false, 0, "Attention Required"},
		{"429 with retry-after", 429, map[string]string{"Retry-After": "31714"}, `{"error": {"code": "OVER_RATE_LIMIT", "message": "You have exceeded your rate limit."}}`,
			congress.ErrRateLimited, "OVER_RATE_LIMIT", true, 31714 * time.Second, "OVER_RATE_LIMIT"},
		{"429 without retry-after", 429, nil, `{"error": {"code": "OVER_RATE_LIMIT", "message": "x"}}`,
			congress.ErrRateLimited, "OVER_RATE_LIMIT", true, 0, "rate limited"},
		{"404 unknown resource", 404, nil, `{"error": "Unknown resource: billzzz"}`,
			congress.ErrNotFound, "", false, 0, "Unknown resource: billzzz"},
		{"500 python error", 500, nil, `{"error": "'NoneType' object has no attribute 'documentver_set' (AttributeError)", "request": {"format": "json"}}`,
			congress.ErrServer, "", true, 0, "AttributeError"},
		{"502 cloudflare HTML", 502, map[string]string{"Content-Type": "text/html"}, "<!DOCTYPE html>\n<html><head><title>api.congress.gov | 502: Bad gateway</title></head><body>Cloudflare</body></html>",
			congress.ErrServer, "", true, 0, "502: Bad gateway"},
		{"503 with retry-after", 503, map[string]string{"Retry-After": "120"}, ``,
			congress.ErrServer, "", true, 2 * time.Minute, "empty body"},
		{"408", 408, nil, ``, congress.ErrTimeout, "", true, 0, "timed out"},
		{"400", 400, nil, `{"error": {"code": "HTTPS_REQUIRED", "message": "Requests must be made over HTTPS."}}`,
			congress.ErrRequest, "HTTPS_REQUIRED", false, 0, "HTTPS"},
		{"redirect", 301, map[string]string{"Location": "https://elsewhere.example/"}, ``,
			congress.ErrRequest, "", false, 0, "redirect"},
		{"200 HTML", 200, map[string]string{"Content-Type": "text/html"}, `<html><title>Just a moment...</title></html>`,
			congress.ErrDecode, "", false, 0, "Just a moment"},
		{"200 wrong shape", 200, nil, `{"bills": {"not": "a list"}, "pagination": {"count": 3}}`,
			congress.ErrDecode, "", false, 0, "not an array"},
		{"200 error body", 200, nil, `{"error": "Something odd"}`,
			congress.ErrDecode, "", false, 0, "Something odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, congress.Config{BaseURL: srv.URL + "/v3", APIKey: testKey})
			ep, _ := congress.EndpointByName("bill")

			_, err := c.Page(t.Context(), ep, congress.Params{Congress: 119}, 500)
			require.ErrorIs(t, err, tt.wantKind)
			var ae *congress.APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, "bill", ae.Endpoint)
			require.Equal(t, "/bill/119", ae.Path)
			require.Equal(t, 500, ae.Offset)
			require.Equal(t, tt.status, ae.Status)
			require.Equal(t, tt.wantCode, ae.Code)
			require.Equal(t, tt.wantRetry, congress.Retryable(err))
			after, ok := congress.RetryAfter(err)
			require.Equal(t, tt.wantAfter, after)
			require.Equal(t, tt.wantAfter > 0, ok)
			msg := err.Error()
			require.Contains(t, msg, "bill")
			require.Contains(t, msg, "offset 500")
			require.Contains(t, msg, tt.wantInText)
		})
	}
}

// TestTimeoutIsRetryable: a response slower than RequestTimeout is an
// ErrTimeout, retryable; a cancelled caller context is neither.
func TestTimeoutIsRetryable(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{ItemsPerEndpoint: 10, SlowRate: 1, SlowLatency: 10 * time.Second})
	t.Cleanup(srv.Close)
	c := newClient(t, congress.Config{BaseURL: srv.URL(), APIKey: testKey, RequestTimeout: 50 * time.Millisecond})
	ep, _ := congress.EndpointByName("hearing")

	_, err := c.Page(t.Context(), ep, congress.Params{}, 0)
	require.ErrorIs(t, err, congress.ErrTimeout)
	require.True(t, congress.Retryable(err))
	require.Contains(t, err.Error(), "hearing")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.Page(ctx, ep, congress.Params{}, 0)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, congress.Retryable(err))
}

// TestWireRequest checks what goes over the wire: the key only in the
// header, format=json, the window and the sort with "+" for the space.
func TestWireRequest(t *testing.T) {
	t.Parallel()
	type seen struct{ rawQuery, path, key, accept string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.RawQuery, r.URL.Path, r.Header.Get("X-Api-Key"), r.Header.Get("Accept")}
		w.Header().Set("X-Ratelimit-Limit", "5000")
		w.Header().Set("X-Ratelimit-Remaining", "4999")
		fmt.Fprint(w, `{"bills": [], "pagination": {"count": 0}}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, congress.Config{BaseURL: srv.URL + "/v3/", APIKey: testKey})
	ep, _ := congress.EndpointByName("bill")
	from := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("", 3600))
	to := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

	page, err := c.Page(t.Context(), ep, congress.Params{Congress: 119, From: from, To: to, Sort: true, Limit: 100}, 200)
	require.NoError(t, err)
	s := <-got
	require.Equal(t, "/v3/bill/119", s.path)
	require.Equal(t, "format=json&fromDateTime=2026-01-02T02%3A04%3A05Z&limit=100&offset=200&sort=updateDate+asc&toDateTime=2026-02-01T00%3A00%3A00Z", s.rawQuery)
	require.Equal(t, testKey, s.key)
	require.Equal(t, "application/json", s.accept)
	require.Equal(t, congress.RateLimit{Limit: 5000, Remaining: 4999, Known: true}, page.RateLimit)
	require.False(t, page.HasNext)
	require.Equal(t, 0, page.Count)
}

// TestConcurrentPages pages one endpoint from several goroutines through
// one client (run with -race).
func TestConcurrentPages(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{Items: map[string]int{"member": 2000}, ItemsPerEndpoint: 1})
	t.Cleanup(srv.Close)
	c := newClient(t, congress.Config{BaseURL: srv.URL(), APIKey: testKey, MaxConnsPerHost: 4,
		Limiter: congress.NewTokenBucketWith(congress.TokenBucketConfig{Limit: 10000, Window: time.Second, Burst: 100})})
	ep, _ := congress.EndpointByName("member")
	var total atomic.Int64
	errc := make(chan error, 8)
	for w := range 8 {
		go func() {
			page, err := c.Page(t.Context(), ep, congress.Params{}, w*250)
			total.Add(int64(len(page.Items)))
			errc <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errc)
	}
	require.EqualValues(t, 2000, total.Load())
}

// TestConfig covers environment loading, defaults and validation.
func TestConfig(t *testing.T) {
	t.Parallel()

	t.Run("env without key falls back to DEMO_KEY with a warning", func(t *testing.T) {
		t.Parallel()
		var logs bytes.Buffer
		cfg := congress.ConfigFromEnv(func(string) string { return "" }, testLogger(&logs))
		require.Equal(t, congress.DemoKey, cfg.APIKey)
		require.Contains(t, logs.String(), `"level":"WARN"`)
		require.Contains(t, logs.String(), "DEMO_KEY")
		require.Equal(t, congress.DefaultBaseURL, cfg.WithDefaults().BaseURL)
	})
	t.Run("env with values", func(t *testing.T) {
		t.Parallel()
		var logs bytes.Buffer
		env := map[string]string{congress.EnvBaseURL: "http://localhost:8089/v3/", congress.EnvAPIKey: " " + testKey + " "}
		cfg := congress.ConfigFromEnv(func(k string) string { return env[k] }, testLogger(&logs))
		require.Equal(t, testKey, cfg.APIKey)
		require.Empty(t, logs.String())
		require.Equal(t, "http://localhost:8089/v3", cfg.WithDefaults().BaseURL)
		_, err := congress.New(cfg)
		require.NoError(t, err)
	})

	tests := []struct {
		name    string
		cfg     congress.Config
		wantErr string
	}{
		{"empty key", congress.Config{}, "APIKey is empty"},
		{"key with newline", congress.Config{APIKey: "abc\ndef"}, "APIKey contains whitespace"},
		{"relative base", congress.Config{APIKey: "k", BaseURL: "api.congress.gov/v3"}, "BaseURL"},
		{"ftp base", congress.Config{APIKey: "k", BaseURL: "ftp://api.congress.gov/v3"}, "http(s) scheme"},
		{"key in base URL", congress.Config{APIKey: testKey, BaseURL: "https://api.congress.gov/v3?api_key=" + testKey}, "must not carry a query"},
		{"negative conns", congress.Config{APIKey: "k", MaxConnsPerHost: -1}, "MaxConnsPerHost"},
		{"negative timeout", congress.Config{APIKey: "k", RequestTimeout: -time.Second}, "RequestTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := congress.New(tt.cfg)
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), testKey)
		})
	}
}

// TestLimiterErrorSurfacesAsRateLimited: a limiter that declines to wait
// turns into an ErrRateLimited page error carrying the delay, and nothing
// is sent.
func TestLimiterErrorSurfacesAsRateLimited(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{ItemsPerEndpoint: 10})
	t.Cleanup(srv.Close)
	lim := congress.NewTokenBucketWith(congress.TokenBucketConfig{Limit: 1, Window: time.Hour, Burst: 1, MaxWait: time.Second})
	c := newClient(t, congress.Config{BaseURL: srv.URL(), APIKey: testKey, Limiter: lim})
	ep, _ := congress.EndpointByName("treaty")

	_, err := c.Page(t.Context(), ep, congress.Params{}, 0)
	require.NoError(t, err)
	_, err = c.Page(t.Context(), ep, congress.Params{}, 10)
	require.ErrorIs(t, err, congress.ErrRateLimited)
	require.True(t, congress.Retryable(err))
	d, ok := congress.RetryAfter(err)
	require.True(t, ok)
	require.Greater(t, d, time.Minute)
	require.Contains(t, err.Error(), "treaty")
	require.Contains(t, err.Error(), congress.CodeLocalBudget)
	require.EqualValues(t, 1, srv.Requests())
}

// TestParamsRequest checks path and query building and parameter
// validation.
func TestParamsRequest(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		endpoint  string
		params    congress.Params
		offset    int
		wantPath  string
		wantQuery string
		wantErr   string
	}{
		{"defaults", "bill", congress.Params{}, 0, "/bill", "format=json&limit=250&offset=0", ""},
		{"congress and segment", "bill", congress.Params{Congress: 118, Segments: []string{"hr"}, Limit: 20}, 40, "/bill/118/hr", "format=json&limit=20&offset=40", ""},
		{"window and sort", "amendment", congress.Params{From: day, To: day.Add(time.Hour), Sort: true}, 0, "/amendment",
			"format=json&fromDateTime=2026-09-01T00%3A00%3A00Z&limit=250&offset=0&sort=updateDate+asc&toDateTime=2026-09-01T01%3A00%3A00Z", ""},
		{"only from", "summaries", congress.Params{From: day}, 0, "/summaries", "format=json&fromDateTime=2026-09-01T00%3A00%3A00Z&limit=250&offset=0", ""},
		{"summaries need from", "summaries", congress.Params{To: day}, 0, "", "", "set From"},
		{"window below congress", "bill", congress.Params{Congress: 119, Segments: []string{"hr"}, From: day}, 0, "/bill/119/hr",
			"format=json&fromDateTime=2026-09-01T00%3A00%3A00Z&limit=250&offset=0", ""},
		{"window refused below member", "member", congress.Params{Segments: []string{"ca"}, From: day}, 0, "", "", "does not honour fromDateTime/toDateTime on /member/ca"},
		{"sort dropped where ignored", "house-vote", congress.Params{Sort: true}, 0, "/house-vote", "format=json&limit=250&offset=0", ""},
		{"member per congress", "member", congress.Params{Congress: 118, Query: map[string][]string{"currentMember": {"false"}}}, 0,
			"/member/congress/118", "currentMember=false&format=json&limit=250&offset=0", ""},
		{"record filters", "congressional-record", congress.Params{Query: map[string][]string{"y": {"2023"}}}, 0, "/congressional-record", "format=json&limit=250&offset=0&y=2023", ""},
		{"law needs a congress", "law", congress.Params{}, 0, "", "", "set Congress"},
		{"no per-congress list", "congress", congress.Params{Congress: 118}, 0, "", "", "set Congress to 0"},
		{"window refused", "house-vote", congress.Params{From: day}, 0, "", "", "does not honour fromDateTime"},
		{"window refused per congress", "member", congress.Params{Congress: 118, From: day}, 0, "", "", "does not honour fromDateTime"},
		{"to before from", "bill", congress.Params{From: day, To: day.Add(-time.Second)}, 0, "", "", "before Params.From"},
		{"limit too large", "bill", congress.Params{Limit: 251}, 0, "", "", "Params.Limit 251"},
		{"negative offset", "bill", congress.Params{}, -1, "", "", "negative"},
		{"upper-case segment", "bill", congress.Params{Congress: 119, Segments: []string{"HR"}}, 0, "", "", "lower-case"},
		{"key in query", "bill", congress.Params{Query: map[string][]string{"api_key": {"x"}}}, 0, "", "", `"api_key"`},
		{"format in query", "bill", congress.Params{Query: map[string][]string{"format": {"xml"}}}, 0, "", "", `"format"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep, ok := congress.EndpointByName(tt.endpoint)
			require.True(t, ok)
			path, q, err := ep.Request(tt.params, tt.offset)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, congress.ErrInvalidParams)
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, tt.endpoint)
				require.False(t, congress.Retryable(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantPath, path)
			require.Equal(t, tt.wantQuery, q.Encode())
		})
	}
}

// TestDecodeQuirks covers the paging and shape quirks of reference §5.
func TestDecodeQuirks(t *testing.T) {
	t.Parallel()
	bill := func(n string) string {
		return `{"congress": 119, "type": "HR", "number": "` + n + `", "updateDate": "2026-01-01", "newField": {"x": [1]}}`
	}
	tests := []struct {
		name       string
		body       string
		offset     int
		limit      int
		wantItems  int
		wantCount  int
		wantNext   bool
		wantOffset int
		wantReject int
		wantErr    string
	}{
		{"full page with next", `{"bills": [` + bill("1") + `,` + bill("2") + `], "pagination": {"count": 10, "next": "https://api.congress.gov/v3/bill?sort=updateDate desc&offset=2&limit=2&format=json"}}`,
			0, 2, 2, 10, true, 2, 0, ""},
		{"short page advances by what came", `{"bills": [` + bill("1") + `], "pagination": {"count": 10, "next": "x"}}`, 0, 2, 1, 10, true, 1, 0, ""},
		{"empty page before count skips ahead", `{"bills": [], "pagination": {"count": 10, "next": "x", "prev": "y"}}`, 2, 2, 0, 10, true, 4, 0, ""},
		{"empty page past count ends, next ignored", `{"bills": [], "pagination": {"count": 10, "next": "x"}}`, 9, 2, 0, 10, false, 11, 0, ""},
		{"last page without next", `{"bills": [` + bill("1") + `], "pagination": {"count": 5}}`, 4, 2, 1, 5, false, 5, 0, ""},
		{"count one too many", `{"bills": [` + bill("1") + `], "pagination": {"count": 6}}`, 4, 2, 1, 6, true, 5, 0, ""},
		{"no count but next", `{"bills": [` + bill("1") + `], "pagination": {"next": "x"}}`, 0, 1, 1, -1, true, 1, 0, ""},
		{"missing list key with pagination", `{"pagination": {"count": 0}, "request": {}}`, 0, 20, 0, 0, false, 20, 0, ""},
		{"legacy total field", `{"bills": [` + bill("1") + `], "pagination": {"count": 1, "total": 1}}`, 0, 20, 1, 1, false, 1, 0, ""},
		{"null and missing fields", `{"bills": [{"congress": 119, "type": "S", "number": "1", "updateDate": null, "title": null}], "pagination": {"count": 1}}`, 0, 20, 1, 1, false, 1, 0, ""},
		{"key part null is rejected, not fatal", `{"bills": [{"congress": 119, "type": "S", "number": null}, ` + bill("7") + `, 42], "pagination": {"count": 3}}`, 0, 20, 1, 3, false, 3, 2, ""},
		{"count as string", `{"bills": [], "pagination": {"count": "12"}}`, 0, 20, 0, 12, false, 20, 0, ""},
		{"not JSON", `<html>oops</html>`, 0, 20, 0, 0, false, 0, 0, "not a JSON object"},
		{"no envelope", `{"something": []}`, 0, 20, 0, 0, false, 0, 0, "no bills list"},
		{"bad count", `{"bills": [], "pagination": {"count": "many"}}`, 0, 20, 0, 0, false, 0, 0, "not an integer"},
	}
	ep, _ := congress.EndpointByName("bill")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page, err := congress.DecodePage(ep, []byte(tt.body), tt.offset, tt.limit)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, congress.ErrDecode)
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, fmt.Sprintf("offset %d", tt.offset))
				return
			}
			require.NoError(t, err)
			require.Len(t, page.Items, tt.wantItems)
			require.Len(t, page.Rejected, tt.wantReject)
			require.Equal(t, tt.wantCount, page.Count)
			require.Equal(t, tt.wantNext, page.HasNext)
			require.Equal(t, tt.wantOffset, page.NextOffset)
		})
	}
}

// TestParseTime covers the mixed date formats.
func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC; "" for not parseable
	}{
		{"2026-09-14", "2026-09-14T00:00:00Z"},
		{"2025-01-14T12:08:21Z", "2025-01-14T12:08:21Z"},
		{"2025-09-09T18:53:19-04:00", "2025-09-09T22:53:19Z"},
		{"2023-07-14 10:14:22+00:00", "2023-07-14T10:14:22Z"},
		{"2023-07-14T10:14:22", "2023-07-14T10:14:22Z"},
		{"2023-07-14 10:14:22", "2023-07-14T10:14:22Z"},
		{"2023-07-14T10:14:22.123Z", "2023-07-14T10:14:22.123Z"},
		{" 2026-09-14 ", "2026-09-14T00:00:00Z"},
		{"", ""},
		{"yesterday", ""},
		{"2026-13-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := congress.ParseTime(tt.in)
			if tt.want == "" {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, got.UTC().Format(time.RFC3339Nano))
		})
	}
}

// TestOptionalKeyParts checks that an optional key part that is missing,
// null or blank takes its default, so the item keeps one key however the
// part is served, and an integer part is never empty.
func TestOptionalKeyParts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		item     string
		want     string
	}{
		{"report part missing", "committee-report", `{"congress": 118, "type": "hrpt", "number": 5}`, "118|HRPT|5|1"},
		{"report part null", "committee-report", `{"congress": 118, "type": "hrpt", "number": 5, "part": null}`, "118|HRPT|5|1"},
		{"report part empty", "committee-report", `{"congress": 118, "type": "hrpt", "number": 5, "part": ""}`, "118|HRPT|5|1"},
		{"report part blank", "committee-report", `{"congress": 118, "type": "hrpt", "number": 5, "part": " "}`, "118|HRPT|5|1"},
		{"report part given", "committee-report", `{"congress": 118, "type": "hrpt", "number": 5, "part": "02"}`, "118|HRPT|5|2"},
		{"nomination part empty", "nomination", `{"congress": 118, "number": 730, "partNumber": ""}`, "118|730|00"},
		{"treaty suffix empty", "treaty", `{"congressReceived": 118, "number": 3, "suffix": ""}`, "118|3|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep, ok := congress.EndpointByName(tt.endpoint)
			require.True(t, ok)
			it, err := ep.ItemFromJSON([]byte(tt.item))
			require.NoError(t, err)
			require.Equal(t, tt.want, it.Key)
		})
	}
}

// TestJoinKey checks that keys stay unambiguous.
func TestJoinKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{"119", "HR", "1"}, "119|HR|1"},
		{[]string{"119", "2", ""}, "119|2|"},
		{[]string{"a|b", "c"}, `a\|b|c`},
		{[]string{`a\`, "b"}, `a\\|b`},
		{[]string{"\xff|"}, "\xff\\|"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, congress.JoinKey(tt.parts))
	}
	require.NotEqual(t, congress.JoinKey([]string{"a|b", "c"}), congress.JoinKey([]string{"a", "b|c"}))
	require.NotEqual(t, congress.JoinKey([]string{"\xff|"}), congress.JoinKey([]string{"\ufffd|"}), "invalid UTF-8 keeps its bytes")
}

// BenchmarkDecodePage250 decodes a 250-item bill page as served by the
// fake into what the store needs: each item's natural key and its JSON
// document. The baseline is what the scripts this project replaces do with
// a page: decode the body into generic maps, read the key fields, and
// encode each item again to store it. DecodePage keeps each item's bytes
// instead of re-encoding them, and also parses its update date.
func BenchmarkDecodePage250(b *testing.B) {
	body := fetchBody(b, "bill", 250)
	ep, _ := congress.EndpointByName("bill")
	b.Run("baseline", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var env map[string]any
			if err := json.Unmarshal(body, &env); err != nil {
				b.Fatal(err)
			}
			bills, _ := env["bills"].([]any)
			keys := make([]string, 0, len(bills))
			docs := make([][]byte, 0, len(bills))
			for _, it := range bills {
				m, _ := it.(map[string]any)
				keys = append(keys, fmt.Sprint(m["congress"], "|", m["type"], "|", m["number"]))
				doc, err := json.Marshal(m)
				if err != nil {
					b.Fatal(err)
				}
				docs = append(docs, doc)
			}
			if len(keys) != 250 || len(docs) != 250 {
				b.Fatalf("baseline decoded %d items", len(keys))
			}
		}
	})
	b.Run("DecodePage", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			page, err := congress.DecodePage(ep, body, 0, 250)
			if err != nil || len(page.Items) != 250 {
				b.Fatalf("decode: %v, %d items", err, len(page.Items))
			}
		}
	})
}

// BenchmarkPage250 fetches and decodes 250-item pages from the fake over
// HTTP (keep-alive), end to end.
func BenchmarkPage250(b *testing.B) {
	srv := congresstest.NewServer(congresstest.Options{Items: map[string]int{"bill": 100000}})
	b.Cleanup(srv.Close)
	c, err := congress.New(congress.Config{BaseURL: srv.URL(), APIKey: testKey,
		Limiter: congress.NewTokenBucketWith(congress.TokenBucketConfig{Limit: 1 << 30, Window: time.Second, Burst: 1 << 20})})
	if err != nil {
		b.Fatal(err)
	}
	ep, _ := congress.EndpointByName("bill")
	offset := 0
	b.ReportAllocs()
	for b.Loop() {
		page, err := c.Page(b.Context(), ep, congress.Params{Sort: true}, offset)
		if err != nil || len(page.Items) != 250 {
			b.Fatalf("page: %v", err)
		}
		offset = page.NextOffset % 99750
	}
}

func fetchBody(b *testing.B, endpoint string, limit int) []byte {
	b.Helper()
	srv := congresstest.NewServer(congresstest.Options{ItemsPerEndpoint: 1000})
	defer srv.Close()
	req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, fmt.Sprintf("%s/%s?format=json&limit=%d", srv.URL(), endpoint, limit), nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Api-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"bills"`) {
		b.Fatalf("unexpected body %.200s", buf.String())
	}
	return buf.Bytes()
}
