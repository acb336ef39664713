package activities

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
)

func TestRequestResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "page", want: RequestOK},
		{name: "429", err: &congress.APIError{Kind: congress.ErrRateLimited, Status: 429}, want: RequestRateLimited},
		{name: "shared budget", err: &congress.APIError{Kind: congress.ErrRateLimited, Code: congress.CodeLocalBudget}, want: RequestBudget},
		{name: "server error", err: &congress.APIError{Kind: congress.ErrServer, Status: 502}, want: RequestError},
		{name: "cancelled", err: &congress.APIError{Err: context.Canceled}, want: RequestError},
		{name: "other", err: errors.New("boom"), want: RequestError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, requestResult(tt.err))
		})
	}
}
