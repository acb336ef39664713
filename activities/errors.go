package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/logging"
	"github.com/opendiscourse/congressflow/internal/store"
)

// Error types of non-retryable application errors, for
// RetryPolicy.NonRetryableErrorTypes and for callers that branch on them.
const (
	ErrTypeInvalidInput = "InvalidInput"
	ErrTypePermission   = "PermissionDenied"
)

// classifyDB turns a store error into what Temporal should do with it: a
// server that is away is retried (ErrTypePostgresUnavailable); a missing
// privilege or a rejected value will fail the same way again, so it is
// not. The result is an application error whose message is the error on
// one line and which has no cause: Temporal prints a cause after the
// message, so a wrapped error would read twice.
func classifyDB(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The attempt ended (cancelled, timed out): Temporal reports that.
		return err
	case store.Retryable(err):
		return temporal.NewApplicationError(logging.OneLine(err), ErrTypePostgresUnavailable)
	case errors.Is(err, store.ErrPermission):
		return temporal.NewNonRetryableApplicationError(logging.OneLine(err), ErrTypePermission, nil)
	case errors.Is(err, store.ErrInvalidValue):
		return temporal.NewNonRetryableApplicationError(logging.OneLine(err), ErrTypeInvalidInput, nil)
	default:
		return temporal.NewApplicationError(logging.OneLine(err), "")
	}
}
