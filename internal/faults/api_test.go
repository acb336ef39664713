package faults_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/e2e"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestAPIFaults walks the default endpoints through every API fault at
// once: 10 % 5xx (half of them HTML pages), bursts of 429 with a
// Retry-After, 2 s slow pages, items updated and inserted while paging, a
// bulk of bills tied on one update time served in a new order on every
// request, a count that lies by one, short pages and empty pages. Items
// that change during the walk are the next run's: the fake then settles
// and a second run makes every table equal to the source.
func TestAPIFaults(t *testing.T) {
	t.Parallel()
	bills, others := size(1200, 20000), size(100, 600)
	// The short form walks one endpoint of each kind: windowed (bill),
	// windowed without a congress path (member), offset walks (hearing,
	// committee-report) and the congress list.
	endpoints := []string{"bill", "member", "hearing", "committee-report", "congress"}
	if full() {
		endpoints = workflows.DefaultEndpoints
	}
	s := e2e.New(t, e2e.Options{Timeout: 40 * time.Minute, Fake: congresstest.Options{
		ItemsPerEndpoint: others, Items: map[string]int{"bill": bills}, Ties: map[string]int{"bill": bills / 4}, Seed: 23,
		ServerErrorRate: 0.1, ThrottleEvery: 60, ThrottleFor: 2 * time.Second, SlowRate: 0.05, SlowLatency: 2 * time.Second,
		TouchEvery: 3, TouchCount: 2, InsertEvery: 4, InsertCount: 2, ShuffleTies: true, CountLiesBy: 1,
		ShortPageEvery: 7, EmptyPageEvery: 9,
	}})
	t.Cleanup(func() { s.RequireNoSecrets(t, []string{e2e.Key}) })
	s.StartWorker(t, e2e.Key)

	var first, second workflows.IngestResult
	require.NoError(t, s.Start(t, "faults-api", workflows.IngestInput{Endpoints: endpoints, MaxParallel: 6}).Get(s.Ctx, &first))
	t.Log(first.Summary)
	require.Empty(t, first.Failed)
	htmlErrors, throttled, slowOrShort := s.Fake.HTMLErrors(), s.Fake.Throttled(), s.Fake.ShortPages()+s.Fake.EmptyPages()
	require.Positive(t, htmlErrors, "HTML error pages were served")
	require.Positive(t, throttled, "429 bursts were served")
	// Before any second run: everything that held still is in.
	s.RequireUnchangedStored(t, endpoints...)

	s.Fake.Settle()
	require.NoError(t, s.Start(t, "faults-api-again", workflows.IngestInput{Endpoints: endpoints, MaxParallel: 6}).Get(s.Ctx, &second))
	t.Log(second.Summary)
	require.Empty(t, second.Failed)
	record(t, s, "api-faults", fmt.Sprintf("%d HTML 5xx, %d 429, %d short or empty pages; retries %d + %d; 2 runs",
		htmlErrors, throttled, slowOrShort, first.Retries, second.Retries), endpoints...)
}
