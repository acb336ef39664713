package congress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Client fetches list pages from the Congress.gov v3 API. It is safe for
// concurrent use. It never retries on its own: every call is one request,
// and the caller (a Temporal activity) owns retries, using [Retryable] and
// [RetryAfter].
type Client struct {
	base    *url.URL
	key     string
	hc      *http.Client
	limiter Limiter
	logger  *slog.Logger
	timeout time.Duration
	agent   string
}

// New returns a Client for cfg (defaults filled in). It fails when the
// config is invalid; the message names the field.
func New(cfg Config) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, errors.New("congress: config field BaseURL is not a URL")
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Transport = newTransport(cfg.MaxConnsPerHost)
	}
	// The key travels in a custom header, which net/http forwards on
	// redirects, even to other hosts. The API does not redirect list
	// requests, so a redirect is reported instead of followed.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{
		base:    base,
		key:     cfg.APIKey,
		hc:      &hc,
		limiter: cfg.Limiter,
		logger:  cfg.Logger,
		timeout: cfg.RequestTimeout,
		agent:   cfg.UserAgent,
	}, nil
}

// newTransport returns a keep-alive pool of maxConns connections per host.
func newTransport(maxConns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = maxConns
	t.MaxIdleConnsPerHost = maxConns
	t.MaxIdleConns = max(t.MaxIdleConns, maxConns)
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// Page fetches one list page of ep at offset: format=json, limit, offset,
// the window and sort where ep honours them, and the key in the X-Api-Key
// header. It waits for the limiter first and reports the response's
// rate-limit headers back to it. Errors are [*APIError] values.
func (c *Client) Page(ctx context.Context, ep Endpoint, p Params, offset int) (Page, error) {
	path, query, err := ep.Request(p, offset)
	if err != nil {
		return Page{}, err
	}
	limit := p.limit()
	fail := func(ae *APIError) (Page, error) {
		ae.Endpoint, ae.Path, ae.Offset = ep.Name, path, offset
		ae.Message = redact(ae.Message, c.key)
		c.logger.LogAttrs(ctx, slog.LevelDebug, "congress: page failed",
			slog.String("endpoint", ep.Name), slog.String("path", path), slog.Int("offset", offset),
			slog.Int("status", ae.Status), slog.String("code", ae.Code), slog.String("error", ae.Error()))
		return Page{}, ae
	}

	if err := c.limiter.Wait(ctx); err != nil {
		ae := &APIError{Err: err}
		var le *APIError
		if errors.As(err, &le) {
			ae = &APIError{Kind: le.Kind, Code: le.Code, Message: le.Message, RetryAfter: le.RetryAfter}
		} else if errors.Is(err, context.DeadlineExceeded) {
			ae.Kind = ErrTimeout
		}
		return fail(ae)
	}

	start := time.Now()
	resp, body, err := c.get(ctx, path, query)
	if err != nil {
		return fail(c.transportError(ctx, err))
	}
	rl := readRateLimit(resp.Header)
	if rl.Limit > 0 || rl.Known {
		c.limiter.Observe(rl)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := c.statusError(resp, body)
		if p, ok := c.limiter.(Pauser); ok && ae.Kind == ErrRateLimited && ae.RetryAfter > 0 {
			// Hold back every request on this key, not only this one.
			p.Pause(ae.RetryAfter)
		}
		return fail(ae)
	}

	page, err := DecodePage(ep, body, offset, limit)
	if err != nil {
		ae := &APIError{Kind: ErrDecode, Err: err}
		var de *APIError
		if errors.As(err, &de) {
			ae = de
		}
		ae.Status = resp.StatusCode
		return fail(ae)
	}
	page.RateLimit = rl
	for _, r := range page.Rejected {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "congress: item without a natural key skipped",
			slog.String("endpoint", ep.Name), slog.Int("offset", offset), slog.Int("index", r.Index),
			slog.String("reason", redact(r.Reason, c.key)))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "congress: page fetched",
		slog.String("endpoint", ep.Name), slog.String("path", path), slog.String("query", query.Encode()),
		slog.Int("offset", offset), slog.Int("items", len(page.Items)), slog.Int("rejected", len(page.Rejected)),
		slog.Int("count", page.Count), slog.Bool("has_next", page.HasNext),
		slog.Int("ratelimit_remaining", rl.Remaining), slog.Duration("elapsed", time.Since(start)))
	return page, nil
}

// get sends one GET and reads the whole body within RequestTimeout.
func (c *Client) get(ctx context.Context, path string, query url.Values) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(body) > maxBodyBytes {
		return nil, nil, &APIError{Kind: ErrDecode, Status: resp.StatusCode, Message: "response body exceeds 32 MiB"}
	}
	return resp, body, nil
}

// transportError classifies a failure without a complete response.
func (c *Client) transportError(ctx context.Context, err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is in the APIError already
	}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return &APIError{Err: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &APIError{Kind: ErrTimeout, Err: err}
	}
	return &APIError{Kind: ErrNetwork, Err: err}
}

// statusError classifies a non-2xx response from its status and body.
func (c *Client) statusError(resp *http.Response, body []byte) *APIError {
	ae := &APIError{Status: resp.StatusCode}
	ae.Code, ae.Message = errorBody(body, resp.Header.Get("Content-Type"))
	switch s := resp.StatusCode; {
	case s == http.StatusForbidden:
		ae.Kind = ErrAuth
	case s == http.StatusTooManyRequests:
		ae.Kind = ErrRateLimited
		ae.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case s == http.StatusNotFound:
		ae.Kind = ErrNotFound
	case s == http.StatusRequestTimeout:
		ae.Kind = ErrTimeout
	case s >= 500:
		ae.Kind = ErrServer
		ae.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case s >= 300 && s < 400:
		ae.Kind = ErrRequest
		ae.Message = "unexpected redirect, not followed so the key header stays with the API host"
	default:
		ae.Kind = ErrRequest
	}
	return ae
}

// errorBody reads an error body: the gateway's {"error": {"code",
// "message"}}, the application's {"error": "..."}, or anything else
// (Cloudflare HTML) summarised.
func errorBody(body []byte, contentType string) (code, message string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var env struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(trimmed, &env) == nil && len(env.Error) > 0 {
			var obj struct{ Code, Message string }
			if s, ok := scalarText(env.Error); ok {
				return "", snippet(s)
			}
			if json.Unmarshal(env.Error, &obj) == nil {
				return obj.Code, snippet(obj.Message)
			}
		}
	}
	return "", describeBody(body, contentType)
}
