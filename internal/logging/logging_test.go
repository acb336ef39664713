package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/logging"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    logging.Options
		wantErr string
		json    bool
	}{
		{name: "defaults to json off a terminal", opts: logging.Options{}, json: true},
		{name: "text", opts: logging.Options{Format: "text", Level: "debug"}},
		{name: "bad level", opts: logging.Options{Level: "loud"}, wantErr: `LOG_LEVEL "loud"`},
		{name: "bad format", opts: logging.Options{Format: "xml"}, wantErr: `LOG_FORMAT "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l, err := logging.New(&buf, tt.opts)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			l.Info("worker: started", "slots", 3)
			if tt.json {
				var m map[string]any
				require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
				require.Equal(t, "worker: started", m["msg"])
			} else {
				require.Contains(t, buf.String(), "slots=3")
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "already one line", in: "dial tcp: refused", want: "dial tcp: refused"},
		{name: "pgconn address list with a repeat",
			in:   "failed to connect to `user=x database=db`:\n\t127.0.0.1:1 (127.0.0.1): dial error: refused\n\t127.0.0.1:1 (127.0.0.1): dial error: refused",
			want: "failed to connect to `user=x database=db`: 127.0.0.1:1 (127.0.0.1): dial error: refused"},
		{name: "blank lines and runs of spaces", in: "a   b\n\n  c\t d\n", want: "a b: c d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, logging.OneLine(errors.New(tt.in)))
		})
	}
}
