package workerapp_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestProgressOfAFinishedPipeline: the progress query on a finished
// pipeline, answered by the real worker through a dev server, says which
// stages ran and "pending": [].
func TestProgressOfAFinishedPipeline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run, err := b.client.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "progress-finished", TaskQueue: b.queue},
		workflows.PipelineWorkflow, workflows.PipelineInput{Stages: []string{workflows.StageAnalyze}})
	require.NoError(t, err)
	require.NoError(t, run.Get(b.ctx, nil))
	v, err := b.client.QueryWorkflow(b.ctx, run.GetID(), run.GetRunID(), config.QueryProgress)
	require.NoError(t, err)
	var raw json.RawMessage
	require.NoError(t, v.Get(&raw))
	require.JSONEq(t, `{"done":["analyze"],"pending":[]}`, string(raw))
}
