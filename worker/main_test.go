package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUsageNeverShowsTheDatabasePassword: flag usage prints defaults, so
// the database URL must not be one.
func TestUsageNeverShowsTheDatabasePassword(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "postgres://u:S3CRET@db:5432/x"}
	for _, args := range [][]string{{"--bogus"}, {"-h"}, {"--activity-slots", "many"}} {
		var out, errs bytes.Buffer
		err := run(context.Background(), args, &out, &errs, func(k string) string { return env[k] })
		require.Error(t, err)
		require.NotContains(t, errs.String()+out.String()+err.Error(), "S3CRET", "args %v", args)
	}
}

func TestBadOverrideNamesTheSetting(t *testing.T) {
	t.Parallel()
	var out, errs bytes.Buffer
	err := run(context.Background(), nil, &out, &errs, func(k string) string {
		return map[string]string{"WORKER_ACTIVITY_SLOTS": "-3"}[k]
	})
	require.ErrorContains(t, err, `WORKER_ACTIVITY_SLOTS="-3"`)
}

// TestHealthCheckAsksTheWorkersHealthz is the container health check:
// exit 0 on 200, an error with the body otherwise.
func TestHealthCheckAsksTheWorkersHealthz(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, "/healthz", r.URL.Path)
		w.WriteHeader(status)
		fmt.Fprint(w, `{"status":"unavailable","checks":{"database":"connection refused"}}`)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	check := func(args []string, env map[string]string) (string, error) {
		var out, errs bytes.Buffer
		err := run(context.Background(), args, &out, &errs, func(k string) string { return env[k] })
		return out.String(), err
	}

	out, err := check([]string{"--health-check", "--metrics-addr", addr}, nil)
	require.NoError(t, err)
	require.Equal(t, "healthy\n", out)
	_, err = check([]string{"--health-check"}, map[string]string{"WORKER_METRICS_ADDR": addr})
	require.NoError(t, err, "the address falls back to WORKER_METRICS_ADDR")

	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	_, err = check([]string{"--health-check", "--metrics-addr", addr}, nil)
	require.ErrorContains(t, err, "unhealthy:")
	require.ErrorContains(t, err, "503 Service Unavailable")
	require.ErrorContains(t, err, "connection refused")

	_, err = check([]string{"--health-check"}, nil)
	require.ErrorContains(t, err, "WORKER_METRICS_ADDR")
}
