package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// OutageBudget is how long every stage keeps retrying an activity through
// an outage of PostgreSQL (a restart, a failover) or another dependency
// that answers again later. An activity is retried 1 s apart at first and
// at most 30 s apart: as many attempts as fit in OutageBudget when each
// fails at once (a refused connection), and at most OutageBudget beyond
// its own time limit when attempts hang (its ScheduleToClose timeout is
// its StartToClose plus OutageBudget). Errors that would fail the same way
// again (bad input, a missing privilege) are not retried.
const OutageBudget = 5 * time.Minute

// Backoff between attempts.
const (
	firstRetryInterval = time.Second
	maxRetryInterval   = 30 * time.Second
)

// outageAttempts is how many attempts fit in [OutageBudget] when each
// fails at once: the first, and one after each backoff until the
// backoffs add up to the budget (15: 1+2+4+8+16 s, then 30 s apart).
func outageAttempts() int32 {
	attempts, waited, next := int32(1), time.Duration(0), firstRetryInterval
	for waited < OutageBudget {
		waited += next
		next = min(2*next, maxRetryInterval)
		attempts++
	}
	return attempts
}

// outageRetry is the retry policy that goes with [OutageBudget].
func outageRetry(nonRetryable []string) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        firstRetryInterval,
		BackoffCoefficient:     2,
		MaximumInterval:        maxRetryInterval,
		MaximumAttempts:        outageAttempts(),
		NonRetryableErrorTypes: nonRetryable,
	}
}

// budgeted is the options of an activity whose attempt takes at most
// startToClose and which is retried through an outage of [OutageBudget].
func budgeted(startToClose time.Duration, nonRetryable []string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    startToClose,
		ScheduleToCloseTimeout: startToClose + OutageBudget,
		RetryPolicy:            outageRetry(nonRetryable),
	}
}

// stepError is a workflow's error for a step (an activity or child
// workflow) that failed: the step's name, with the step's error as its
// cause. Temporal prints an error's message and then its cause, so
// fmt.Errorf("step: %w", err) would print the cause twice; this prints it
// once. The innermost application error's type and retryability carry
// over, so callers still see NotFound, InvalidInput or RestartFailed.
func stepError(step string, err error) error {
	var appErr *temporal.ApplicationError
	typ, nonRetryable := "", false
	if errors.As(err, &appErr) {
		typ, nonRetryable = appErr.Type(), appErr.NonRetryable()
	}
	return temporal.NewApplicationErrorWithOptions(step, typ, temporal.ApplicationErrorOptions{Cause: err, NonRetryable: nonRetryable})
}
