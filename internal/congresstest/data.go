package congresstest

import (
	"math/rand/v2"
	"slices"
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
	seg  func(idx int) string // the path segment below the congress path; nil when none
	unit time.Duration        // granularity of the served update time
	base int                  // items 0..base-1 have base dates
	step time.Duration        // between base dates

	// Items tieStart..tieStart+tieSize-1 share one update time, tieShift
	// after the base date tieStart would have had: a bulk reprocessing.
	tieStart, tieSize int
	tieShift          time.Duration

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

// newDataset returns n items of ep; ties of them (0 for none) share one
// update time, midnight of a day in the middle of the range.
func newDataset(ep congress.Endpoint, gen genFunc, n, ties int) *dataset {
	ties = min(max(ties, 0), n)
	step := time.Second
	if slots := n - max(ties-1, 0); slots > 0 {
		step = max(baseEnd().Sub(baseStart())/time.Duration(slots), time.Second).Truncate(time.Second)
	}
	d := &dataset{
		ep: ep, gen: gen, seg: segmentFor(ep.Name), unit: servedUnit(ep.Name),
		base: n, step: step, n: n,
		version: map[int]int{}, at: map[int]time.Time{},
	}
	if ties > 1 {
		d.tieStart, d.tieSize = (n-ties)/2, ties
		t0 := baseStart().Add(time.Duration(d.tieStart) * step)
		midnight := t0.Truncate(24 * time.Hour)
		if midnight.Before(t0) {
			midnight = midnight.Add(24 * time.Hour)
		}
		d.tieShift = midnight.Sub(t0)
	}
	return d
}

// baseDate is the update time of an unmoved item: evenly spread, but for
// the tie block, which shares one time. It never decreases with idx.
func (d *dataset) baseDate(idx int) time.Time {
	j, shift := idx, time.Duration(0)
	if d.tieSize > 1 && idx >= d.tieStart {
		shift = d.tieShift
		if idx < d.tieStart+d.tieSize {
			j = d.tieStart
		} else {
			j = idx - d.tieSize + 1
		}
	}
	return baseStart().Add(time.Duration(j)*d.step + shift)
}

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

// view is one list query: optional congress, path segment and window, and
// direction.
type view struct {
	congress int       // 0 = all
	segment  string    // "" = all; else the value of dataset.seg
	from, to time.Time // zero = open
	desc     bool
}

func (v view) inWindow(t time.Time) bool {
	return (v.from.IsZero() || !t.Before(v.from)) && (v.to.IsZero() || !t.After(v.to))
}

func (v view) inCongress(idx int) bool { return v.congress == 0 || congressFor(idx) == v.congress }

func (d *dataset) inSegment(v view, idx int) bool {
	return v.segment == "" || (d.seg != nil && d.seg(idx) == v.segment)
}

// page returns the total number of items in the view and the items at
// positions [offset, offset+limit) of it. The view lists unmoved items in
// base-date order, then moved items in update order (ascending), or the
// reverse when desc. With shuffle, items whose served update values are
// equal (same second, or same day for date-only endpoints) come in an
// order drawn from shuffle. Caller holds d.mu.
func (d *dataset) page(v view, offset, limit int, shuffle *rand.Rand) (int, []item) {
	sel := d.selection(v)
	total := sel.total()
	start, end := offset, min(offset+limit, total)
	if v.desc {
		start, end = max(total-offset-limit, 0), total-offset
	}
	if start >= end {
		return total, nil
	}
	lo, hi := start, end
	if shuffle != nil {
		lo, hi = sel.expand(d, start, end)
	}
	out := sel.asc(lo, hi)
	if shuffle != nil {
		shuffleTies(out, d.unit, shuffle)
	}
	if v.desc {
		slices.Reverse(out)
		return total, out[hi-end : hi-start]
	}
	return total, out[start-lo : end-lo]
}

// pageByIndex is page for an API that ignores sort and lists items in the
// order they were created (by index), whatever their update times. Caller
// holds d.mu.
func (d *dataset) pageByIndex(v view, offset, limit int) (int, []item) {
	sel := d.selection(v)
	all := sel.asc(0, sel.total())
	slices.SortFunc(all, func(a, b item) int { return a.idx - b.idx })
	if v.desc {
		slices.Reverse(all)
	}
	if offset >= len(all) {
		return len(all), nil
	}
	return len(all), all[offset:min(offset+limit, len(all))]
}

// selection is a view resolved to positions: unmoved candidates first (an
// arithmetic progression minus the touched indices among them, or an
// explicit list when a segment filters them), then the moved items.
type selection struct {
	d             *dataset
	first, stride int
	candidates    int
	excluded      []int // touched indices among the candidates, sorted
	listed        []int // with a segment: the unmoved indices, in order
	moved         []moved
}

func (d *dataset) selection(v view) selection {
	// Unmoved candidates lie in [lo, hi): base dates within the window.
	lo, hi := 0, d.base
	if !v.from.IsZero() {
		lo = sort.Search(d.base, func(i int) bool { return !d.baseDate(i).Before(v.from) })
	}
	if !v.to.IsZero() {
		hi = sort.Search(d.base, func(i int) bool { return d.baseDate(i).After(v.to) })
	}
	stride, residue := 1, 0
	if v.congress != 0 {
		stride, residue = congressSpan, LastCongress-v.congress
		if residue < 0 || residue >= congressSpan {
			hi = lo
		}
	}
	s := selection{d: d, stride: stride}
	s.first = lo + ((residue-lo%stride)%stride+stride)%stride
	if s.first < hi {
		s.candidates = (hi-1-s.first)/stride + 1
	}
	for _, idx := range d.touched {
		if idx >= s.first && idx < hi && idx%stride == s.first%stride {
			s.excluded = append(s.excluded, idx)
		}
	}
	if v.segment != "" {
		s.listed = []int{}
		ex := 0
		for idx := s.first; idx < hi; idx += stride {
			if ex < len(s.excluded) && s.excluded[ex] == idx {
				ex++
				continue
			}
			if d.inSegment(v, idx) {
				s.listed = append(s.listed, idx)
			}
		}
	}
	for _, m := range d.log {
		if d.live(m) && v.inCongress(m.idx) && d.inSegment(v, m.idx) && v.inWindow(m.at) {
			s.moved = append(s.moved, m)
		}
	}
	return s
}

func (s selection) unmoved() int {
	if s.listed != nil {
		return len(s.listed)
	}
	return s.candidates - len(s.excluded)
}

func (s selection) total() int { return s.unmoved() + len(s.moved) }

// asc returns the items at ascending positions [start, end).
func (s selection) asc(start, end int) []item {
	out := make([]item, 0, end-start)
	sizeA := s.unmoved()
	switch {
	case start >= sizeA:
	case s.listed != nil:
		for _, idx := range s.listed[start:min(end, sizeA)] {
			out = append(out, item{idx: idx, at: s.d.baseDate(idx)})
		}
	default:
		cand := func(j int) int { return s.first + j*s.stride }
		// The smallest j with j - |excluded ≤ cand(j)| = start: iterate
		// j = start + e(j) upwards to its fixpoint.
		j := start
		for {
			e := sort.SearchInts(s.excluded, cand(j)+1)
			if j == start+e {
				break
			}
			j = start + e
		}
		ex := sort.SearchInts(s.excluded, cand(j))
		for pos := start; pos < min(end, sizeA); j++ {
			idx := cand(j)
			if ex < len(s.excluded) && s.excluded[ex] == idx {
				ex++
				continue
			}
			out = append(out, item{idx: idx, at: s.d.baseDate(idx)})
			pos++
		}
	}
	for pos := max(start, sizeA); pos < end; pos++ {
		out = append(out, item(s.moved[pos-sizeA]))
	}
	return out
}

// expand widens the ascending range [start, end) to whole groups of ties,
// so that shuffling the groups reorders the page the way a server with an
// unstable order among ties would.
func (s selection) expand(d *dataset, start, end int) (int, int) {
	const chunk = 256
	total := s.total()
	lo, hi := start, end
	if g := s.asc(start, start+1)[0].at.Truncate(d.unit); lo > 0 {
	back:
		for lo > 0 {
			from := max(lo-chunk, 0)
			items := s.asc(from, lo)
			for i := len(items) - 1; i >= 0; i-- {
				if !items[i].at.Truncate(d.unit).Equal(g) {
					break back
				}
				lo--
			}
		}
	}
	if g := s.asc(end-1, end)[0].at.Truncate(d.unit); hi < total {
	forward:
		for hi < total {
			for _, it := range s.asc(hi, min(hi+chunk, total)) {
				if !it.at.Truncate(d.unit).Equal(g) {
					break forward
				}
				hi++
			}
		}
	}
	return lo, hi
}

// shuffleTies permutes every run of items whose update times fall in the
// same unit.
func shuffleTies(items []item, unit time.Duration, rng *rand.Rand) {
	for i := 0; i < len(items); {
		g := items[i].at.Truncate(unit)
		j := i + 1
		for j < len(items) && items[j].at.Truncate(unit).Equal(g) {
			j++
		}
		if j-i > 1 {
			run := items[i:j]
			rng.Shuffle(len(run), func(a, b int) { run[a], run[b] = run[b], run[a] })
		}
		i = j
	}
}
