package workerapp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// ingestKey is the API key of the ingest tests: no history, log or output
// may contain it.
const ingestKey = e2e.Key

// ingestBundle is a dev server, a database, a fake Congress.gov API and,
// unless a test runs worker processes itself, a worker in this process.
type ingestBundle struct{ *e2e.Stack }

// ingestSetup starts the parts; with inProcess false no worker is started
// (the test runs worker processes itself). devArgs go to the dev server.
// When the test ends, the key must appear in no log and no history.
func ingestSetup(t *testing.T, opts congresstest.Options, inProcess bool, devArgs ...string) *ingestBundle {
	t.Helper()
	b := &ingestBundle{e2e.New(t, e2e.Options{Fake: opts, DevArgs: devArgs})}
	if inProcess {
		b.StartWorker(t, ingestKey)
	}
	t.Cleanup(func() { b.RequireNoSecrets(t, []string{ingestKey}) })
	return b
}

// TestIngestFullWalkEqualsTheSource is `temporal workflow start --type
// IngestWorkflow --input '{}'` against 20,000 bills, 3,000 members and a
// few hundred of every other default endpoint: every table equals the
// source. The dev server suggests continuing as new early, so bill's walk
// continues as new; its histories and the parent's join the replay
// fixtures.
func TestIngestFullWalkEqualsTheSource(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 300, Items: map[string]int{"bill": 20000, "member": 3000}, Seed: 3}, true,
		"--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40")
	run := b.Start(t, "ingest-default", workflows.IngestInput{PagesPerActivity: 10})
	var res workflows.IngestResult
	require.NoError(t, run.Get(b.Ctx, &res))
	t.Log(res.Summary)
	b.RequireTablesEqualSource(t, workflows.DefaultEndpoints...)
	require.Empty(t, res.Failed)
	require.LessOrEqual(t, float64(res.Requests), 1.25*float64(res.MinRequests), "requests vs the minimum")
	require.Len(t, res.Rows, len(workflows.DefaultEndpoints))
	require.EqualValues(t, 20000, res.Rows[0].Rows)

	var runs, complete int
	require.NoError(t, b.Pool.QueryRow(b.Ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'completed' AND gap = 0 AND confirmed = count_reported)
FROM ops.ingest_runs`).Scan(&runs, &complete))
	require.Equal(t, len(workflows.DefaultEndpoints), runs, "one ops.ingest_runs row per endpoint walk")
	require.Equal(t, runs, complete)

	// bill continued as new: its first run and its last both replay.
	child := run.GetID() + "-bill"
	desc, err := b.Client.DescribeWorkflow(b.Ctx, child, "")
	require.NoError(t, err)
	first := desc.RawResponse.WorkflowExecutionInfo.GetFirstRunId()
	last := desc.RawResponse.WorkflowExecutionInfo.GetExecution().GetRunId()
	require.NotEqual(t, first, last, "the bill walk continued as new")
	replay(t, &testBundle{ctx: b.Ctx, client: b.Client}, run.GetID(), run.GetRunID())
	replayAs(t, b, child, first, child+"~first-run.json")
	replayAs(t, b, child, last, child+".json")
}

// replayAs replays a run and, with -update-history, records it under name.
func replayAs(t *testing.T, b *ingestBundle, id, runID, name string) {
	t.Helper()
	tb := &testBundle{ctx: b.Ctx, client: b.Client}
	checkReplay(t, tb, id, runID)
	if *updateHistory {
		writeHistory(t, tb, id, runID, name)
	}
}

// TestIngestMovingSourceThenQuietRun updates and inserts items while the
// default endpoints are walked, and reorders ties on every request: every
// item that did not change during the walk is stored as served; a second
// run over the settled source makes every table equal to it.
func TestIngestMovingSourceThenQuietRun(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 600, Items: map[string]int{"bill": 4000}, Seed: 5,
		TouchEvery: 2, TouchCount: 3, InsertEvery: 3, InsertCount: 2, ShuffleTies: true}, true)
	first := b.Start(t, "ingest-moving", workflows.IngestInput{MaxParallel: 6})
	var res workflows.IngestResult
	require.NoError(t, first.Get(b.Ctx, &res))
	t.Log(res.Summary)
	b.RequireUnchangedStored(t, workflows.DefaultEndpoints...)

	b.Fake.Settle()
	second := b.Start(t, "ingest-moving-again", workflows.IngestInput{MaxParallel: 6})
	require.NoError(t, second.Get(b.Ctx, &res))
	t.Log(res.Summary)
	b.RequireTablesEqualSource(t, workflows.DefaultEndpoints...)
}

// TestIngestThroughFaults walks the default endpoints through 10 % server
// errors (half of them HTML pages), slow pages, a count that lies by one,
// short pages and empty pages before the end: every table equals the
// source.
func TestIngestThroughFaults(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 400, Items: map[string]int{"bill": 3000}, Seed: 9,
		ServerErrorRate: 0.1, SlowRate: 0.05, SlowLatency: 2 * time.Second, CountLiesBy: 1, ShortPageEvery: 4, EmptyPageEvery: 5}, true)
	run := b.Start(t, "ingest-faults", workflows.IngestInput{MaxParallel: 6})
	var res workflows.IngestResult
	require.NoError(t, run.Get(b.Ctx, &res))
	t.Log(res.Summary)
	require.Positive(t, res.Retries, "the faults were met")
	require.Positive(t, b.Fake.HTMLErrors())
	b.RequireTablesEqualSource(t, workflows.DefaultEndpoints...)
}

// TestIngestFailsFastOnABadKey: the API rejects the key; the run fails
// within seconds, non-retryably, naming API_KEY_INVALID.
func TestIngestFailsFastOnABadKey(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 100, APIKeys: []string{"THE-ONLY-GOOD-KEY"}}, false)
	b.StartWorker(t, ingestKey)
	began := time.Now()
	run := b.Start(t, "ingest-bad-key", workflows.IngestInput{})
	err := run.Get(b.Ctx, nil)
	took := time.Since(began)
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "got %v", err)
	require.Equal(t, congress.CodeAPIKeyInvalid, ae.Type())
	require.True(t, ae.NonRetryable())
	require.Contains(t, err.Error(), "API_KEY_INVALID")
	require.Less(t, took, 10*time.Second)
	t.Logf("failed after %s: %v", took.Round(time.Millisecond), err)
}
