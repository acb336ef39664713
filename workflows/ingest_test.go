package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/ingest"
	"github.com/opendiscourse/congressflow/workflows"
)

func TestIngestInputValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{name: "zero value", input: `{}`},
		{name: "all endpoints", input: `{"endpoints":["all"]}`},
		{name: "one congress as a number", input: `{"congress":118,"endpoints":["bill","law"]}`},
		{name: "congresses as a list", input: `{"congress":[117,118],"page_size":100,"max_parallel":2,"mode":"incremental"}`},
		{name: "page size above the API's", input: `{"page_size":500}`, wantErr: "page_size: 500 is out of range; the API serves 1..250"},
		{name: "misspelt endpoint", input: `{"endpoints":["bills"]}`, wantErr: `endpoints: unknown endpoint "bills"; did you mean "bill"?`},
		{name: "unknown endpoint", input: `{"endpoints":["votes-of-the-people"]}`, wantErr: `endpoints: unknown endpoint "votes-of-the-people" (known: bill,`},
		{name: "bad congress", input: `{"congress":"118th"}`, wantErr: "congress: give a congress number such as 118"},
		{name: "misspelt field", input: `{"page_sise":100}`, wantErr: `unknown field "page_sise"; did you mean "page_size"?`},
		{name: "not an object", input: `[1]`, wantErr: "input is a list, not a JSON object"},
		{name: "zero congress", input: `{"congress":[0]}`, wantErr: "congress: 0 is not a congress number"},
		{name: "bad mode", input: `{"mode":"weekly"}`, wantErr: `mode: "weekly" is not a mode; use "full" or "incremental"`},
		{name: "too parallel", input: `{"max_parallel":100}`, wantErr: "max_parallel: 100 is out of range 1..32"},
		{name: "negative pages", input: `{"pages_per_activity":-1}`, wantErr: "pages_per_activity: -1 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var in workflows.IngestInput
			require.NoError(t, json.Unmarshal([]byte(tt.input), &in), "decoding never fails")
			err := in.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func newIngestEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Ingest{})
	env.RegisterWorkflow(workflows.IngestEndpointWorkflow)
	return env
}

// walkState is a real plan for bill with its first list's count known.
func walkState(t *testing.T) activities.WalkState {
	t.Helper()
	ep, _ := congress.EndpointByName("bill")
	w, err := ingest.New(ep, ingest.Options{To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	w.Lists[0].Count = 1000
	return activities.WalkState{WalkID: "walk-1", Mode: "full", Walk: w}
}

// TestIngestEndpointWorkflowFetchesUntilDone plans a walk and runs
// FetchPages, carrying the cursor from one activity to the next, until the
// walk is done.
func TestIngestEndpointWorkflowFetchesUntilDone(t *testing.T) {
	t.Parallel()
	env := newIngestEnv(t)
	var a *activities.Ingest
	planned := walkState(t)
	env.OnActivity(a.PlanWalk, mock.Anything, mock.MatchedBy(func(in activities.PlanWalkInput) bool {
		return in.Endpoint == "bill" && in.PageSize == 100 && in.WalkID != ""
	})).Return(planned, nil).Once()
	calls := 0
	env.OnActivity(a.FetchPages, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchPagesInput) (activities.FetchPagesResult, error) {
			calls++
			require.Equal(t, 5, in.MaxPages)
			require.Equal(t, (calls-1)*5, in.State.Stats.Pages, "each call continues from the last")
			st := in.State
			st.Stats.Pages += 5
			st.Stats.Requests += 5
			st.Stats.Inserted += 500
			st.Walk.Lists[0].Distinct += 500
			return activities.FetchPagesResult{State: st, Pages: 5, Done: calls == 2}, nil
		}).Times(2)

	env.ExecuteWorkflow(workflows.IngestEndpointWorkflow, workflows.IngestEndpointInput{Endpoint: "bill", PageSize: 100, PagesPerActivity: 5})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got workflows.EndpointProgress
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, workflows.StatusDone, got.Status)
	require.EqualValues(t, 1000, got.Inserted)
	require.Equal(t, 10, got.Requests)
	require.Equal(t, 1000, got.Confirmed)
	require.Equal(t, 4, got.MinRequests)
	require.Contains(t, got.Summary, "bill: 1,000 items (1000 inserted")

	v, err := env.QueryWorkflow(config.QueryProgress)
	require.NoError(t, err)
	var p workflows.EndpointProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, got.Summary, p.Summary)
	env.AssertExpectations(t)
}

