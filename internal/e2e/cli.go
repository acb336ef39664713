package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/opendiscourse/congressflow/internal/devserver"
)

// BuildStarter builds the starter binary for the test.
func BuildStarter(t testing.TB) string {
	t.Helper()
	return build(t, "starter")
}

// Starter runs the starter binary against the stack, as a user would with
// the worker's environment (DATABASE_URL included); env adds to or
// overrides it. Its output joins the stack's Out and is returned with the
// error of the run.
func (s *Stack) Starter(t testing.TB, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(s.Ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+s.DBURL, "TEMPORAL_ADDRESS="+s.Dev, "TEMPORAL_NAMESPACE=default",
		"CONGRESSFLOW_TASK_QUEUE="+s.Queue, "CONGRESS_API_KEY="+Key, "LOG_FORMAT=json")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	s.Out.Write(out)
	return string(out), err
}

// CLI runs the temporal CLI against the stack's dev server. Its output
// joins the stack's Out and is returned with the error of the run.
func (s *Stack) CLI(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cli, err := devserver.CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	args = append(args, "--address", s.Dev, "--namespace", "default")
	out, err := exec.CommandContext(s.Ctx, cli, args...).CombinedOutput()
	s.Out.Write(out)
	return string(out), err
}

// WaitPolling waits until n workers in all have logged that they poll
// the task queue, or fails the test after a few minutes.
func (s *Stack) WaitPolling(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for strings.Count(s.Log.String(), `"worker: polling"`) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers never polled; log:\n%s", n, tailLines(s.Log.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
