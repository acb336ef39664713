package congresstest

import (
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
		if v.inCongress(idx) && v.inWindow(it.at) {
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
// filters, windows, directions, offsets and limits.
func TestDatasetPageMatchesBruteForce(t *testing.T) {
	t.Parallel()
	ep, _ := congress.EndpointByName("amendment")
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

	for round := range 40 {
		d := newDataset(ep, generatorFor(ep.Name), 50+rng.IntN(400))
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
				total, page := d.page(v, offset, limit)
				require.Equal(t, len(want), total, "round %d total", round)
				got = append(got, page...)
			}
			require.Equal(t, want, got, "round %d limit %d view %+v", round, limit, v)
		}
	}
}
