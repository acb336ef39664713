package ingest_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
	"github.com/opendiscourse/congressflow/internal/ingest"
)

// walkCase is one fuzzed walk: the source, its faults and its changes,
// decoded from the fuzz arguments.
type walkCase struct {
	endpoint string
	limit    int
	opts     congresstest.Options
	// every, touch and insert change the source while it is walked:
	// every every-th request touches and inserts that many items.
	every, touch, insert int
}

// walkSizes are the page sizes a fuzzed walk uses: from a few times the
// overlap (DefaultOverlap) up to the default. Smaller pages advance an
// offset walk by one or two items a request, slower than a moving source
// grows.
var walkSizes = []int{20, 21, 64, 100, 249, 250}

// newWalkCase decodes fuzz arguments. Sizes stay small (at most 400
// items, or a quiet source of 1751 to 2250 for the request bound) so that
// one walk takes milliseconds.
func newWalkCase(ep uint8, items, ties uint16, size uint8, faults, changes uint16, seed int64) walkCase {
	c := walkCase{endpoint: defaultEndpoints[int(ep)%len(defaultEndpoints)], limit: walkSizes[int(size)%len(walkSizes)]}
	n := int(items % 401)
	if c.endpoint == "congress" {
		// The fake knows congresses 1 to LastCongress only.
		n = min(n, congresstest.LastCongress)
	}
	c.opts = congresstest.Options{
		Seed:        seed,
		Items:       map[string]int{c.endpoint: n},
		ShuffleTies: faults&1 != 0,
		IndexOrder:  faults&2 != 0,
		CountLiesBy: int(faults>>2) & 3,
		// ShortPageBy 0 means 1.
		ShortPageEvery: int(faults>>4) & 7, ShortPageBy: int(faults>>7) & 3,
		EmptyPageEvery: int(faults>>9) & 7,
	}
	if faults&(1<<12) != 0 {
		c.opts.ServerErrorRate = 0.1
	}
	if n > 1 && ties > 0 {
		c.opts.Ties = map[string]int{c.endpoint: 2 + int(ties)%(n-1)}
		if ep, _ := congress.EndpointByName(c.endpoint); !ep.CongressWindow || len(ep.Types) == 0 {
			// Ties reordered on every request are walked by splitting
			// the list by congress and type; without such paths no walk
			// can promise them, and it reports a gap instead.
			c.opts.ShuffleTies = false
		}
	}
	// At most a few changes every other request, as in
	// TestMovingSourceLosesNothing.
	c.every, c.touch, c.insert = int(changes&15), int(changes>>4)&3, int(changes>>8)&3
	if c.every < 2 {
		c.every, c.touch, c.insert = 0, 0, 0
	}
	if c.endpoint == "congress" {
		c.insert = 0
	}
	if faults&(1<<15) != 0 && c.clean() && c.endpoint != "congress" {
		// Big enough that the request bound of the clean walk applies.
		c.limit = congress.MaxLimit
		c.opts.Items[c.endpoint] = 1751 + int(items)%500
	}
	return c
}

// quiet reports that the source does not change during the walk.
func (c walkCase) quiet() bool { return c.touch == 0 && c.insert == 0 }

// clean reports a quiet source that keeps every promise: honest counts,
// full pages, no errors, no ties and the order asked for.
func (c walkCase) clean() bool {
	o := c.opts
	return c.quiet() && o.CountLiesBy == 0 && o.ShortPageEvery == 0 && o.EmptyPageEvery == 0 &&
		o.ServerErrorRate == 0 && len(o.Ties) == 0 && !o.IndexOrder
}

