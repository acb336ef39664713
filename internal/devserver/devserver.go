// Package devserver finds the Temporal CLI that `make` installs and starts
// its dev server for integration tests.
package devserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
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

// Process is a dev server run as a child process on a fixed port and a
// SQLite file, so that a test can kill it mid-run and start it again on
// the same port with the same state: workers and clients reconnect to the
// address they know.
type Process struct {
	path, hostPort, dbFile string
	args                   []string
	logger                 io.Writer

	cmd  *exec.Cmd
	done chan struct{}
}

// StartProcess starts a dev server on a free port whose state lives in
// dbFile and stops it when the test ends. extraArgs go to `temporal server
// start-dev`; log receives its output (nil: discarded).
func StartProcess(t testing.TB, dbFile string, log io.Writer, extraArgs ...string) *Process {
	t.Helper()
	path, err := CLIPath()
	if err != nil {
		t.Fatalf("devserver: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("devserver: free port: %v", err)
	}
	hostPort := l.Addr().String()
	_ = l.Close()
	p := &Process{path: path, hostPort: hostPort, dbFile: dbFile, args: extraArgs, logger: cmp.Or[io.Writer](log, io.Discard)}
	t.Cleanup(func() {
		if err := p.Kill(); err != nil {
			t.Logf("devserver: stop: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatalf("devserver: %v", err)
	}
	return p
}

// HostPort is the server's gRPC address.
func (p *Process) HostPort() string { return p.hostPort }

// Start starts the server, unless it runs, and waits until it answers.
func (p *Process) Start(ctx context.Context) error {
	if p.cmd != nil {
		return nil
	}
	host, port, _ := net.SplitHostPort(p.hostPort)
	args := append([]string{"server", "start-dev", "--ip", host, "--port", port, "--headless",
		"--namespace", "default", "--db-filename", p.dbFile, "--log-level", "error",
		"--dynamic-config-value", "frontend.enableServerVersionCheck=false"}, p.args...)
	cmd := exec.Command(p.path, args...)
	cmd.Stdout, cmd.Stderr = p.logger, p.logger
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.path, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(p.done)
	for {
		c, err := client.DialContext(ctx, client.Options{HostPort: p.hostPort, Namespace: "default",
			Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-p.done:
			p.cmd = nil
			return fmt.Errorf("the dev server on %s exited while starting", p.hostPort)
		case <-ctx.Done():
			return fmt.Errorf("the dev server on %s did not answer: %w", p.hostPort, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it
// to exit. Killing a stopped server does nothing.
func (p *Process) Kill() error {
	if p.cmd == nil {
		return nil
	}
	err := p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	return err
}
