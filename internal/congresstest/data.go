package congresstest

import (
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// Base update dates: item i of the initial set was last updated at
// baseStart + i*step, spread evenly up to baseEnd, so ordering by update
// date is ordering by index and a window is an index range. Touched and
// inserted items get the fake's current time, after baseEnd.
func baseStart() time.Time { return time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC) }

func baseEnd() time.Time { return time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC) }

// moved is an item whose update time is not its base date: touched, or
// inserted after the start.
type moved struct {
	idx, version int
	at           time.Time
}

// dataset holds one endpoint's items. Items are never stored: only the
// count and the items that moved. Content is generated on demand.
type dataset struct {
	ep   congress.Endpoint
	gen  genFunc
	base int           // items 0..base-1 have base dates
	step time.Duration // between base dates

	mu        sync.Mutex
	n         int         // current number of items
	version   map[int]int // current version of every moved item
	at        map[int]time.Time
	log       []moved    // moved items in update order; stale entries skipped
	touched   []int      // sorted indices < base that moved
	lastMove  time.Time  // last update time handed out
	listCalls int        // list requests served, for TouchEvery/InsertEvery
	random    *rand.Rand // picks touched items; see rng
}

func newDataset(ep congress.Endpoint, gen genFunc, n int) *dataset {
	step := time.Second
	if n > 0 {
		step = max(baseEnd().Sub(baseStart())/time.Duration(n), time.Second).Truncate(time.Second)
	}
	return &dataset{
		ep: ep, gen: gen, base: n, step: step, n: n,
		version: map[int]int{}, at: map[int]time.Time{},
	}
}

func (d *dataset) baseDate(idx int) time.Time { return baseStart().Add(time.Duration(idx) * d.step) }

// current returns item idx as it is now. Caller holds d.mu.
func (d *dataset) current(idx int) item {
	if at, ok := d.at[idx]; ok {
		return item{idx: idx, version: d.version[idx], at: at}
	}
	return item{idx: idx, at: d.baseDate(idx)}
}

// nextTime returns the update time for a change happening at now: whole
// seconds, after every base date and never before the previous change, so
// the log stays in time order. Caller holds d.mu.
func (d *dataset) nextTime(now time.Time) time.Time {
	t := now.UTC().Truncate(time.Second)
	if floor := d.baseDate(d.base); !t.After(floor) {
		t = floor.Add(time.Second)
	}
	if t.Before(d.lastMove) {
		t = d.lastMove
	}
	d.lastMove = t
	return t
}

// touch gives n distinct random items a new version and update time and
// returns them. Caller holds d.mu.
func (d *dataset) touch(rng *rand.Rand, n int, now time.Time) []item {
	n = min(n, d.n)
	at := d.nextTime(now)
	picked := make(map[int]bool, n)
	out := make([]item, 0, n)
	for len(out) < n {
		idx := rng.IntN(d.n)
		if picked[idx] {
			continue
		}
		picked[idx] = true
		v := d.version[idx] + 1
		if _, ok := d.at[idx]; !ok && idx < d.base {
			i := sort.SearchInts(d.touched, idx)
			d.touched = append(d.touched, 0)
			copy(d.touched[i+1:], d.touched[i:])
			d.touched[i] = idx
		}
		d.version[idx], d.at[idx] = v, at
		d.log = append(d.log, moved{idx: idx, version: v, at: at})
		out = append(out, item{idx: idx, version: v, at: at})
	}
	d.compact()
	return out
}

// insert appends n new items updated now and returns them. Caller holds
// d.mu.
func (d *dataset) insert(n int, now time.Time) []item {
	at := d.nextTime(now)
	out := make([]item, 0, n)
	for range n {
		idx := d.n
		d.n++
		d.version[idx], d.at[idx] = 0, at
		d.log = append(d.log, moved{idx: idx, at: at})
		out = append(out, item{idx: idx, at: at})
	}
	return out
}

// compact drops stale log entries once they outnumber live ones.
func (d *dataset) compact() {
	if len(d.log) < 2*len(d.at)+64 {
		return
	}
	live := d.log[:0]
	for _, m := range d.log {
		if d.live(m) {
			live = append(live, m)
		}
	}
	d.log = live
}

func (d *dataset) live(m moved) bool { return d.version[m.idx] == m.version && d.at[m.idx].Equal(m.at) }

// view is one list query: optional congress and window, and direction.
type view struct {
	congress int       // 0 = all
	from, to time.Time // zero = open
	desc     bool
}

func (v view) inWindow(t time.Time) bool {
	return (v.from.IsZero() || !t.Before(v.from)) && (v.to.IsZero() || !t.After(v.to))
}

func (v view) inCongress(idx int) bool { return v.congress == 0 || congressFor(idx) == v.congress }

// page returns the total number of items in the view and the items at
// positions [offset, offset+limit) of it. The view lists unmoved items in
// base-date order, then moved items in update order (ascending), or the
// reverse when desc. Caller holds d.mu.
func (d *dataset) page(v view, offset, limit int) (int, []item) {
	// Unmoved candidates: an arithmetic progression first, first+stride...
	// below hi, minus the touched indices among them.
	lo, hi := 0, d.base
	if !v.from.IsZero() && v.from.After(baseStart()) {
		lo = min(int((v.from.Sub(baseStart())+d.step-1)/d.step), d.base)
	}
	if !v.to.IsZero() {
		if v.to.Before(baseStart()) {
			hi = 0
		} else {
			hi = min(int(v.to.Sub(baseStart())/d.step)+1, d.base)
		}
	}
	stride, residue := 1, 0
	if v.congress != 0 {
		stride, residue = congressSpan, LastCongress-v.congress
		if residue < 0 || residue >= congressSpan {
			hi = lo
		}
	}
	first := lo + ((residue-lo%stride)%stride+stride)%stride
	candidates := 0
	if first < hi {
		candidates = (hi-1-first)/stride + 1
	}
	var excluded []int
	for _, idx := range d.touched {
		if idx >= first && idx < hi && idx%stride == first%stride {
			excluded = append(excluded, idx)
		}
	}
	sizeA := candidates - len(excluded)

	var movedItems []moved
	for _, m := range d.log {
		if d.live(m) && v.inCongress(m.idx) && v.inWindow(m.at) {
			movedItems = append(movedItems, m)
		}
	}
	total := sizeA + len(movedItems)

	start, end := offset, min(offset+limit, total)
	if v.desc {
		start, end = max(total-offset-limit, 0), total-offset
	}
	if start >= end {
		return total, nil
	}
	out := make([]item, 0, end-start)
	cand := func(j int) int { return first + j*stride }
	if start < sizeA {
		// The smallest j with j - |excluded ≤ cand(j)| = start: iterate
		// j = start + e(j) upwards to its fixpoint.
		j := start
		for {
			e := sort.SearchInts(excluded, cand(j)+1)
			if j == start+e {
				break
			}
			j = start + e
		}
		ex := sort.SearchInts(excluded, cand(j))
		for pos := start; pos < min(end, sizeA); j++ {
			idx := cand(j)
			if ex < len(excluded) && excluded[ex] == idx {
				ex++
				continue
			}
			out = append(out, item{idx: idx, at: d.baseDate(idx)})
			pos++
		}
	}
	for pos := max(start, sizeA); pos < end; pos++ {
		m := movedItems[pos-sizeA]
		out = append(out, item(m))
	}
	if v.desc {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return total, out
}
