package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/workflows"
)

const lockID = "congressflow-pg-7312345678901234567-5432"

func TestServerLockID(t *testing.T) {
	t.Parallel()
	require.Equal(t, lockID, workflows.ServerLockID(tunePlan.Identity))
}

// TestTuneWorkflowAppliesUnderTheServersLock: the apply, restart and
// verify run in a TuneApplyWorkflow whose workflow ID is the server's
// lock, and record the changes under the TuneWorkflow's run.
func TestTuneWorkflowAppliesUnderTheServersLock(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.MatchedBy(func(a activities.ApplyTuningInput) bool {
		return a.RunID == "default-test-run-id" && a.WorkflowID == "default-test-workflow-id"
	})).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.VerifyTuning, mock.Anything, mock.Anything).Return(pgtune.VerifyReport{Live: []string{"shared_buffers", "checkpoint_timeout"}}, nil).Once()
	var children []string
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		children = append(children, info.WorkflowType.Name+" "+info.WorkflowExecution.ID)
	})

	res, err := runTuneWorkflow(t, env, workflows.TuneInput{Apply: true})
	require.NoError(t, err)
	require.Equal(t, []string{"TuneApplyWorkflow " + lockID}, children)
	require.NotNil(t, res.Apply)
	require.Equal(t, tuneApplied, *res.Apply)
	require.NotNil(t, res.Verify)
}

// TestTuneWorkflowRunsThatBeganBeforeTheLockApplyInline: a run recorded
// before the lock (no version marker) keeps applying in TuneWorkflow
// itself, as its history says.
func TestTuneWorkflowRunsThatBeganBeforeTheLockApplyInline(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	env.OnGetVersion("server-lock", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Once()
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.VerifyTuning, mock.Anything, mock.Anything).Return(pgtune.VerifyReport{Live: []string{"shared_buffers", "checkpoint_timeout"}}, nil).Once()
	started := 0
	env.SetOnChildWorkflowStartedListener(func(*workflow.Info, workflow.Context, converter.EncodedValues) { started++ })

	res, err := runTuneWorkflow(t, env, workflows.TuneInput{Apply: true})
	require.NoError(t, err)
	require.Zero(t, started, "no child")
	require.NotNil(t, res.Verify)
}

// TestTuneApplyWorkflowRunsOnlyUnderTheLock: started by hand under another
// workflow ID, it changes nothing.
func TestTuneApplyWorkflowRunsOnlyUnderTheLock(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	env.ExecuteWorkflow(workflows.TuneApplyWorkflow, workflows.TuneApplyInput{Plan: tunePlan, TuneRunID: "run-1"})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
	require.Contains(t, appErr.Message(), "TuneApplyWorkflow changes a server only under its lock ID ("+lockID+
		" for system identifier 7312345678901234567, port 5432), not default-test-workflow-id")
	env.AssertActivityNotCalled(t, "ApplyTuning", mock.Anything, mock.Anything)
}

// twoTuneRuns runs two TuneWorkflows on one server at once, as two callers
// would, and returns their errors.
func twoTuneRuns(ctx workflow.Context, in workflows.TuneInput) ([]string, error) {
	var errs []string
	var futures []workflow.ChildWorkflowFuture
	for _, id := range []string{"tune-a", "tune-b"} {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: id})
		futures = append(futures, workflow.ExecuteChildWorkflow(cctx, workflows.TuneWorkflow, in))
		// tune-a reaches the lock first.
		if err := workflow.Sleep(ctx, time.Second); err != nil {
			return nil, err
		}
	}
	for _, f := range futures {
		msg := ""
		if err := f.Get(ctx, nil); err != nil {
			msg = err.Error()
		}
		errs = append(errs, msg)
	}
	return errs, nil
}

// TestTuneWorkflowRefusedWhileAnotherRunHoldsTheServer: a second run on a
// server whose lock is held fails at once, changes nothing, and names the
// run that holds it.
func TestTuneWorkflowRefusedWhileAnotherRunHoldsTheServer(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	env.RegisterWorkflow(workflows.TuneWorkflow)
	env.RegisterWorkflow(twoTuneRuns)
	env.OnActivity(tuning.PlanTuning, mock.Anything, mock.Anything).Return(tunePlan, nil).Twice()
	// tune-a's apply takes a while: the lock is held meanwhile.
	env.OnActivity(tuning.ApplyTuning, mock.Anything, mock.Anything).After(time.Hour).Return(tuneApplied, nil).Once()
	env.OnActivity(tuning.VerifyTuning, mock.Anything, mock.Anything).Return(pgtune.VerifyReport{Live: []string{"shared_buffers", "checkpoint_timeout"}}, nil).Once()
	held := time.Date(2026, 11, 27, 12, 0, 1, 0, time.UTC)
	env.OnActivity(tuning.DescribeServerLock, mock.Anything, lockID).Return(activities.LockHolder{
		WorkflowID: lockID, RunID: "lock-run-a", WorkflowType: "TuneApplyWorkflow", StartTime: held, Running: true,
		ParentWorkflowID: "tune-a", ParentRunID: "run-a",
	}, nil).Once()

	env.ExecuteWorkflow(twoTuneRuns, workflows.TuneInput{Apply: true})
	require.NoError(t, env.GetWorkflowError())
	var errs []string
	require.NoError(t, env.GetWorkflowResult(&errs))
	require.Empty(t, errs[0], "tune-a applied")
	require.Contains(t, errs[1], "nothing changed: PostgreSQL postgres@db:5432/postgres (system identifier 7312345678901234567, port 5432) "+
		"is being changed by workflow tune-a (run run-a), through TuneApplyWorkflow "+lockID+" (run lock-run-a, started 2026-11-27T12:00:01Z)")
	require.Contains(t, errs[1], "ServerBusy")
	env.AssertExpectations(t)
	env.AssertActivityNumberOfCalls(t, "ApplyTuning", 1)
}
