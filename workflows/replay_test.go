package workflows_test

import (
	"cmp"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

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

// typeRecorder records the names of the workflows registered on it.
type typeRecorder struct{ names []string }

func (r *typeRecorder) RegisterWorkflow(w any) {
	name := runtime.FuncForPC(reflect.ValueOf(w).Pointer()).Name()
	r.names = append(r.names, name[strings.LastIndex(name, ".")+1:])
}

// TestEveryWorkflowTypeHasARecordedHistory: a workflow type without a
// recorded history would have no replay guard.
func TestEveryWorkflowTypeHasARecordedHistory(t *testing.T) {
	t.Parallel()
	var reg typeRecorder
	workflows.Register(&reg)
	recorded := map[string]bool{}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	for _, f := range files {
		r, err := os.Open(f)
		require.NoError(t, err)
		history, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
		r.Close()
		require.NoError(t, err)
		recorded[history.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()] = true
	}
	for _, name := range reg.names {
		require.True(t, recorded[name], "no history of %s in workflows/testdata: record one with `go test ./internal/workerapp -update-history -run <its test>`", name)
	}
}

// TestReplayCatchesANonDeterministicChange shows that the guard works: a
// changed IngestEndpointWorkflow that sleeps before planning (a timer
// where the recorded run scheduled an activity) fails to replay a recorded
// walk with a non-determinism error.
func TestReplayCatchesANonDeterministicChange(t *testing.T) {
	t.Parallel()
	changed := func(ctx workflow.Context, in workflows.IngestEndpointInput) (workflows.EndpointProgress, error) {
		if err := workflow.Sleep(ctx, time.Second); err != nil {
			return workflows.EndpointProgress{}, err
		}
		return workflows.IngestEndpointWorkflow(ctx, in)
	}
	f := filepath.Join("testdata", "ingest-default-bill~first-run.json")
	r, err := os.Open(f)
	require.NoError(t, err)
	defer r.Close()
	history, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
	require.NoError(t, err)
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: "IngestEndpointWorkflow"})
	err = replayer.ReplayWorkflowHistory(nil, history)
	require.Error(t, err)
	require.Contains(t, err.Error(), "[TMPRL1100]", "the SDK's non-determinism error")
	t.Logf("replay of a changed workflow: %v", err)
}
