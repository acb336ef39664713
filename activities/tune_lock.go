package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/logging"
	"github.com/opendiscourse/congressflow/internal/pgtune"
)

// ErrTypeServerBusy: another run is changing the same PostgreSQL server;
// nothing was changed.
const ErrTypeServerBusy = "ServerBusy"

// ServerIdentity reads the identity (system identifier and port) of the
// server the worker's pool points at: what changes to it are serialised
// on.
func (t *Tuning) ServerIdentity(ctx context.Context) (pgtune.ServerIdentity, error) {
	conn, err := pgtune.Connect(ctx, t.Pool)
	if err != nil {
		return pgtune.ServerIdentity{}, classifyTune(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	id, err := pgtune.ReadIdentity(ctx, conn)
	return id, classifyTune(err)
}

// LockHolder is the workflow that holds a server's lock: the workflow
// running under the lock's workflow ID, and the run that started it.
type LockHolder struct {
	WorkflowID   string    `json:"workflow_id"`
	RunID        string    `json:"run_id"`
	WorkflowType string    `json:"workflow_type"`
	StartTime    time.Time `json:"start_time"`
	// Running is false when it ended since the caller was refused.
	Running bool `json:"running"`
	// ParentWorkflowID and ParentRunID name the TuneWorkflow or
	// RevertTuningWorkflow run it works for; empty when it was started on
	// its own.
	ParentWorkflowID string `json:"parent_workflow_id,omitempty"`
	ParentRunID      string `json:"parent_run_id,omitempty"`
}

// DescribeServerLock says which workflow holds the lock with this
// workflow ID, for the error that refuses a second caller.
func (t *Tuning) DescribeServerLock(ctx context.Context, lockID string) (LockHolder, error) {
	d, err := activity.GetClient(ctx).DescribeWorkflow(ctx, lockID, "")
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return LockHolder{WorkflowID: lockID}, nil
		}
		return LockHolder{}, temporal.NewApplicationError(fmt.Sprintf("describe workflow %s: %s", lockID, logging.OneLine(err)), "")
	}
	info := d.RawResponse.GetWorkflowExecutionInfo()
	h := LockHolder{
		WorkflowID:   info.GetExecution().GetWorkflowId(),
		RunID:        info.GetExecution().GetRunId(),
		WorkflowType: info.GetType().GetName(),
		StartTime:    info.GetStartTime().AsTime(),
		Running:      info.GetCloseTime() == nil,
	}
	if p := info.GetParentExecution(); p != nil {
		h.ParentWorkflowID, h.ParentRunID = p.GetWorkflowId(), p.GetRunId()
	}
	return h, nil
}
