package workflows

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

func TestRootMessage(t *testing.T) {
	t.Parallel()
	inner := temporal.NewNonRetryableApplicationError("congress hearing /hearing offset 245: undecodable response", "APIDecodeError", nil)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("count rows:\n  timeout"), "count rows: timeout"},
		{"application", inner, "congress hearing /hearing offset 245: undecodable response"},
		{"wrapped twice", temporal.NewApplicationErrorWithCause("child failed", "wrapError", fmt.Errorf("hearing: %w", inner)),
			"congress hearing /hearing offset 245: undecodable response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, rootMessage(tt.err))
		})
	}
}
