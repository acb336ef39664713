// Command fakecongress serves the fake Congress.gov v3 API of package
// congresstest on a fixed address, for the offline demo and benchmarks:
//
//	go run ./internal/congresstest/cmd/fakecongress -addr :8089 -items 100000
//
// Point the worker at it with CONGRESS_API_BASE_URL=http://localhost:8089/v3.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/logging"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakecongress:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakecongress", flag.ContinueOnError)
	var (
		opts      congresstest.Options
		addr      = fs.String("addr", ":8089", "listen address")
		keys      = fs.String("key", "", "comma-separated accepted API keys (empty accepts any non-empty key)")
		logLevel  = fs.String("log-level", os.Getenv("LOG_LEVEL"), "log level: debug, info, warn, error (env LOG_LEVEL; default info)")
		logFormat = fs.String("log-format", os.Getenv("LOG_FORMAT"), "log format: text, json, auto (env LOG_FORMAT; default auto)")
	)
	fs.IntVar(&opts.ItemsPerEndpoint, "items", congresstest.DefaultItemsPerEndpoint, "items per endpoint")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed for item contents and fault draws")
	fs.IntVar(&opts.RateLimit, "rate-limit", 0, "requests per key per -rate-window (0: no limit, no headers)")
	fs.DurationVar(&opts.RateWindow, "rate-window", time.Hour, "rolling window of -rate-limit")
	fs.Float64Var(&opts.ServerErrorRate, "error-rate", 0, "share of requests answered 5xx, half of them HTML")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay added to every request")
	fs.Float64Var(&opts.SlowRate, "slow-rate", 0, "share of requests delayed by -slow-latency more")
	fs.DurationVar(&opts.SlowLatency, "slow-latency", 0, "extra delay of slow requests")
	fs.IntVar(&opts.TouchEvery, "touch-every", 0, "update -touch-count items every N list requests per endpoint")
	fs.IntVar(&opts.TouchCount, "touch-count", 1, "items updated by -touch-every")
	fs.IntVar(&opts.InsertEvery, "insert-every", 0, "insert -insert-count items every N list requests per endpoint")
	fs.IntVar(&opts.InsertCount, "insert-count", 1, "items inserted by -insert-every")
	fs.IntVar(&opts.CountLiesBy, "count-lies-by", 0, "added to every reported count")
	fs.IntVar(&opts.ShortPageEvery, "short-page-every", 0, "cut every Nth full page short by one item")
	fs.IntVar(&opts.EmptyPageEvery, "empty-page-every", 0, "answer every Nth page before the end with an empty list once")
	fs.IntVar(&opts.ThrottleEvery, "throttle-every", 0, "answer 429 with Retry-After for -throttle-for from every Nth accepted request on")
	fs.DurationVar(&opts.ThrottleFor, "throttle-for", 2*time.Second, "length of a -throttle-every burst")
	fs.BoolVar(&opts.ShuffleTies, "shuffle-ties", false, "serve items with equal update values in a new order on every request")
	items := fs.String("items-per", "", "comma-separated endpoint=count overrides, e.g. bill=20000,member=3000")
	ties := fs.String("ties", "", "comma-separated endpoint=count: items sharing one update time (a bulk reprocessing), e.g. bill=3000")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var err error
	if opts.Items, err = endpointCounts("-items-per", *items); err != nil {
		return err
	}
	if opts.Ties, err = endpointCounts("-ties", *ties); err != nil {
		return err
	}
	logger, err := logging.New(os.Stderr, logging.Options{Level: *logLevel, Format: *logFormat})
	if err != nil {
		return err
	}
	opts.Logger = logger
	for _, k := range strings.Split(*keys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			opts.APIKeys = append(opts.APIKeys, k)
		}
	}

	h, err := congresstest.NewHandler(opts)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("fakecongress: serving",
		slog.String("base_url", "http://"+ln.Addr().String()+"/v3"),
		slog.Int("items_per_endpoint", opts.ItemsPerEndpoint),
		slog.Int("api_keys", len(opts.APIKeys)),
		slog.Int("rate_limit", opts.RateLimit),
		slog.Float64("error_rate", opts.ServerErrorRate))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("fakecongress: stopped", slog.Int64("requests", h.Requests()))
	return nil
}

// endpointCounts parses "bill=20000,member=3000".
func endpointCounts(flagName, s string) (map[string]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, num, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("%s %q: want endpoint=count, e.g. bill=20000", flagName, part)
		}
		out[name] = n
	}
	return out, nil
}