// FuzzWalk walks one endpoint of the in-memory fake with fuzzed sizes,
// tie blocks, page sizes, shuffled ties, an API that ignores sort, counts
// that lie, short and empty pages, server errors, and items touched and
// inserted mid-walk. Every walk ends within a bound and stores nothing
// that is not in the source. An item that was in the frozen window and
// did not change during the walk is stored as served, or else counted in
// the walk's gap: no loss goes unreported. On a quiet source the store
// equals the source; on a clean one the walk reports no gap and, where
// the sizes make the bound meaningful (as in
// TestCleanWalksStoreEverythingWithFewRequests), uses at most 1.25 times
// the minimum number of requests.
func FuzzWalk(f *testing.F) {
	for i := range defaultEndpoints {
		f.Add(uint8(i), uint16(0), uint16(0), uint8(8), uint16(0), uint16(0), int64(i))
		f.Add(uint8(i), uint16(300), uint16(0), uint8(5), uint16(0), uint16(0), int64(i))
		f.Add(uint8(i), uint16(251), uint16(0), uint8(0), uint16(1<<15), uint16(0), int64(i))
		f.Add(uint8(i), uint16(120), uint16(40), uint8(4), uint16(1|1<<2|3<<4|4<<9), uint16(2|3<<4|1<<8), int64(i))
		f.Add(uint8(i), uint16(90), uint16(0), uint8(2), uint16(2|1<<2|1<<12), uint16(3|2<<4|2<<8), int64(i))
	}
	f.Add(uint8(0), uint16(400), uint16(399), uint8(1), uint16(1), uint16(0), int64(11))  // bills: one tie block, shuffled, pages of 2
	f.Add(uint8(1), uint16(260), uint16(255), uint8(6), uint16(1), uint16(0), int64(11))  // amendments: ties beyond a page
	f.Add(uint8(8), uint16(400), uint16(0), uint8(0), uint16(1<<15), uint16(0), int64(3)) // law, clean, default size
	f.Fuzz(func(t *testing.T, ep uint8, items, ties uint16, size uint8, faults, changes uint16, seed int64) {
		checkWalk(t, newWalkCase(ep, items, ties, size, faults, changes, seed))
	})
}

// checkWalk runs one fuzzed walk and checks it; see FuzzWalk.
func checkWalk(t *testing.T, c walkCase) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	tick := 0
	c.opts.Now = func() time.Time {
		// A second passes with every reading: changes land after the
		// frozen end of the window, as during a real walk.
		mu.Lock()
		defer mu.Unlock()
		tick++
		return start.Add(time.Duration(tick) * time.Second)
	}
	s := newLocalSim(t, c.opts)
	endpoint, ok := congress.EndpointByName(c.endpoint)
	require.True(t, ok)
	n, err := s.srv.Count(c.endpoint)
	require.NoError(t, err)
	// Generous: a walk may bisect a window some 40 times, split a
	// one-second window per congress and then per type (about a thousand
	// lists), and walk a list by offsets in DefaultMaxPasses passes.
	s.maxSteps = 5000 + 100*n/c.limit
	if c.every > 0 {
		s.before = s.mover(c.endpoint, c.every, c.touch, c.insert)
	}

	w, err := ingest.New(endpoint, ingest.Options{To: start, Limit: c.limit})
	require.NoError(t, err)
	mem := newMemory()
	s.run(endpoint, w, mem)
	require.True(t, w.Done())

	src := s.source(c.endpoint)
	for k := range mem.rows {
		_, ok := src[k]
		require.True(t, ok, "stored %q is not in the source", k)
	}
	_, _, gap, requests := w.Totals()
	missing := 0
	for k, it := range src {
		if start, width := it.UpdateSlot(); !start.Add(width).Before(w.To) {
			continue // changed during the walk
		}
		if got, ok := mem.rows[k]; !ok || !bytes.Equal(got, it.Raw) {
			missing++
		}
	}
	require.LessOrEqual(t, missing, gap, "unchanged items lost without a gap")
	if !c.quiet() {
		return
	}
	s.requireEqual(c.endpoint, mem)
	if !c.clean() {
		return
	}
	require.Zero(t, gap, "gap on a clean source")
	if m := w.MinRequests(); c.limit == congress.MaxLimit && m >= 8 {
		require.LessOrEqual(t, float64(requests), 1.25*float64(m), "requests")
	}
}
