package pgtune_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgtune"
)

// TestRunCommandIsAShellCommandLine: the restart command is read the way a
// shell reads it, so quoted arguments stay whole.
func TestRunCommandIsAShellCommandLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		line    string
		want    string
		wantErr string
	}{
		{name: "quoted argument", line: `printf '%s|' -o '-p 5433 -k /run/x'`, want: "-o|-p 5433 -k /run/x|"},
		{name: "variables and &&", line: `X=restarted && echo "$X"`, want: "restarted"},
		{name: "failure keeps the output", line: `echo could not start >&2; exit 3`, wantErr: "run echo could not start >&2; exit 3: exit status 3: could not start"},
		{name: "empty", line: "  ", wantErr: "no restart command configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := pgtune.RunCommand(ctx, tt.line)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, out)
		})
	}
}
