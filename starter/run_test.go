package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/opendiscourse/congressflow/internal/devserver"
)

var startedID = regexp.MustCompile(`(?m)^  workflow id: (\S+)\n  run id:      (\S+)\n  web ui:      (\S+)$`)

// TestRunStartsNeverShareARun: starts in the same second get runs of
// their own, and an ID that is already running fails the start loudly
// instead of attaching to that run. No worker polls the queue, so every
// started run stays open.
func TestRunStartsNeverShareARun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := devserver.Start(t)
	var out, errs bytes.Buffer
	a := &app{stdout: &out, stderr: &errs, logger: slog.New(slog.NewTextHandler(&errs, nil)),
		taskQueue: "congressflow-run-test", webUI: "http://ui", client: srv.Client()}

	start := func(args ...string) (id, runID string) {
		t.Helper()
		out.Reset()
		require.NoError(t, runPipeline(ctx, a, args))
		m := startedID.FindAllStringSubmatch(out.String(), -1)
		require.Len(t, m, 1, "workflow ID, run ID and link are printed once:\n%s", out.String())
		require.Equal(t, "http://ui/namespaces/default/workflows/"+m[0][1]+"/"+m[0][2]+"/history", m[0][3])
		return m[0][1], m[0][2]
	}
	idA, runA := start("--stages", "analyze")
	idB, runB := start("--stages", "extensions")
	require.NotEqual(t, idA, idB)
	require.NotEqual(t, runA, runB)
	require.Regexp(t, `^congressflow-pipeline-\d{8}T\d{6}\.\d{3}Z-[0-9a-z]{8}$`, idA)
	for _, r := range [][2]string{{idA, runA}, {idB, runB}} {
		desc, err := a.client.DescribeWorkflow(ctx, r[0], r[1])
		require.NoError(t, err)
		require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.RawResponse.WorkflowExecutionInfo.Status)
	}

	out.Reset()
	err := runPipeline(ctx, a, []string{"--id", idA, "--stages", "tune"})
	require.ErrorContains(t, err, "start workflow "+idA+": a workflow with this ID is already running (run "+runA+"), so nothing was started")
	require.NotContains(t, out.String(), "workflow id:", "nothing started, nothing printed")

	// The --json form keeps stdout for the result: the start goes to stderr.
	out.Reset()
	errs.Reset()
	require.NoError(t, runPipeline(ctx, a, []string{"--json", "--stages", "analyze"}))
	require.Empty(t, out.String())
	require.Len(t, startedID.FindAllString(errs.String(), -1), 1)
	require.False(t, strings.Contains(errs.String(), "workflow started"), "no second report in the log")
}
