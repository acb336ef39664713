// Command benchreport renders the results `make bench` collected (one JSON
// file per claim) as a table on stdout and as bench/results.md, with the
// machine they were measured on.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/opendiscourse/congressflow/internal/bench"
	"github.com/opendiscourse/congressflow/internal/devserver"
)

func main() {
	dir := flag.String("dir", ".data/bench", "directory of the results (one JSON file per claim)")
	out := flag.String("out", "bench/results.md", "the Markdown file to write")
	command := flag.String("command", "make bench", "the command that produced the results, named in the file")
	flag.Parse()
	if err := run(*dir, *out, *command); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(dir, out, command string) error {
	results, err := bench.ReadResults(dir)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no results in %s", dir)
	}
	cli, _ := devserver.CLIPath()
	m := bench.Probe(cli)
	var b strings.Builder
	fmt.Fprintf(&b, "# congressflow benchmarks\n\n")
	fmt.Fprintf(&b, "Measured by `%s` on %s.\n\n", command, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- CPU: %s, %d cores\n- memory: %.1f GiB\n- Go: %s\n- PostgreSQL: %s\n- Temporal CLI (dev server): %s\n\n",
		m.CPU, m.Cores, m.MemoryGB, m.Go, m.Postgres, strings.ReplaceAll(m.Temporal, "\n", "; "))
	b.WriteString("Every figure is a ratio against a baseline measured in the same run, the median of the runs listed; " +
		"the absolute medians stand beside it. The machine was shared with other work, so absolute numbers are noisy; " +
		"the ratios are what count.\n\n")
	b.WriteString(bench.Table(results))
	b.WriteString("\n## Settings\n\n")
	missed := 0
	for _, r := range results {
		fmt.Fprintf(&b, "- **%s**: %s", r.ID, r.Settings)
		if r.Note != "" {
			fmt.Fprintf(&b, " (%s)", r.Note)
		}
		b.WriteString("\n")
		if !r.Met() {
			missed++
		}
	}
	fmt.Fprintf(&b, "\n%d of %d targets met.\n", len(results)-missed, len(results))
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Println(m)
	fmt.Println()
	for _, r := range results {
		status := "ok"
		if !r.Met() {
			status = fmt.Sprintf("MISSED (measured %.2f)", r.Ratio)
		}
		fmt.Printf("%-5s %-62s %7.2f  target %-7s %-22s ours %s | baseline %s\n", r.ID, r.Name, r.Ratio, r.TargetText(), status, r.Ours, r.Baseline)
	}
	fmt.Printf("\n%d of %d targets met; written to %s\n", len(results)-missed, len(results), out)
	return nil
}
