package activities_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/internal/store"
)

const testKey = "ACTIVITY-TEST-KEY-0123456789"

type ingestBundle struct {
	srv    *congresstest.Server
	pool   *pgxpool.Pool
	ingest *activities.Ingest
	env    *testsuite.TestActivityEnvironment
}

func unlimited() congress.Limiter {
	return congress.NewTokenBucketWith(congress.TokenBucketConfig{Limit: 1 << 30, Window: time.Second, Burst: 1 << 20})
}

func ingestSetup(t *testing.T, opts congresstest.Options, baseURL, key string) *ingestBundle {
	t.Helper()
	srv := congresstest.NewServer(opts)
	t.Cleanup(srv.Close)
	if baseURL == "" {
		baseURL = srv.URL()
	}
	client, err := congress.New(congress.Config{BaseURL: baseURL, APIKey: key, Limiter: unlimited(), RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	pool := pgtest.MigratedPool(t, pgtest.Database(t))
	a := &activities.Ingest{Pool: pool, Client: client, BaseURL: baseURL}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return &ingestBundle{srv: srv, pool: pool, ingest: a, env: env}
}

func (b *ingestBundle) plan(t *testing.T, endpoint, walkID string) activities.WalkState {
	t.Helper()
	v, err := b.env.ExecuteActivity(b.ingest.PlanWalk, activities.PlanWalkInput{
		WalkID: walkID, WorkflowID: "wf-" + walkID, RunID: "run-" + walkID, Endpoint: endpoint,
	})
	require.NoError(t, err)
	var st activities.WalkState
	require.NoError(t, v.Get(&st))
	return st
}

func (b *ingestBundle) fetch(st activities.WalkState, maxPages int) (activities.FetchPagesResult, error) {
	var res activities.FetchPagesResult
	v, err := b.env.ExecuteActivity(b.ingest.FetchPages, activities.FetchPagesInput{
		State: st, MaxPages: maxPages, WorkflowID: "wf-" + st.WalkID, RunID: "run-" + st.WalkID,
	})
	if err != nil {
		return res, err
	}
	return res, v.Get(&res)
}

func (b *ingestBundle) requireTableEqualsSource(t *testing.T, endpoint string) {
	t.Helper()
	src, err := b.srv.Items(endpoint)
	require.NoError(t, err)
	raws := make([]string, len(src))
	for i, it := range src {
		raws[i] = string(it.Raw)
	}
	var total, matching int
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT count(*), count(*) FILTER (WHERE data = ANY($1::jsonb[])) FROM congress.`+store.TableName(endpoint), raws).Scan(&total, &matching))
	require.Equal(t, len(src), total, "%s rows", endpoint)
	require.Equal(t, len(src), matching, "%s rows equal to the source", endpoint)
}

// TestFetchPagesWalksAnEndpointIntoItsTable walks bill three pages per
// activity until done: the table equals the source, the run is recorded
// complete and the walk's scratch keys are gone.
func TestFetchPagesWalksAnEndpointIntoItsTable(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"bill": 1200, "hearing": 700}}, "", testKey)
	for _, endpoint := range []string{"bill", "hearing"} {
		st := b.plan(t, endpoint, "walk-"+endpoint)
		calls := 0
		for {
			res, err := b.fetch(st, 3)
			require.NoError(t, err)
			calls++
			st = res.State
			if res.Done {
				break
			}
			require.Equal(t, 3, res.Pages)
		}
		b.requireTableEqualsSource(t, endpoint)
		require.Equal(t, (st.Stats.Pages+2)/3, calls, "%s: three pages per call", endpoint)

		run, err := store.GetIngestRun(context.Background(), b.pool, "walk-"+endpoint)
		require.NoError(t, err)
		require.Equal(t, store.RunCompleted, run.Status)
		require.EqualValues(t, st.Stats.Inserted, run.Inserted)
		require.Equal(t, st.Stats.Requests, run.Requests)
		require.Positive(t, run.MinRequests)
		require.Zero(t, run.Gap)
		var seen int
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM ops.ingest_seen WHERE walk_id = $1`, "walk-"+endpoint).Scan(&seen))
		require.Zero(t, seen, "scratch keys are dropped when the walk is done")
	}
}

