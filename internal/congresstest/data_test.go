package congresstest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// bruteForce lists the view by materialising every item and sorting.
func bruteForce(d *dataset, v view) []item {
	var all []item
	for idx := range d.n {
		it := d.current(idx)
		if v.inCongress(idx) && d.inSegment(v, idx) && v.inWindow(it.at) {
			all = append(all, it)
		}
	}
	seq := map[int]int{}
	for i, m := range d.log {
		if d.live(m) {
			seq[m.idx] = i
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		_, am := d.at[a.idx]
		_, bm := d.at[b.idx]
		switch {
		case am != bm:
			return !am // unmoved first
		case am:
			return seq[a.idx] < seq[b.idx]
		}
		return a.idx < b.idx
	})
	if v.desc {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	return all
}

// TestDatasetPageMatchesBruteForce checks the arithmetic page selection
// against a sorted list of all items, across touches, inserts, congress
// filters, path segments, tie blocks, windows, directions, offsets and
// limits.
func TestDatasetPageMatchesBruteForce(t *testing.T) {
	t.Parallel()
	ep, _ := congress.EndpointByName("amendment")
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

	for round := range 60 {
		n, ties := 50+rng.IntN(400), 0
		if rng.IntN(2) == 0 {
			ties = rng.IntN(n)
		}
		d := newDataset(ep, generatorFor(ep.Name), n, ties)
		for range rng.IntN(6) {
			now = now.Add(time.Duration(rng.IntN(3)) * time.Second)
			if rng.IntN(3) == 0 {
				d.insert(1+rng.IntN(5), now)
			} else {
				d.touch(rng, 1+rng.IntN(30), now)
			}
		}
		v := view{desc: rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			v.congress = FirstCongress + rng.IntN(congressSpan+1) // includes one out of range
			if rng.IntN(2) == 0 {
				v.segment = []string{"hamdt", "samdt", "suamdt"}[rng.IntN(3)]
			}
		}
		if rng.IntN(2) == 0 {
			v.from = d.baseDate(rng.IntN(d.base + 1)).Add(time.Duration(rng.IntN(3)-1) * time.Second)
		}
		if rng.IntN(2) == 0 {
			v.to = d.baseDate(rng.IntN(d.base + 1)).Add(time.Duration(rng.IntN(3)-1) * time.Second)
		}
		if rng.IntN(4) == 0 {
			v.to = now
		}
		want := bruteForce(d, v)
		for _, limit := range []int{1, 7, 250} {
			var got []item
			for offset := 0; offset <= len(want)+limit; offset += limit {
				total, page := d.page(v, offset, limit, nil)
				require.Equal(t, len(want), total, "round %d total", round)
				got = append(got, page...)
			}
			require.Equal(t, want, got, "round %d limit %d view %+v", round, limit, v)
		}
	}
}

// TestTieBlockSharesOneUpdateTime checks the bulk-reprocessing block: its
// items share midnight of one day, and base dates never decrease.
func TestTieBlockSharesOneUpdateTime(t *testing.T) {
	t.Parallel()
	ep, _ := congress.EndpointByName("bill")
	d := newDataset(ep, generatorFor(ep.Name), 5000, 3000)
	tie := d.baseDate(d.tieStart)
	require.Equal(t, tie, tie.Truncate(24*time.Hour), "the block sits at midnight")
	same := 0
	for idx := range d.base {
		if idx > 0 {
			require.False(t, d.baseDate(idx).Before(d.baseDate(idx-1)), "idx %d", idx)
		}
		if d.baseDate(idx).Equal(tie) {
			same++
		}
	}
	require.Equal(t, 3000, same)
	total, _ := d.page(view{from: tie, to: tie}, 0, 250, nil)
	require.Equal(t, 3000, total, "a one-second window holds the whole block")
}

// TestShuffledTiesKeepTheSetButNotTheOrder pages a view whose items tie by
// the day: every request reorders the ties, yet reading the whole view in
// one page always returns the same set, and items keep their tie group.
func TestShuffledTiesKeepTheSetButNotTheOrder(t *testing.T) {
	t.Parallel()
	ep, _ := congress.EndpointByName("bill")
	d := newDataset(ep, generatorFor(ep.Name), 2000, 600)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, desc := range []bool{false, true} {
		v := view{desc: desc}
		want := bruteForce(d, v)
		orders := map[string]bool{}
		for range 5 {
			total, page := d.page(v, 0, len(want), rng)
			require.Equal(t, len(want), total)
			require.ElementsMatch(t, want, page)
			for i := range page {
				require.True(t, page[i].at.Truncate(d.unit).Equal(want[i].at.Truncate(d.unit)), "position %d keeps its day", i)
			}
			orders[fmt.Sprint(page[700:1300])] = true
		}
		require.Greater(t, len(orders), 1, "ties are reordered between requests")
		// A page boundary inside the block still yields the block's items,
		// in some order.
		_, page := d.page(v, 700, 250, rng)
		require.Len(t, page, 250)
		for i, it := range page {
			require.True(t, it.at.Truncate(d.unit).Equal(want[700+i].at.Truncate(d.unit)))
		}
	}
}