// TestIngestEndpointWorkflowContinuesAsNew carries the cursor into the
// next run when the server suggests continuing as new.
func TestIngestEndpointWorkflowContinuesAsNew(t *testing.T) {
	t.Parallel()
	env := newIngestEnv(t)
	var a *activities.Ingest
	env.OnActivity(a.PlanWalk, mock.Anything, mock.Anything).Return(walkState(t), nil).Once()
	env.OnActivity(a.FetchPages, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchPagesInput) (activities.FetchPagesResult, error) {
			st := in.State
			st.Stats.Pages += 20
			return activities.FetchPagesResult{State: st, Pages: 20}, nil
		}).Once()
	env.SetContinueAsNewSuggested(true)

	env.ExecuteWorkflow(workflows.IngestEndpointWorkflow, workflows.IngestEndpointInput{Endpoint: "bill"})
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "got %v", env.GetWorkflowError())
	var next workflows.IngestEndpointInput
	require.NoError(t, converterFromPayloads(can, &next))
	require.NotNil(t, next.State)
	require.Equal(t, 20, next.State.Stats.Pages, "the cursor travels")
	require.Equal(t, "walk-1", next.State.WalkID)
	require.False(t, next.StartedAt.IsZero())
}

func converterFromPayloads(can *workflow.ContinueAsNewError, v any) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, v)
}

// TestIngestWorkflowFansOutWithinMaxParallel runs the default endpoints
// with max_parallel 3, each walk taking a minute: they start in waves of
// three, and the result sums them with the rows per table.
func TestIngestWorkflowFansOutWithinMaxParallel(t *testing.T) {
	t.Parallel()
	env := newIngestEnv(t)
	var (
		mu     sync.Mutex
		starts = map[string]time.Time{}
		a      *activities.Ingest
	)
	env.OnWorkflow(workflows.IngestEndpointWorkflow, mock.Anything, mock.Anything).After(time.Minute).Return(
		func(ctx workflow.Context, in workflows.IngestEndpointInput) (workflows.EndpointProgress, error) {
			mu.Lock()
			starts[in.Endpoint] = workflow.Now(ctx)
			mu.Unlock()
			require.Equal(t, []int{118}, in.Congresses)
			return workflows.EndpointProgress{Endpoint: in.Endpoint, Status: workflows.StatusDone, Summary: in.Endpoint + ": done",
				IngestStats: activities.IngestStats{Inserted: 10, Requests: 2}, MinRequests: 1, Confirmed: 10}, nil
		})
	env.OnActivity(a.CountRows, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CountRowsInput) (map[string]int64, error) {
			out := map[string]int64{}
			for _, e := range in.Endpoints {
				out[e] = 10
			}
			return out, nil
		}).Once()

	env.ExecuteWorkflow(workflows.IngestWorkflow, workflows.IngestInput{MaxParallel: 3, Congress: workflows.Congresses{118}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got workflows.IngestResult
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Len(t, got.Endpoints, len(workflows.DefaultEndpoints))
	require.EqualValues(t, 10*len(workflows.DefaultEndpoints), got.Inserted)
	require.Equal(t, 2*len(workflows.DefaultEndpoints), got.Requests)
	require.Len(t, got.Rows, len(workflows.DefaultEndpoints))
	require.Equal(t, "congress.house_vote", got.Rows[10].Table)
	require.Contains(t, got.Summary, "ingested 12 endpoints")

	waves := map[time.Time]int{}
	for _, s := range starts {
		waves[s]++
	}
	require.Len(t, starts, len(workflows.DefaultEndpoints))
	for at, n := range waves {
		require.LessOrEqual(t, n, 3, "more than max_parallel started at %s", at)
	}
	require.Len(t, waves, 4, "12 walks of a minute, 3 at a time")
}

// TestIngestWorkflowStopsWhenTheKeyIsRejected fails the whole run, naming
// the API's code, as soon as one walk reports the key rejected.
func TestIngestWorkflowStopsWhenTheKeyIsRejected(t *testing.T) {
	t.Parallel()
	env := newIngestEnv(t)
	started := 0
	env.OnWorkflow(workflows.IngestEndpointWorkflow, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in workflows.IngestEndpointInput) (workflows.EndpointProgress, error) {
			started++
			if in.Endpoint == "bill" {
				return workflows.EndpointProgress{}, temporal.NewNonRetryableApplicationError(
					"congress bill /bill offset 0: api key rejected (HTTP 403 API_KEY_INVALID)", congress.CodeAPIKeyInvalid, nil)
			}
			return workflows.EndpointProgress{}, workflow.Sleep(ctx, time.Hour)
		})

	env.ExecuteWorkflow(workflows.IngestWorkflow, workflows.IngestInput{})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "got %v", err)
	require.Equal(t, congress.CodeAPIKeyInvalid, ae.Type())
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Error(), "API_KEY_INVALID")
	require.LessOrEqual(t, started, workflows.DefaultMaxParallel, "no walk starts after the key was rejected")
}

// TestIngestWorkflowRejectsBadInputAtOnce fails before anything runs.
func TestIngestWorkflowRejectsBadInputAtOnce(t *testing.T) {
	t.Parallel()
	env := newIngestEnv(t)
	env.ExecuteWorkflow(workflows.IngestWorkflow, workflows.IngestInput{PageSize: 500})
	require.True(t, env.IsWorkflowCompleted())
	var ae *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &ae))
	require.Equal(t, activities.ErrTypeInvalidInput, ae.Type())
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Error(), "page_size: 500")
}
