package workflows_test

import (
	"cmp"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/workflows"
)

// TestReplayRecordedHistories replays every history recorded from a real run
// (workflows/testdata/<workflow-id>.json, written by the integration tests
// in internal/workerapp with -update-history). It fails when a change to a
// workflow would break executions that are already running.
//
// The workflow ID matters because the pipeline derives its child workflow
// IDs from its own, and TuneApplyWorkflow checks that it runs under the
// server's lock ID: it is the one the history's first event records, or
// else the file name, up to a "~<what>" that keeps several runs of one
// workflow apart (a run that continued as new and the one it continued
// into).
func TestReplayRecordedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r, err := os.Open(f)
			require.NoError(t, err)
			defer r.Close()
			history, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, history.Events)
			started := history.Events[0].GetWorkflowExecutionStartedEventAttributes()
			runID := started.GetOriginalExecutionRunId()
			id := cmp.Or(started.GetWorkflowId(), workflowID(f))

			replayer := worker.NewWorkflowReplayer()
			workflows.Register(replayer)
			require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, history, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: id, RunID: runID},
			}))
		})
	}
}

// workflowID is the workflow ID a fixture's file name carries.
func workflowID(file string) string {
	id, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(file), ".json"), "~")
	return id
}
