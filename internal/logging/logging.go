// Package logging builds the slog logger every congressflow process uses:
// colourised text (tint) on a terminal, JSON otherwise.
package logging

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// Options choose the logger's level and format.
type Options struct {
	// Level is debug, info, warn or error. Empty means info.
	Level string
	// Format is text, json or auto. Empty and auto mean text (tint) when w
	// is a terminal, JSON otherwise.
	Format string
}

// New returns a logger writing to w.
func New(w io.Writer, opts Options) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cmp.Or(opts.Level, "info"))); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: use debug, info, warn or error", opts.Level)
	}
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	format := strings.ToLower(cmp.Or(opts.Format, "auto"))
	if format == "auto" {
		format = "json"
		if tty {
			format = "text"
		}
	}
	switch format {
	case "text":
		return slog.New(tint.NewTextHandler(w, &tint.Options{Level: lvl, TimeFormat: time.TimeOnly, NoColor: !tty})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl})), nil
	default:
		return nil, fmt.Errorf("LOG_FORMAT %q: use text, json or auto", opts.Format)
	}
}

// OneLine puts an error on one line for an operator: multi-line driver
// errors (pgconn lists every address and TLS mode it tried) become one
// sentence, and repeated lines are dropped.
func OneLine(err error) string {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSuffix(strings.Join(strings.Fields(line), " "), ":")
		if line != "" && !slices.Contains(parts, line) {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, ": ")
}
