package faults_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/internal/pgtest"
)

// badKeyBound is how soon a run with a key the API rejects must have
// failed, measured by the server from its start to its close.
const badKeyBound = 5 * time.Second

// TestBadInputs drives bad inputs the way a user meets them: real worker
// processes, the starter binary and `temporal workflow execute`, against a
// database whose role has a real password. A rejected API key fails the
// run non-retryably within seconds; input the API cannot serve or the
// tool does not know fails with the field named; a page that stays
// malformed fails the run naming the endpoint and the offset; a wrong
// database password stops the worker with a clear error. Neither the key
// nor either password appears in any log, output or history.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	password, wrong, badKey := secret(t, "pw-"), secret(t, "wrong-"), secret(t, "BAD-KEY-")
	cluster := pgtest.Start(t)
	dbURL := passwordDatabase(t, cluster, password)
	const malformedAt = 245 // the second page of an offset walk: offset 250 - 5 of overlap
	s := e2e.New(t, e2e.Options{Timeout: 20 * time.Minute, DatabaseURL: dbURL, Fake: congresstest.Options{
		ItemsPerEndpoint: 600, Seed: 25, Malformed: map[string][]int{"hearing": {malformedAt}}}})
	t.Cleanup(func() { s.RequireNoSecrets(t, []string{e2e.Key, badKey, password, wrong}) })
	workerBin, starterBin := e2e.BuildWorker(t), e2e.BuildStarter(t)
	var checks []string

	// A key the API rejects.
	badQueue := s.Queue + "-bad-key"
	stop := spawn(t, s, workerBin, 1, "CONGRESS_API_KEY="+badKey, "CONGRESSFLOW_TASK_QUEUE="+badQueue)
	s.WaitPolling(t, 1)
	out, err := s.CLI(t, "workflow", "execute", "--type", "IngestWorkflow", "--task-queue", badQueue,
		"--workflow-id", "faults-bad-key", "--input", `{}`)
	require.Error(t, err, out)
	require.Contains(t, out, congress.CodeAPIKeyInvalid)
	desc, err := s.Client.DescribeWorkflow(s.Ctx, "faults-bad-key", "")
	require.NoError(t, err)
	info := desc.RawResponse.GetWorkflowExecutionInfo()
	took := info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime())
	require.Less(t, took, badKeyBound, "a rejected key fails the run at once")
	var ae *temporal.ApplicationError
	err = s.Client.GetWorkflow(s.Ctx, "faults-bad-key", "").Get(s.Ctx, nil)
	require.True(t, errors.As(err, &ae), "got %v", err)
	require.True(t, ae.NonRetryable())
	require.Equal(t, congress.CodeAPIKeyInvalid, ae.Type())
	stop()
	checks = append(checks, fmt.Sprintf("bad key failed in %s", took.Round(10*time.Millisecond)))

	// Input the starter rejects before it starts anything.
	for _, tc := range []struct{ input, want string }{
		{`{"ingest":{"page_size":500}}`, "page_size: 500 is out of range"},
		{`{"ingest":{"endpoints":["bils"]}}`, `endpoints: unknown endpoint "bils"; did you mean "bill"?`},
		{`{"tune":{"overrides":[{"name":"shared_bufers","value":"1GB"}]}}`, "shared_bufers: not a setting this tool manages"},
		{`{"tune":{"shared_buffers":"1GB"}}`, `unknown field "shared_buffers" in tune`},
		{`{"extensions":{"names":["pg_stat_statement"]}}`, `unknown extension "pg_stat_statement"`},
		{`{"ingest":{"endpoints":["bill"],"tune_me":1}}`, `unknown field "tune_me" in ingest`},
	} {
		out, err := s.Starter(t, starterBin, nil, "run", "--input", tc.input)
		require.Error(t, err, "starter run --input %s", tc.input)
		require.Contains(t, out, tc.want, "starter run --input %s", tc.input)
	}
	checks = append(checks, "6 inputs refused by the starter")

	// The same kind of input started with the temporal CLI reaches the
	// workflow, which fails it as a user's error, naming the field.
	stop = spawn(t, s, workerBin, 2)
	s.WaitPolling(t, 2)
	for i, tc := range []struct{ workflow, input, want string }{
		{"IngestWorkflow", `{"page_size":500}`, "page_size: 500 is out of range"},
		{"IngestWorkflow", `{"endpoints":["bils"]}`, `unknown endpoint "bils"`},
		{"PipelineWorkflow", `{"tune":{"overrides":[{"name":"shared_bufers","value":"1GB"}]}}`, "shared_bufers: not a setting this tool manages"},
		{"PipelineWorkflow", `{"extensions":{"names":["pg_stat_statement"]}}`, `unknown extension "pg_stat_statement"`},
	} {
		out, err := s.CLI(t, "workflow", "execute", "--type", tc.workflow, "--task-queue", s.Queue,
			"--workflow-id", fmt.Sprintf("faults-input-%d", i), "--input", tc.input)
		require.Error(t, err, "%s %s: %s", tc.workflow, tc.input, out)
		require.Contains(t, out, tc.want, "%s %s", tc.workflow, tc.input)
		id := fmt.Sprintf("faults-input-%d", i)
		err = s.Client.GetWorkflow(s.Ctx, id, "").Get(s.Ctx, nil)
		require.True(t, errors.As(err, &ae), "%s: got %v", id, err)
		require.Equal(t, activities.ErrTypeInvalidInput, ae.Type(), "%s", id)
		require.True(t, ae.NonRetryable(), "%s", id)
	}
	checks = append(checks, "4 inputs failed by the workflows")

	// A page that stays malformed.
	out, err = s.CLI(t, "workflow", "execute", "--type", "IngestWorkflow", "--task-queue", s.Queue,
		"--workflow-id", "faults-malformed", "--input", `{"endpoints":["hearing"]}`)
	require.Error(t, err, out)
	require.Contains(t, out, fmt.Sprintf("hearing /hearing offset %d", malformedAt), out)
	require.Positive(t, s.Fake.MalformedPages())
	t.Logf("malformed page: %s", failureLine(out))
	checks = append(checks, fmt.Sprintf("malformed page asked %d times", s.Fake.MalformedPages()))

	// The starter reads no DATABASE_URL: with a wrong one it works (the
	// worker has the right one) and prints neither password.
	out, err = s.Starter(t, starterBin, []string{"DATABASE_URL=" + withPassword(t, dbURL, wrong)}, "run", "--wait", "--stages", "analyze")
	require.NoError(t, err, out)
	stop()

	// A worker with a wrong password.
	before := len(s.Log.String())
	w := s.Spawn(t, workerBin, 3, "DATABASE_URL="+withPassword(t, dbURL, wrong))
	done := make(chan error, 1)
	go func() { done <- w.Wait() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		_ = w.Process.Kill()
		t.Fatal("a worker with a wrong database password did not exit")
	}
	require.Error(t, err)
	logged := s.Log.String()[before:]
	require.Contains(t, logged, "password authentication failed")
	t.Logf("wrong password: %s", strings.TrimSpace(logged[strings.LastIndex(strings.TrimRight(logged, "\n"), "\n")+1:]))
	checks = append(checks, "wrong password: worker exited 1")

	report(t, outcome{scenario: "bad-inputs", requests: s.Fake.Requests(), detail: strings.Join(checks, "; ")})
}

