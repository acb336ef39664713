package workerapp_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/activities"
)

// TestMisspeltInputsFailTheWorkflowAtOnce starts the workflows through a
// real dev server and worker with the raw JSON `temporal workflow start
// --input` sends. A misspelt field or a non-object input fails the
// workflow on its first task with one line naming the field, and nothing
// runs: no workflow task retried forever, no stage run with defaults.
func TestMisspeltInputsFailTheWorkflowAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		id, workflow, input, wantErr string
	}{
		{id: "misspelt-stages", workflow: "PipelineWorkflow", input: `{"stagez":["analyze"]}`,
			wantErr: `unknown field "stagez"; did you mean "stages"?`},
		{id: "misspelt-check-only", workflow: "PipelineWorkflow", input: `{"stages":["extensions"],"extensions":{"checkonly":true}}`,
			wantErr: `unknown field "checkonly" in extensions; did you mean "check_only"?`},
		{id: "misspelt-apply", workflow: "TuneWorkflow", input: `{"aply":true}`,
			wantErr: `unknown field "aply"; did you mean "apply"?`},
		{id: "misspelt-run-id", workflow: "RevertTuningWorkflow", input: `{"runid":"x"}`,
			wantErr: `unknown field "runid"; did you mean "run_id"?`},
		{id: "not-an-object", workflow: "PipelineWorkflow", input: `"x"`,
			wantErr: `input is a string, not a JSON object: give an object such as {} (null also means {})`},
		{id: "a-list", workflow: "TuneWorkflow", input: `[1]`,
			wantErr: `input is a list, not a JSON object: give an object such as {} (null also means {})`},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: tt.id, TaskQueue: b.queue},
				tt.workflow, json.RawMessage(tt.input))
			require.NoError(t, err)
			err = run.Get(b.ctx, nil)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tt.wantErr, appErr.Message())

			desc, err := b.client.DescribeWorkflow(b.ctx, run.GetID(), run.GetRunID())
			require.NoError(t, err)
			require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_FAILED, desc.RawResponse.WorkflowExecutionInfo.Status)
			require.Empty(t, desc.RawResponse.PendingActivities)

			// The first workflow task failed the run: no activity was
			// scheduled and no task failed and retried.
			iter := b.client.GetWorkflowHistory(b.ctx, run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			var events []string
			for iter.HasNext() {
				ev, err := iter.Next()
				require.NoError(t, err)
				events = append(events, ev.GetEventType().String())
			}
			require.Equal(t, []string{"WorkflowExecutionStarted", "WorkflowTaskScheduled", "WorkflowTaskStarted",
				"WorkflowTaskCompleted", "WorkflowExecutionFailed"}, events)
		})
	}
}
