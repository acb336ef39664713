// Package devserver finds the Temporal CLI that `make` installs and starts
// its dev server for integration tests.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
)

// CLIVersion is the Temporal CLI version the project builds with `go
// install`; later versions carry replace directives and cannot be installed
// that way.
const CLIVersion = "v1.5.1"

// CLIPath returns the temporal binary to use: $TEMPORAL_CLI when set, else
// the one `make temporal-cli` caches under the user cache directory, else
// the first `temporal` on PATH.
func CLIPath() (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("TEMPORAL_CLI=%s: %w", p, err)
		}
		return p, nil
	}
	if p := CachedCLIPath(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", errors.New("no temporal CLI found: run `make temporal-cli` (go install github.com/temporalio/cli/cmd/temporal@" + CLIVersion + ") or set TEMPORAL_CLI")
}

// CachedCLIPath is where `make temporal-cli` puts the binary, keyed by
// version so an upgrade does not reuse a stale build.
func CachedCLIPath() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "congressflow", "temporal-cli-"+CLIVersion, "temporal")
}

// Start starts a dev server on a free port with an in-memory store and
// stops it when the test ends. extraArgs go to `temporal server start-dev`.
func Start(t testing.TB, extraArgs ...string) *testsuite.DevServer {
	t.Helper()
	path, err := CLIPath()
	if err != nil {
		t.Fatalf("devserver: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  path,
		LogLevel:      "error",
		ClientOptions: &client.Options{Namespace: "default"},
		ExtraArgs:     extraArgs,
		Stdout:        io.Discard,
		Stderr:        io.Discard,
	})
	if err != nil {
		t.Fatalf("devserver: start %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Logf("devserver: stop: %v", err)
		}
	})
	return srv
}
