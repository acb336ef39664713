package congress

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Configuration defaults.
const (
	// DefaultBaseURL is the API root (reference §1).
	DefaultBaseURL = "https://api.congress.gov/v3"
	// DemoKey is the public, heavily throttled key used when none is set.
	DemoKey = "DEMO_KEY"
	// DefaultMaxConnsPerHost bounds concurrent connections to the API when
	// the worker's sizing plan gives no number.
	DefaultMaxConnsPerHost = 4
	// DefaultRequestTimeout bounds one request, body included. Pages of 250
	// bills take seconds; Cloudflare gives up on the origin after 100 s.
	DefaultRequestTimeout = 60 * time.Second
	// DefaultUserAgent identifies the client to the API operators.
	DefaultUserAgent = "congressflow (+https://github.com/opendiscourse/congressflow)"
	// maxBodyBytes caps a response body; a 250-item page is well below 2 MB.
	maxBodyBytes = 32 << 20
)

// Environment variables read by [ConfigFromEnv].
const (
	EnvBaseURL = "CONGRESS_API_BASE_URL"
	EnvAPIKey  = "CONGRESS_API_KEY"
)

// Config configures a [Client]. Its String, GoString and LogValue methods
// redact APIKey, so a Config may be printed or logged.
type Config struct {
	// BaseURL is the API root. Default DefaultBaseURL
	// (https://api.congress.gov/v3); CONGRESS_API_BASE_URL overrides it, e.g.
	// to point at the fake server.
	BaseURL string
	// APIKey is the api.data.gov key, sent only in the X-Api-Key header.
	// Required; ConfigFromEnv falls back to DemoKey.
	APIKey string
	// HTTPClient sends the requests. Default: a client with its own
	// keep-alive pool of MaxConnsPerHost connections. A given client is
	// copied and its redirect policy replaced (a redirect would carry the
	// key header to another host), so MaxConnsPerHost is then the caller's
	// business.
	HTTPClient *http.Client
	// MaxConnsPerHost sizes the default keep-alive pool; take it from the
	// worker's sizing plan. Default DefaultMaxConnsPerHost.
	MaxConnsPerHost int
	// RequestTimeout bounds each request including its body. Default
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Limiter paces requests. Default NewTokenBucket(DefaultRequestsPerHour,
	// DefaultBurst). Share one Limiter between all clients using one key.
	Limiter Limiter
	// Logger receives debug lines per request and warnings for rejected
	// items. Default: discard.
	Logger *slog.Logger
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
}

// ConfigFromEnv builds a Config from CONGRESS_API_BASE_URL and
// CONGRESS_API_KEY (read through getenv, e.g. os.Getenv). An unset key
// falls back to DEMO_KEY with a warning on logger.
func ConfigFromEnv(getenv func(string) string, logger *slog.Logger) Config {
	cfg := Config{
		BaseURL: strings.TrimSpace(getenv(EnvBaseURL)),
		APIKey:  strings.TrimSpace(getenv(EnvAPIKey)),
		Logger:  logger,
	}
	if cfg.APIKey == "" {
		cfg.APIKey = DemoKey
		if logger != nil {
			logger.Warn("congress: " + EnvAPIKey + " is not set; using DEMO_KEY, which allows only a few requests per hour; get a key at https://api.congress.gov/sign-up/")
		}
	}
	return cfg
}

// WithDefaults returns the config with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.BaseURL = strings.TrimRight(cmp.Or(strings.TrimSpace(c.BaseURL), DefaultBaseURL), "/")
	c.MaxConnsPerHost = cmp.Or(c.MaxConnsPerHost, DefaultMaxConnsPerHost)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, DefaultRequestTimeout)
	c.UserAgent = cmp.Or(c.UserAgent, DefaultUserAgent)
	if c.Limiter == nil {
		c.Limiter = NewTokenBucket(DefaultRequestsPerHour, DefaultBurst)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate checks a config with defaults applied. Messages name the field
// and never contain the key.
func (c Config) validate() error {
	var errs []error
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("config field BaseURL is not a URL; set %s to e.g. %s", EnvBaseURL, DefaultBaseURL))
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		errs = append(errs, fmt.Errorf("config field BaseURL %q needs an http(s) scheme and a host, e.g. %s", redact(c.BaseURL, c.APIKey), DefaultBaseURL))
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		errs = append(errs, errors.New("config field BaseURL must not carry a query, fragment or user info; the key goes in Config.APIKey"))
	}
	switch {
	case c.APIKey == "":
		errs = append(errs, fmt.Errorf("config field APIKey is empty; set %s (or use %s for a trial)", EnvAPIKey, DemoKey))
	case strings.ContainsFunc(c.APIKey, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		errs = append(errs, fmt.Errorf("config field APIKey contains whitespace or control characters; check %s", EnvAPIKey))
	case len(c.APIKey) >= 8 && strings.Contains(c.BaseURL, c.APIKey):
		errs = append(errs, errors.New("config field BaseURL contains the API key; remove it, the key is sent in a header"))
	}
	if c.MaxConnsPerHost < 1 {
		errs = append(errs, fmt.Errorf("config field MaxConnsPerHost %d must be at least 1", c.MaxConnsPerHost))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("config field RequestTimeout %s must be positive", c.RequestTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("congress: %w", err)
	}
	return nil
}

// String renders the config with the key redacted.
func (c Config) String() string {
	return fmt.Sprintf("congress.Config{BaseURL: %q, APIKey: %s, MaxConnsPerHost: %d, RequestTimeout: %s, UserAgent: %q}",
		c.BaseURL, redactedKey(c.APIKey), c.MaxConnsPerHost, c.RequestTimeout, c.UserAgent)
}

// GoString renders the config for %#v with the key redacted.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with the key redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("api_key", redactedKey(c.APIKey)),
		slog.Int("max_conns_per_host", c.MaxConnsPerHost),
		slog.Duration("request_timeout", c.RequestTimeout),
	)
}

// redactedKey says whether a key is set without showing it. DEMO_KEY is
// public and shown, since it changes what to expect.
func redactedKey(key string) string {
	switch key {
	case "":
		return "unset"
	case DemoKey:
		return DemoKey
	}
	return "[redacted]"
}
