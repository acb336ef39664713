package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/store"
)

// Error types of non-retryable application errors, for
// RetryPolicy.NonRetryableErrorTypes and for callers that branch on them.
const (
	ErrTypeInvalidInput = "InvalidInput"
	ErrTypePermission   = "PermissionDenied"
)

// classifyDB turns a store error into what Temporal should do with it: a
// server that is away is retried; a missing privilege or a rejected value
// will fail the same way again, so it is not.
func classifyDB(err error) error {
	switch {
	case err == nil:
		return nil
	case store.Retryable(err):
		return err
	case errors.Is(err, store.ErrPermission):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePermission, err)
	case errors.Is(err, store.ErrInvalidValue):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	default:
		return err
	}
}
