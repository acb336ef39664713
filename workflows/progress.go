package workflows

// Steps of [RevertTuningWorkflow], as its progress query reports them.
const (
	RevertStepRevert  = "revert"
	RevertStepRestart = "restart"
	RevertStepDone    = "done"
)

// RevertProgress answers the progress query of [RevertTuningWorkflow].
type RevertProgress struct {
	// RunID is the tune run being reverted.
	RunID string `json:"run_id"`
	// Step is revert (restoring the old values), restart (under the
	// command policy, when a restored setting waits for a restart) or
	// done. A failed run stays at the step that failed.
	Step string `json:"step"`
	// Lock is the workflow ID that holds the server while the revert
	// changes it (see ServerLockID); empty before it is taken.
	Lock string `json:"lock,omitempty"`
}
