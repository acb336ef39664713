package pgtune

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// maxCommandOutput bounds how much of a restart command's output is kept
// for the report (its tail, where errors are).
const maxCommandOutput = 4096

// commandWaitDelay is how long RunCommand waits for the command's output
// to close after the command exits. A restart command without its own log
// file (pg_ctl restart with no -l) leaves the new postmaster holding the
// output pipe for as long as the server runs; without this bound the wait
// would last until the server stops.
const commandWaitDelay = 2 * time.Second

// RunCommand runs a restart command line such as
// "pg_ctlcluster 15 main restart" on this host with `sh -c`, so it is read
// the way a shell reads it: quoted arguments ('-p 5433 -k /run/x'),
// variables and && work as written. It returns the tail of the combined
// output; a failure's error includes it. When ctx ends first, the shell is
// killed.
func RunCommand(ctx context.Context, line string) (string, error) {
	if strings.TrimSpace(line) == "" {
		return "", errors.New("no restart command configured")
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = commandWaitDelay
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		// The command itself succeeded; only a child (the postmaster)
		// still held its output.
		err = nil
	}
	text := strings.TrimSpace(out.String())
	if len(text) > maxCommandOutput {
		text = "..." + text[len(text)-maxCommandOutput:]
	}
	if err != nil {
		return text, fmt.Errorf("run %s: %w: %s", line, err, text)
	}
	return text, nil
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a
// command's stdout and stderr copiers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64*maxCommandOutput {
		// A server logging to the pipe must not grow the buffer without
		// bound; the tail is what the report keeps.
		tail := append([]byte(nil), b.buf.Bytes()[b.buf.Len()-maxCommandOutput:]...)
		b.buf.Reset()
		b.buf.Write(tail)
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