// TestFetchPagesResumesFromTheCommittedCursor retries an activity with the
// input it had before its pages were committed (the heartbeat was lost
// with the worker): it continues from the cursor in the database and
// fetches no committed page again.
func TestFetchPagesResumesFromTheCommittedCursor(t *testing.T) {
	t.Parallel()
	b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 1, Items: map[string]int{"amendment": 2000}}, "", testKey)
	st := b.plan(t, "amendment", "walk-resume")
	first, err := b.fetch(st, 4)
	require.NoError(t, err)
	require.Equal(t, 4, first.Pages)
	before := b.srv.Requests()

	// An older heartbeat than the database's cursor loses too.
	stale := first.State
	stale.Walk = st.Walk.Clone()
	b.env.SetHeartbeatDetails(stale)

	res, err := b.fetch(st, 100)
	require.NoError(t, err)
	require.True(t, res.Done)
	require.Equal(t, first.State.Stats.Pages+res.Pages, res.State.Stats.Pages)
	require.EqualValues(t, res.Pages, b.srv.Requests()-before, "only pages not committed are fetched")
	b.requireTableEqualsSource(t, "amendment")
}

// TestFetchPagesErrorMapping checks what Temporal is told for each kind of
// API failure.
func TestFetchPagesErrorMapping(t *testing.T) {
	t.Parallel()
	t.Run("rejected key", func(t *testing.T) {
		t.Parallel()
		b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 10, APIKeys: []string{"THE-RIGHT-KEY"}}, "", testKey)
		_, err := b.fetch(b.plan(t, "bill", "walk-key"), 5)
		ae := appError(t, err)
		require.Equal(t, congress.CodeAPIKeyInvalid, ae.Type())
		require.True(t, ae.NonRetryable())
		require.NotContains(t, ae.Error(), testKey)
		run, rerr := store.GetIngestRun(context.Background(), b.pool, "walk-key")
		require.NoError(t, rerr)
		require.Equal(t, store.RunFailed, run.Status)
		require.Contains(t, run.Error, "API_KEY_INVALID")
	})
	t.Run("rate limited", func(t *testing.T) {
		t.Parallel()
		b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 1000, RateLimit: 1, RateWindow: time.Hour}, "", testKey)
		_, err := b.fetch(b.plan(t, "bill", "walk-429"), 5)
		ae := appError(t, err)
		require.Equal(t, activities.ErrTypeAPIRateLimited, ae.Type())
		require.False(t, ae.NonRetryable())
		require.Greater(t, ae.NextRetryDelay(), 50*time.Minute, "retried when the server says, not at once")
	})
	t.Run("server errors are retried", func(t *testing.T) {
		t.Parallel()
		b := ingestSetup(t, congresstest.Options{ItemsPerEndpoint: 1000, ServerErrorRate: 1}, "", testKey)
		_, err := b.fetch(b.plan(t, "bill", "walk-5xx"), 5)
		ae := appError(t, err)
		require.Equal(t, "APIServerError", ae.Type())
		require.False(t, ae.NonRetryable())
		require.Equal(t, time.Second, ae.NextRetryDelay(), "the first failure in a row is retried after a second")
		require.ErrorContains(t, err, "server error (HTTP 5")
	})
	t.Run("unreachable API", func(t *testing.T) {
		t.Parallel()
		closed := closedAddress(t)
		b := ingestSetup(t, congresstest.Options{}, "http://"+closed+"/v3", testKey)
		st := b.plan(t, "bill", "walk-down")
		_, err := b.fetch(st, 5)
		ae := appError(t, err)
		require.Equal(t, activities.ErrTypeAPIUnreachable, ae.Type())
		require.False(t, ae.NonRetryable(), "retried within the budget")

		st.Failure.Since = time.Now().Add(-11 * time.Minute)
		b.env.SetHeartbeatDetails(st)
		_, err = b.fetch(st, 5)
		ae = appError(t, err)
		require.Equal(t, activities.ErrTypeAPIUnreachable, ae.Type())
		require.True(t, ae.NonRetryable(), "past the budget")
		require.Contains(t, ae.Error(), "CONGRESS_API_BASE_URL")
		require.Contains(t, ae.Error(), closed)
	})
	t.Run("page that stays malformed", func(t *testing.T) {
		t.Parallel()
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"bills": [{"congress": 118, "type": "HR", "number": "1"}, {"congress":`))
		}))
		t.Cleanup(bad.Close)
		b := ingestSetup(t, congresstest.Options{}, bad.URL+"/v3", testKey)
		st := b.plan(t, "bill", "walk-decode")
		for attempt := 1; attempt <= 3; attempt++ {
			_, err := b.fetch(st, 5)
			ae := appError(t, err)
			require.Equal(t, activities.ErrTypeAPIDecode, ae.Type())
			require.Equal(t, attempt == 3, ae.NonRetryable(), "attempt %d", attempt)
			require.Contains(t, ae.Error(), "congress bill /bill offset 0")
			st.Failure.Decode, st.Failure.Seq = attempt, 0
			b.env.SetHeartbeatDetails(st)
		}
	})
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "not an application error: %v", err)
	return ae
}

// closedAddress returns a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
