package config

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	tlog "go.temporal.io/sdk/log"

	"github.com/opendiscourse/congressflow/internal/logging"
)

// dialTimeout bounds connecting to Temporal, so an unreachable server is a
// prompt error rather than a hang.
const dialTimeout = 15 * time.Second

// DialTemporal connects to Temporal with the standard environment
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, the temporal.toml
// profile), logging through logger. It returns the namespace it uses. Its
// errors are one line and say how to fix them. adjust, if given, change
// the options before dialling (the worker sets its metrics handler).
func DialTemporal(ctx context.Context, logger *slog.Logger, adjust ...func(*client.Options)) (client.Client, string, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, "", fmt.Errorf("load Temporal client settings: %w (check the TEMPORAL_* variables and the temporal.toml profile)", err)
	}
	opts.Logger = tlog.NewStructuredLogger(logger)
	for _, f := range adjust {
		f(&opts)
	}
	dialCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := client.DialContext(dialCtx, opts)
	if err != nil {
		return nil, "", fmt.Errorf("connect to Temporal at %s: %s (start it with `temporal server start-dev` or set TEMPORAL_ADDRESS)",
			cmp.Or(opts.HostPort, client.DefaultHostPort), logging.OneLine(err))
	}
	return c, cmp.Or(opts.Namespace, client.DefaultNamespace), nil
}

// SplitList splits a comma-separated flag or variable value, dropping
// blanks: "a, b,,c" is [a b c].
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
