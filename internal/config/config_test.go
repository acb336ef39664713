package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/config"
)

func TestSplitList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{in: "", want: nil},
		{in: "analyze", want: []string{"analyze"}},
		{in: " a, b,,c ,", want: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, config.SplitList(tt.in), "%q", tt.in)
	}
}
