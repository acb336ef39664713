package main

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/opendiscourse/congressflow/internal/devserver"
)

// TestScheduleLifecycle: create twice leaves one schedule; trigger starts
// an incremental IngestWorkflow that `temporal schedule list` and
// `temporal workflow list` show; update, pause, unpause, describe and
// delete do what they say. No worker polls, so the triggered run waits.
func TestScheduleLifecycle(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := devserver.Start(t)
	var out, errs bytes.Buffer
	a := &app{stdout: &out, stderr: &errs, logger: slog.New(slog.NewTextHandler(&errs, nil)),
		taskQueue: "congressflow-schedule-test", webUI: "http://ui", client: srv.Client()}
	run := func(args ...string) string {
		t.Helper()
		out.Reset()
		require.NoError(t, runSchedule(ctx, a, args), "%v: %s", args, errs.String())
		return out.String()
	}

	require.Contains(t, run("create"), "created schedule congressflow-incremental: incremental ingest every 1h0m0s")
	require.Contains(t, run("create"), "exists: updated")
	cli, err := devserver.CLIPath()
	require.NoError(t, err)
	list, err := exec.Command(cli, "schedule", "list", "--address", srv.FrontendHostPort()).CombinedOutput()
	require.NoError(t, err, "%s", list)
	require.Equal(t, 1, bytes.Count(list, []byte("congressflow-incremental")), "create twice leaves one schedule:\n%s", list)

	h := a.client.ScheduleClient().GetHandle(ctx, DefaultScheduleID)
	d, err := h.Describe(ctx)
	require.NoError(t, err)
	act := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.Equal(t, "IngestWorkflow", act.Workflow)
	require.Equal(t, "congressflow-schedule-test", act.TaskQueue)
	require.Equal(t, time.Hour, d.Schedule.Spec.Intervals[0].Every)
	require.Equal(t, time.Hour, d.Schedule.Policy.CatchupWindow)

	require.Contains(t, run("trigger"), "triggered schedule congressflow-incremental")
	var started []string
	require.Eventually(t, func() bool {
		resp, err := a.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
			Query: "WorkflowType = 'IngestWorkflow'"})
		if err != nil || len(resp.Executions) == 0 {
			return false
		}
		started = []string{resp.Executions[0].Execution.WorkflowId}
		return true
	}, time.Minute, 200*time.Millisecond, "the triggered run is listed")
	wfList, err := exec.Command(cli, "workflow", "list", "--address", srv.FrontendHostPort()).CombinedOutput()
	require.NoError(t, err, "%s", wfList)
	require.Contains(t, string(wfList), started[0])
	hist := a.client.GetWorkflowHistory(ctx, started[0], "", false, 0)
	ev, err := hist.Next()
	require.NoError(t, err)
	payloads := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	require.Len(t, payloads, 1)
	require.Contains(t, string(payloads[0].GetData()), `"mode":"incremental"`)

	require.Contains(t, run("update", "--every", "2h", "--input", `{"mode":"full","endpoints":["bill"]}`), "full ingest every 2h0m0s")
	require.Contains(t, run("pause", "--note", "maintenance"), "paused")
	// The server applies schedule changes as it gets to them: on a busy
	// machine that can take a while.
	var desc string
	if !assert.Eventually(t, func() bool {
		desc = run("describe")
		return bytes.Contains([]byte(desc), []byte("every:        2h0m0s")) && bytes.Contains([]byte(desc), []byte("paused:       true maintenance"))
	}, 2*time.Minute, 200*time.Millisecond) {
		t.Fatalf("the schedule does not show the update and the pause; last describe:\n%s", desc)
	}
	require.Contains(t, run("unpause"), "unpaused")
	require.Contains(t, run("list"), "congressflow-incremental")

	out.Reset()
	err = runSchedule(ctx, a, []string{"create", "--input", `{"mode":"weekly"}`})
	require.ErrorContains(t, err, `mode: "weekly" is not a mode`)
	require.Contains(t, run("delete"), "deleted schedule congressflow-incremental")
	err = runSchedule(ctx, a, []string{"describe"})
	require.ErrorContains(t, err, "does not exist: create it with `starter schedule create --id congressflow-incremental`")
}
