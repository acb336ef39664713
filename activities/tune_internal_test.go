package activities

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLocalHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host  string
		local bool
	}{
		{"/var/run/postgresql", true},
		{"localhost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"db.example.com", false},
		{"10.0.0.5", false},
		{"", false},
	}
	for _, tt := range tests {
		local, why := localHost(tt.host)
		require.Equal(t, tt.local, local, tt.host)
		if !local {
			require.Contains(t, why, "is not on this host")
		}
	}
}