// failureLine returns the failure message `temporal workflow execute`
// printed.
func failureLine(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "Message:"); ok {
			return strings.TrimSpace(m)
		}
	}
	return out
}

// spawn starts a worker process and returns a function that stops it and
// waits for it to exit (also run when the test ends).
func spawn(t *testing.T, s *e2e.Stack, bin string, n int, env ...string) (stop func()) {
	t.Helper()
	w := s.Spawn(t, bin, n, env...)
	done := make(chan struct{})
	go func() { _ = w.Wait(); close(done) }()
	stop = func() { _ = w.Process.Signal(syscall.SIGTERM); <-done }
	t.Cleanup(stop)
	return stop
}

// secret returns a random string with the prefix, for a key or password.
func secret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return prefix + hex.EncodeToString(b)
}

// passwordDatabase makes the cluster ask for passwords over TCP (but the
// postgres superuser's), creates a role with the password and a database
// it owns, and returns that database's URL.
func passwordDatabase(t *testing.T, c *pgtest.Cluster, password string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE ROLE congressflow LOGIN PASSWORD "+quoteLiteral(password))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE DATABASE ingest OWNER congressflow")
	require.NoError(t, err)
	hba := "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	require.NoError(t, os.WriteFile(filepath.Join(c.DataDir(), "pg_hba.conf"), []byte(hba), 0o600))
	_, err = conn.Exec(ctx, "SELECT pg_reload_conf()")
	require.NoError(t, err)
	u, err := url.Parse(c.URL("ingest"))
	require.NoError(t, err)
	u.User = url.UserPassword("congressflow", password)
	return u.String()
}

// withPassword returns rawURL with another password.
func withPassword(t *testing.T, rawURL, password string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// quoteLiteral quotes s as an SQL string literal; the secrets made here
// hold no quote, but the statement must not depend on that.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
