package faults_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/internal/pgtest"
)

// envFull names the variable that selects the full sizes: `make faults`
// sets CONGRESSFLOW_FAULTS=full; anything else runs the short form.
const envFull = "CONGRESSFLOW_FAULTS"

func TestMain(m *testing.M) { pgtest.Main(m) }

// full reports whether the suite runs at its full sizes.
func full() bool { return os.Getenv(envFull) == "full" }

// size picks the short or the full form of a number.
func size(short, long int) int {
	if full() {
		return long
	}
	return short
}

// outcome is what one scenario compared.
type outcome struct {
	scenario string
	source   int   // items the fake holds, summed over the endpoints
	stored   int   // rows in the tables
	dups     int   // rows minus distinct rows
	requests int64 // requests the fake served
	detail   string
}

// record compares the tables with the source, fails the test unless each
// equals it (same keys, same data, no duplicates), and prints the counts.
func record(t *testing.T, s *e2e.Stack, scenario, detail string, endpoints ...string) {
	t.Helper()
	o := outcome{scenario: scenario, requests: s.Fake.Requests(), detail: detail}
	for _, c := range s.Compare(t, endpoints...) {
		if !c.OK() {
			t.Errorf("table differs from the source: %s", c)
		}
		o.source += c.Source
		o.stored += c.Rows
		o.dups += c.Rows - c.Distinct
	}
	report(t, o)
}

// report prints an outcome as one line starting "faults: ", which `make
// faults` collects into its summary.
func report(t *testing.T, o outcome) {
	t.Helper()
	status := "ok"
	if t.Failed() {
		status = "FAILED"
	}
	line := fmt.Sprintf("faults: %-6s %-20s source %7d  stored %7d  duplicates %d  requests %6d  %s",
		status, o.scenario, o.source, o.stored, o.dups, o.requests, o.detail)
	t.Log(line)
	fmt.Println(line)
}
