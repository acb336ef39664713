package congress

import (
	"cmp"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Every error returned by [Client.Page] is an [*APIError]
// whose Kind is one of these (or nil for a cancelled context), so callers
// branch with errors.Is and read details with errors.As.
var (
	// ErrAuth means the API key was rejected (403, API_KEY_* codes, or a
	// non-JSON 403 from the CDN). Not retryable: fix the key or the network.
	ErrAuth = errors.New("api key rejected")
	// ErrRateLimited means the request budget is spent: a 429
	// OVER_RATE_LIMIT from the API, or the local limiter declining to wait
	// longer than its MaxWait. Retryable after [RetryAfter].
	ErrRateLimited = errors.New("rate limited")
	// ErrNotFound means the API answered 404 (unknown resource).
	ErrNotFound = errors.New("not found")
	// ErrServer means a 5xx answer, JSON or not (Cloudflare HTML pages
	// included). Retryable.
	ErrServer = errors.New("server error")
	// ErrDecode means a 2xx answer whose body is not the expected envelope.
	// The error carries the endpoint, request path and offset.
	ErrDecode = errors.New("undecodable response")
	// ErrTimeout means the request or its body did not complete within
	// Config.RequestTimeout (or the caller's deadline), or the server
	// answered 408. Retryable.
	ErrTimeout = errors.New("timed out")
	// ErrNetwork means the request failed below HTTP: refused or reset
	// connections, a body cut short. Retryable.
	ErrNetwork = errors.New("network error")
	// ErrRequest means the API rejected the request itself: a 4xx other
	// than 403/404/408/429, or an unexpected redirect. Not retryable.
	ErrRequest = errors.New("request rejected")
	// ErrInvalidParams means [Params] do not fit the [Endpoint]; nothing was
	// sent. Not retryable.
	ErrInvalidParams = errors.New("invalid parameters")
)

// Error codes found in API error bodies, plus CodeLocalBudget for the local
// limiter.
const (
	CodeAPIKeyMissing      = "API_KEY_MISSING"
	CodeAPIKeyInvalid      = "API_KEY_INVALID"
	CodeAPIKeyDisabled     = "API_KEY_DISABLED"
	CodeAPIKeyUnauthorized = "API_KEY_UNAUTHORIZED"
	CodeAPIKeyUnverified   = "API_KEY_UNVERIFIED"
	CodeOverRateLimit      = "OVER_RATE_LIMIT"
	// CodeLocalBudget marks an [ErrRateLimited] raised by a [Limiter]
	// before any request was sent.
	CodeLocalBudget = "LOCAL_BUDGET"
)

// APIError describes a failed page request. Its message always names the
// endpoint and offset and never contains the API key.
type APIError struct {
	// Kind is one of the package's sentinel errors; nil when the caller's
	// context was cancelled.
	Kind error
	// Endpoint is the registry name of the endpoint ("bill").
	Endpoint string
	// Path is the request path below the base URL ("/bill/119"), without
	// query or key.
	Path string
	// Offset is the offset the request asked for.
	Offset int
	// Status is the HTTP status; 0 when no response arrived.
	Status int
	// Code is the API error code (API_KEY_INVALID, OVER_RATE_LIMIT...) when
	// the body carried one.
	Code string
	// Message is the server's message, or a short description of a non-JSON
	// body, with the key redacted and the length capped.
	Message string
	// RetryAfter is the delay the server asked for (Retry-After) or the local
	// limiter computed; 0 when unknown.
	RetryAfter time.Duration
	// Err is the underlying cause (transport or JSON error), if any.
	Err error
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("congress ")
	b.WriteString(cmp.Or(e.Endpoint, "?"))
	if e.Path != "" {
		b.WriteString(" ")
		b.WriteString(e.Path)
	}
	b.WriteString(" offset ")
	b.WriteString(strconv.Itoa(e.Offset))
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("request aborted")
	}
	if e.Status != 0 || e.Code != "" {
		b.WriteString(" (")
		if e.Status != 0 {
			b.WriteString("HTTP ")
			b.WriteString(strconv.Itoa(e.Status))
			if e.Code != "" {
				b.WriteString(" ")
			}
		}
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap exposes both the sentinel kind and the underlying cause to
// errors.Is and errors.As.
func (e *APIError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable reports whether err is worth retrying as is: rate limits,
// server errors, timeouts and network failures. Auth, not-found, decode,
// request and parameter errors, and cancellation are not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	for _, kind := range []error{ErrRateLimited, ErrServer, ErrTimeout, ErrNetwork} {
		if errors.Is(err, kind) {
			return true
		}
	}
	for _, kind := range []error{ErrAuth, ErrNotFound, ErrDecode, ErrRequest, ErrInvalidParams} {
		if errors.Is(err, kind) {
			return false
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// RetryAfter returns the delay the server (or the local limiter) asked for
// before the next attempt, when err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter, true
	}
	return 0, false
}

// parseRetryAfter reads a Retry-After header: delta seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// redact removes every occurrence of key from s.
func redact(s, key string) string {
	if key == "" || !strings.Contains(s, key) {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}
