package pgtune

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// maxCommandOutput bounds how much of a restart command's output is kept
// for the report (its tail, where errors are).
const maxCommandOutput = 4096

// RunCommand runs a restart command such as
// ["pg_ctlcluster", "15", "main", "restart"] on this host: argv[0] with
// the rest as arguments, no shell. It returns the tail of the combined
// output; a failure's error includes it.
func RunCommand(ctx context.Context, argv []string) (string, error) {
	if len(argv) == 0 || argv[0] == "" {
		return "", errors.New("no restart command configured")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := strings.TrimSpace(out.String())
	if len(text) > maxCommandOutput {
		text = "..." + text[len(text)-maxCommandOutput:]
	}
	if err != nil {
		return text, fmt.Errorf("run %s: %w: %s", strings.Join(argv, " "), err, text)
	}
	return text, nil
}
