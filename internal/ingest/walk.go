package ingest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// Walk defaults.
const (
	// DefaultOverlap is how many items of the previous page an offset walk
	// requests again to detect shifts.
	DefaultOverlap = 5
	// DefaultMaxPasses bounds the passes of an offset walk over one list:
	// the first and the re-walks after a shortfall.
	DefaultMaxPasses = 3
	// maxStepBacks bounds consecutive step-backs of an offset walk when the
	// previous page's keys are not found in the overlap.
	maxStepBacks = 3
	// maxUnstablePasses bounds the passes over a list without windows
	// whose ties come back in another order from one request to the next:
	// each pass sees a random part of them, so it takes several to see
	// every item.
	maxUnstablePasses = 24
	// unstableListPages is the longest list, in pages, walked up to
	// maxUnstablePasses times when its order is unstable.
	unstableListPages = 12
	// idlePasses is how many passes in a row must find nothing new before
	// such a list's count is taken to be wrong rather than the walk.
	idlePasses = 3
	// maxEmptyRetries is how often an empty page before the end is asked
	// for again before the walk moves past it.
	maxEmptyRetries = 1
	// FullWindowStart is the fromDateTime sent where the API needs one
	// (summaries list only the last day without it) and a walk has no
	// lower bound.
	fullWindowStartYear = 1900
)

// Task kinds.
const (
	// KindWindow fetches a time window; see the package doc.
	KindWindow = "window"
	// KindOffsets walks a list (or a window) by overlapped offsets.
	KindOffsets = "offsets"
	// KindCongresses lists the congresses the API knows (/congress).
	KindCongresses = "congresses"
	// KindPerCongress stands for one list per congress, expanded once the
	// congresses are known (law has no list across congresses).
	KindPerCongress = "per-congress"
	// KindPathSplit stands for a window split per congress, expanded once
	// the congresses are known.
	KindPathSplit = "path-split"
	// KindVerify asks a list's window for its count at the end of a walk
	// whose order the API chose.
	KindVerify = "verify"
)

// Options configure [New].
type Options struct {
	// From is the start of the window (inclusive); zero walks from the
	// beginning. Ignored by endpoints without windows.
	From time.Time
	// To is the frozen end of the window: the walk's start, truncated to
	// the second. Required.
	To time.Time
	// Limit is the page size, 1..250. Default 250.
	Limit int
	// Congresses restricts the walk to these congresses, one list each.
	// Empty: every congress (the list across congresses, or for law every
	// congress the API lists).
	Congresses []int
	// Overlap is the items an offset walk reads again. Default
	// DefaultOverlap.
	Overlap int
	// MaxPasses bounds the passes of an offset walk. Default
	// DefaultMaxPasses.
	MaxPasses int
}

// Walk is the state of one endpoint's walk. It is plain data: marshal it
// to carry it across attempts, activities and runs. Create one with [New].
type Walk struct {
	Endpoint  string    `json:"endpoint"`
	Limit     int       `json:"limit"`
	Overlap   int       `json:"overlap"`
	MaxPasses int       `json:"max_passes"`
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to"`
	// Congresses are the congress numbers the walk knows: from the input,
	// or listed by the API when a list had to be split per congress. Nil
	// until known.
	Congresses []int `json:"congresses,omitempty"`
	// Tasks is a stack: the last is worked on next.
	Tasks []Task `json:"tasks"`
	// Lists are the lists the API forces the walk through.
	Lists  []List `json:"lists"`
	NextID int    `json:"next_id"`
	// Pages counts the pages observed.
	Pages int `json:"pages"`
}

// Task is one unit of pending work.
type Task struct {
	ID   int    `json:"id"`
	Kind string `json:"kind"`
	// List is the index of the [List] the task's requests count against.
	List     int    `json:"list"`
	Congress int    `json:"congress,omitempty"`
	Segment  string `json:"segment,omitempty"`
	// Windowed tasks send From and To; From may be zero (no lower bound).
	Windowed bool      `json:"windowed,omitempty"`
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to,omitzero"`
	// Count is the last count the API reported for the task; -1 unknown.
	Count int `json:"count"`
	// MaxCount is the largest count a windowed offset walk was given. A
	// frozen window only loses items while it is walked (an update moves
	// an item past its end), so keys seen that have left since can make
	// the distinct keys reach the current count while items are unseen;
	// they cannot make them reach the largest.
	MaxCount int `json:"max_count,omitempty"`
	// Bisect marks a window whose pages cannot tell where to split (its
	// items share one slot): it is split by time and counts.
	Bisect bool `json:"bisect,omitempty"`
	// SplitNow marks a bisect window known to hold more than a page
	// (inferred from its parent and sibling): it is split without a
	// request. Skip marks one known to be empty.
	SplitNow bool `json:"split_now,omitempty"`
	Skip     bool `json:"skip,omitempty"`
	// Sibling is the ID of the right half this left half informs, with
	// the parent's count.
	Sibling     int `json:"sibling,omitempty"`
	ParentCount int `json:"parent_count,omitempty"`
	// FollowUp is the offset of a second request for a window that fits a
	// page but came back short of its count.
	FollowUp int `json:"follow_up,omitempty"`
	// Empty counts empty pages in a row at the current position.
	Empty int `json:"empty,omitempty"`

	// Offset walks.
	Offset int      `json:"offset,omitempty"`
	Tail   []string `json:"tail,omitempty"`
	// TailSlots are the update slots of the Tail items, in order.
	TailSlots []time.Time `json:"tail_slots,omitempty"`
	Pass      int         `json:"pass,omitempty"`
	StepBacks int         `json:"step_backs,omitempty"`
	// Distinct and Rejected count the keys (all passes) and keyless
	// entries (this pass) seen by the task, for the end-of-pass check;
	// PassStart is Distinct when the pass began.
	Distinct  int `json:"distinct,omitempty"`
	Rejected  int `json:"rejected,omitempty"`
	PassStart int `json:"pass_start,omitempty"`
	// SplitOnShortfall makes a short pass split the window by path instead
	// of walking it again (a one-second window whose ties are shuffled).
	SplitOnShortfall bool `json:"split_on_shortfall,omitempty"`
	// Recount marks a re-walk of a list whose items were counted already:
	// its keys replace the list's count instead of adding to it.
	Recount bool `json:"recount,omitempty"`
	// Unstable marks an offset walk whose ties came back in another order
	// between requests: a page's overlap held items of the previous page's
	// last update times under other keys. Idle counts its passes in a row
	// that found nothing new.
	Unstable bool `json:"unstable,omitempty"`
	Idle     int  `json:"idle,omitempty"`
	// RunSlot is the update slot of the last run of ties the walk went
	// back to the start of, so that it does so once per run.
	RunSlot time.Time `json:"run_slot,omitzero"`
	// Unverified marks a pass with a page that could not be shown to
	// continue the one before (its overlap held none of that page's last
	// keys, it followed an empty page, or it came back short mid-list).
	// A pass without one saw every item that held still, so a count it
	// fell short of counts items that moved or a count that is wrong.
	Unverified bool `json:"unverified,omitempty"`
}

// List is one list the API forces a walk through: the endpoint's list, or
// one congress's list for an endpoint without a list across congresses.
type List struct {
	// Path names the list ("/bill", "/law/118").
	Path     string `json:"path"`
	Congress int    `json:"congress,omitempty"`
	// Count is the count its first page reported; -1 until then.
	Count int `json:"count"`
	// Requests counts the pages fetched for it, follow-ups, splits and
	// re-walks included.
	Requests int `json:"requests"`
	// Distinct counts the items confirmed present.
	Distinct int `json:"distinct"`
	// Gap is how many items its count promised that the walk could not
	// find (a count that lies, or items that left during the walk).
	Gap int `json:"gap,omitempty"`
	// Verify asks for the window's count once the list is walked, because
	// the walk relied on an order the API chose.
	Verify bool `json:"verify,omitempty"`
	Done   bool `json:"done,omitempty"`
}

// Request is one page request the walk wants.
type Request struct {
	// Task is the ID of the task that asks; pass the request back to
	// Observe with its page.
	Task int `json:"task"`
	// Endpoint is the endpoint to ask: the walk's own, or "congress" to
	// list congresses. Only the walk's own endpoint's items are stored.
	Endpoint string          `json:"endpoint"`
	Params   congress.Params `json:"params"`
	Offset   int             `json:"offset"`
	// Scope, when not zero, asks the caller to count which of the page's
	// keys are new within this scope (an offset walk), and pass that
	// number to Observe.
	Scope int `json:"scope,omitempty"`
}

// Store reports whether the page's items belong in the endpoint's table.
func (r Request) Store(w *Walk) bool { return r.Endpoint == w.Endpoint }

// Effect is what Observe asks of the caller besides storing the page.
type Effect struct {
	// RecordScope, when not zero, asks the caller to record the page's keys
	// as seen in this scope: the window became an offset walk.
	RecordScope int
}

// New plans the walk of ep.
func New(ep congress.Endpoint, opts Options) (*Walk, error) {
	if opts.To.IsZero() {
		return nil, errors.New("ingest: Options.To is required: the frozen end of the window")
	}
	limit := cmp.Or(opts.Limit, congress.MaxLimit)
	if limit < 1 || limit > congress.MaxLimit {
		return nil, fmt.Errorf("ingest: page size %d is out of range 1..%d", limit, congress.MaxLimit)
	}
	w := &Walk{
		Endpoint:  ep.Name,
		Limit:     limit,
		Overlap:   min(cmp.Or(opts.Overlap, DefaultOverlap), limit-1),
		MaxPasses: max(cmp.Or(opts.MaxPasses, DefaultMaxPasses), 1),
		From:      opts.From.UTC().Truncate(time.Second),
		To:        opts.To.UTC().Truncate(time.Second),
		Tasks:     []Task{},
		Lists:     []List{},
	}
	if !w.From.IsZero() && w.From.After(w.To) {
		return nil, fmt.Errorf("ingest: window start %s is after its end %s", w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	if ep.FromRequired && w.From.IsZero() {
		w.From = time.Date(fullWindowStartYear, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if len(opts.Congresses) > 0 {
		cs := slices.Clone(opts.Congresses)
		slices.Sort(cs)
		w.Congresses = slices.Compact(cs)
		if ep.CongressPath == "" {
			return nil, fmt.Errorf("ingest: %s has no per-congress list; walk it without a congress restriction", ep.Name)
		}
		for i := len(w.Congresses) - 1; i >= 0; i-- {
			w.addRoot(ep, w.Congresses[i])
		}
		return w, nil
	}
	if ep.Path == "" {
		w.push(Task{Kind: KindPerCongress, List: -1, Count: -1})
		return w, nil
	}
	w.addRoot(ep, 0)
	return w, nil
}

// addRoot adds a forced list (all congresses, or one) and its first task.
func (w *Walk) addRoot(ep congress.Endpoint, c int) {
	path := ep.Path
	if c > 0 {
		path = strings.Replace(ep.CongressPath, "{congress}", strconv.Itoa(c), 1)
	}
	w.Lists = append(w.Lists, List{Path: path, Congress: c, Count: -1})
	t := Task{Kind: KindOffsets, List: len(w.Lists) - 1, Congress: c, Count: -1}
	if ep.SupportsWindow(c) {
		t.Kind, t.Windowed, t.From, t.To = KindWindow, true, w.From, w.To
	}
	w.push(t)
}

func (w *Walk) push(t Task) {
	w.NextID++
	t.ID = w.NextID
	w.Tasks = append(w.Tasks, t)
}

func (w *Walk) pop() Task {
	t := w.Tasks[len(w.Tasks)-1]
	w.Tasks = w.Tasks[:len(w.Tasks)-1]
	return t
}

func (w *Walk) top() *Task { return &w.Tasks[len(w.Tasks)-1] }

// Done reports whether nothing is left to request.
func (w *Walk) Done() bool { return len(w.Tasks) == 0 }

// Clone returns a deep copy, so a caller can observe a page on the copy
// and keep the original if storing the page fails.
func (w *Walk) Clone() *Walk {
	c := *w
	c.Congresses = slices.Clone(w.Congresses)
	c.Lists = slices.Clone(w.Lists)
	c.Tasks = make([]Task, len(w.Tasks))
	for i, t := range w.Tasks {
		t.Tail, t.TailSlots = slices.Clone(t.Tail), slices.Clone(t.TailSlots)
		c.Tasks[i] = t
	}
	return &c
}

// Next returns the next request, or false when the walk is done. Tasks
// that need no request (expansions, splits known from counts) are carried
// out on the way.
func (w *Walk) Next(ep congress.Endpoint) (Request, bool) {
	for len(w.Tasks) > 0 {
		t := w.top()
		switch {
		case t.Skip:
			w.finishList(w.pop().List)
		case t.Kind == KindPerCongress:
			if w.Congresses == nil {
				w.push(Task{Kind: KindCongresses, List: -1, Count: -1})
				continue
			}
			w.pop()
			for i := len(w.Congresses) - 1; i >= 0; i-- {
				w.addRoot(ep, w.Congresses[i])
			}
		case t.Kind == KindPathSplit:
			if w.Congresses == nil {
				w.push(Task{Kind: KindCongresses, List: -1, Count: -1})
				continue
			}
			w.splitByCongress(w.pop())
		case t.Kind == KindWindow && t.SplitNow:
			c := t.Count
			w.splitWindow(ep, w.pop(), c)
		default:
			return w.request(*t), true
		}
	}
	return Request{}, false
}

func (w *Walk) request(t Task) Request {
	r := Request{Task: t.ID, Endpoint: w.Endpoint, Params: congress.Params{Limit: w.Limit}}
	switch t.Kind {
	case KindCongresses:
		r.Endpoint, r.Offset = "congress", t.Offset
		r.Params.Limit = congress.MaxLimit
		return r
	case KindVerify:
		r.Params.Limit = 1
	case KindOffsets:
		r.Offset, r.Scope = t.Offset, t.ID
	case KindWindow:
		r.Offset = t.FollowUp
		r.Params.Sort = true
	}
	r.Params.Congress = t.Congress
	if t.Segment != "" {
		r.Params.Segments = []string{t.Segment}
	}
	if t.Windowed {
		r.Params.From, r.Params.To = t.From, t.To
	}
	return r
}

// Observe folds a page into the walk. req is the request Next returned and
// page its answer; newKeys is the number of the page's keys that were new
// in req.Scope (ignored when Scope is zero). It returns what the caller
// must do besides storing the page.
func (w *Walk) Observe(ep congress.Endpoint, req Request, page congress.Page, newKeys int) (Effect, error) {
	if len(w.Tasks) == 0 || w.top().ID != req.Task {
		return Effect{}, fmt.Errorf("ingest: page for task %d, but the walk expects %s", req.Task, w.expecting())
	}
	w.Pages++
	t := w.top()
	if t.List >= 0 {
		w.Lists[t.List].Requests++
	}
	switch t.Kind {
	case KindCongresses:
		w.observeCongresses(page)
	case KindVerify:
		w.observeVerify(page)
	case KindOffsets:
		w.observeOffsets(ep, page, newKeys)
	case KindWindow:
		return w.observeWindow(ep, page), nil
	}
	return Effect{}, nil
}

func (w *Walk) expecting() string {
	if len(w.Tasks) == 0 {
		return "nothing (it is done)"
	}
	return fmt.Sprintf("task %d", w.top().ID)
}

func entries(p congress.Page) int { return len(p.Items) + len(p.Rejected) }

// count returns the page's count, or, when it had none, what the page
// implies: more than a page when a next link says so.
func count(p congress.Page) int {
	if p.Count >= 0 {
		return p.Count
	}
	if p.HasNext {
		return p.Offset + entries(p) + 1
	}
	return p.Offset + entries(p)
}

func (w *Walk) observeCongresses(page congress.Page) {
	t := w.top()
	for _, it := range page.Items {
		if n, err := strconv.Atoi(it.KeyParts[0]); err == nil && n > 0 {
			w.Congresses = append(w.Congresses, n)
		}
	}
	if n := entries(page); n > 0 && page.HasNext {
		t.Offset += n
		return
	}
	if n := entries(page); n == 0 && page.HasNext && t.Empty < maxEmptyRetries {
		t.Empty++
		return
	}
	w.pop()
	slices.Sort(w.Congresses)
	w.Congresses = slices.Compact(w.Congresses)
	if w.Congresses == nil {
		w.Congresses = []int{}
	}
}

func (w *Walk) observeVerify(page congress.Page) {
	t := w.pop()
	l := &w.Lists[t.List]
	if c := count(page); c > l.Distinct {
		// Items the walk did not confirm are still in the window: walk it
		// again by offsets, which needs no order.
		w.push(Task{Kind: KindOffsets, List: t.List, Congress: t.Congress, Segment: t.Segment,
			Windowed: true, From: t.From, To: t.To, Count: c, Recount: true})
		return
	}
	l.Done = true
}

// finishList closes a list whose last task ended: it schedules the
// verification its walk asked for, or marks it done.
func (w *Walk) finishList(i int) {
	if i < 0 || w.Lists[i].Done || w.openTasks(i) {
		return
	}
	l := &w.Lists[i]
	if l.Verify && l.Distinct < l.Count {
		// Fewer items confirmed than the first count promised: items left
		// during the walk, or the order was not what it seemed. Ask.
		l.Verify = false
		from := w.From
		w.push(Task{Kind: KindVerify, List: i, Congress: l.Congress, Windowed: true, From: from, To: w.To, Count: -1})
		return
	}
	if l.Count >= 0 && l.Distinct < l.Count {
		l.Gap = max(l.Gap, l.Count-l.Distinct)
	}
	l.Done = true
}

func (w *Walk) openTasks(list int) bool {
	for _, t := range w.Tasks {
		if t.List == list {
			return true
		}
	}
	return false
}

// observeWindow handles a page of a time window.
func (w *Walk) observeWindow(ep congress.Endpoint, page congress.Page) Effect {
	t := w.top()
	n, c := entries(page), count(page)
	list := &w.Lists[t.List]
	if list.Count < 0 {
		list.Count = c
	}
	if t.Sibling != 0 {
		w.informSibling(t, c)
		t.Sibling = 0
	}
	t.Count = c
	if t.FollowUp > 0 {
		// The second request of a window that fits a page: whatever it
		// brought is the rest; anything still missing is a gap.
		list.Distinct += n
		if missing := c - (t.FollowUp + n); missing > 0 {
			list.Gap += missing
		}
		w.doneTask()
		return Effect{}
	}
	if n < w.Limit && n >= c {
		list.Distinct += distinct(page)
		w.doneTask()
		return Effect{}
	}
	if n == 0 {
		switch {
		case t.Empty < maxEmptyRetries:
			t.Empty++
		case c <= w.Limit:
			// Empty again: the count promised items the list does not have.
			list.Gap += c
			w.doneTask()
		default:
			// Offsets move past empty pages.
			t.Kind, t.Offset, t.Tail, t.Empty = KindOffsets, 0, nil, 0
		}
		return Effect{}
	}
	t.Empty = 0
	if c <= w.Limit {
		// Fits a page but came back short: a short page, or a count that
		// is off by one. Ask for the rest once.
		list.Distinct += distinct(page)
		t.FollowUp = n
		return Effect{}
	}
	if t.Bisect {
		w.splitWindow(ep, w.pop(), c)
		return Effect{}
	}
	asc, desc := order(page.Items)
	switch {
	case len(page.Rejected) > 0 || (!asc && !desc):
		// No usable order: walk this window by offsets, reusing the page.
		list.Distinct += distinct(page)
		w.toOffsets(t, page)
		return Effect{RecordScope: t.ID}
	case asc && desc:
		// The whole page shares one slot.
		s, width := page.Items[0].UpdateSlot()
		switch {
		case !t.From.IsZero() && !t.From.Before(s) && !t.To.After(s.Add(width-time.Second)):
			w.splitWindow(ep, w.pop(), c)
		case ep.Sort:
			w.splitSlot(t, s, width, true)
		default:
			// Which end of the window the slot is at is unknown.
			list.Distinct += distinct(page)
			w.toOffsets(t, page)
			return Effect{RecordScope: t.ID}
		}
	case asc:
		w.forward(ep, t, page)
	default:
		w.backward(t, page)
	}
	return Effect{}
}

// forward moves an ascending window's start past the slot of the page's
// last item: everything before that slot is on the page.
func (w *Walk) forward(ep congress.Endpoint, t *Task, page congress.Page) {
	last := page.Items[len(page.Items)-1]
	s, width := last.UpdateSlot()
	next := s.Add(-time.Second) // read one second again, in case fromDateTime were exclusive
	if !next.After(t.From) {
		w.splitSlot(t, s, width, true)
		return
	}
	list := &w.Lists[t.List]
	if !ep.Sort {
		list.Verify = true // the order is the API's choice, not a promise
	}
	first := t.From.IsZero() || t.From.Equal(w.From)
	for _, it := range page.Items {
		// Confirmed: before the last slot, and not read again from the
		// previous step's last second.
		if start, wd := it.UpdateSlot(); !start.Add(wd).After(s) && (first || start.After(t.From)) {
			list.Distinct++
		}
	}
	t.From, t.Count = next, -1
}

// backward moves a descending window's end down to the slot of the page's
// last (oldest) item: everything after that slot is on the page.
func (w *Walk) backward(t *Task, page congress.Page) {
	last := page.Items[len(page.Items)-1]
	s, width := last.UpdateSlot()
	end := s.Add(width)
	if !end.Before(t.To) {
		w.splitSlot(t, s, width, false)
		return
	}
	list := &w.Lists[t.List]
	list.Verify = true // the order is the API's choice, not a promise
	first := t.To.Equal(w.To)
	for _, it := range page.Items {
		// Confirmed: after the last slot, and not read again at the
		// previous step's end.
		if start, _ := it.UpdateSlot(); !start.Before(end) && (first || start.Before(t.To)) {
			list.Distinct++
		}
	}
	t.To, t.Count = end, -1
}

// splitSlot replaces a window whose page fell into one slot [s, s+width)
// with the slot, to be bisected, and the rest of the window on the side
// the walk was going.
func (w *Walk) splitSlot(t *Task, s time.Time, width time.Duration, ascending bool) {
	slotFrom, slotTo := s, s.Add(width-time.Second)
	if !t.From.IsZero() && slotFrom.Before(t.From) {
		slotFrom = t.From
	}
	if slotTo.After(t.To) {
		slotTo = t.To
	}
	if t.From.Equal(w.From) && !t.From.IsZero() && s.After(t.From) && s.Sub(t.From) <= time.Second {
		// The walk's first second, if it is not the slot's, is not
		// confirmed yet: keep it in the slot. (Later windows start one
		// second early, at a second already confirmed.)
		slotFrom = t.From
	}
	rest := *t
	rest.Count, rest.FollowUp, rest.Empty, rest.Sibling = -1, 0, 0, 0
	hasRest := false
	if ascending && slotTo.Before(t.To) {
		rest.From, hasRest = slotTo.Add(time.Second), true
	}
	if !ascending && (t.From.IsZero() || slotFrom.After(t.From)) {
		rest.To, hasRest = slotFrom.Add(-time.Second), true
	}
	slot := *t
	slot.From, slot.To, slot.Bisect, slot.Count, slot.FollowUp, slot.Sibling = slotFrom, slotTo, true, -1, 0, 0
	w.pop()
	if hasRest {
		w.push(rest)
	}
	w.push(slot)
}

// splitWindow splits a window holding c > limit items whose order does not
// help: by time while it spans more than a second, then by offsets, then
// by path.
func (w *Walk) splitWindow(ep congress.Endpoint, t Task, c int) {
	a, b := t.From, t.To
	if a.IsZero() {
		a = time.Date(fullWindowStartYear, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if !b.After(a) {
		// One second: ties. Offsets first; a short pass splits by path.
		t.Kind, t.Offset, t.Tail, t.Pass, t.Count, t.Bisect = KindOffsets, 0, nil, 0, c, false
		t.MaxCount = c
		t.SplitOnShortfall = w.canSplitByPath(ep, t)
		w.push(t)
		return
	}
	left, right := t, t
	left.Count, right.Count = -1, -1
	left.SplitNow, right.SplitNow, left.Skip, right.Skip = false, false, false, false
	if a.Equal(a.Truncate(24*time.Hour)) && b.Sub(a) >= 23*time.Hour {
		// A day's slot: date-only ties tend to sit at midnight, so its
		// first second is asked alone first.
		left.From, left.To, right.From, right.To = a, a, a.Add(time.Second), b
	} else {
		m := a.Add(b.Sub(a) / 2).Truncate(time.Second)
		left.From, left.To, right.From, right.To = a, m, m.Add(time.Second), b
	}
	w.push(right)
	left.Sibling, left.ParentCount = w.NextID, c
	w.push(left)
}

// informSibling tells the right half what its left half's count implies.
func (w *Walk) informSibling(left *Task, c int) {
	for i := range w.Tasks {
		r := &w.Tasks[i]
		if r.ID != left.Sibling {
			continue
		}
		switch rest := left.ParentCount - c; {
		case rest <= 0:
			r.Skip = true
		case rest > w.Limit:
			r.SplitNow, r.Count = true, rest
		}
		return
	}
}

func (w *Walk) canSplitByPath(ep congress.Endpoint, t Task) bool {
	switch {
	case t.Congress == 0:
		return ep.CongressPath != "" && ep.CongressWindow
	case t.Segment == "":
		return ep.SegmentWindow && len(ep.Types) > 0
	}
	return false
}

// splitByPath replaces a one-second window that even offsets cannot walk
// (ties reordered per request) with its sub-lists: per congress, then per
// type.
func (w *Walk) splitByPath(ep congress.Endpoint, t Task) {
	sub := Task{Kind: KindWindow, List: t.List, Windowed: true, From: t.From, To: t.To, Count: -1, Bisect: true}
	if t.Congress == 0 {
		sub.Kind = KindPathSplit
		w.push(sub)
		return
	}
	sub.Congress = t.Congress
	for i := len(ep.Types) - 1; i >= 0; i-- {
		s := sub
		s.Segment = ep.Types[i]
		w.push(s)
	}
}

func (w *Walk) splitByCongress(t Task) {
	for i := len(w.Congresses) - 1; i >= 0; i-- {
		s := t
		s.Kind, s.Congress = KindWindow, w.Congresses[i]
		w.push(s)
	}
}

// toOffsets turns the window task on top into an offset walk of the same
// window that continues after page.
func (w *Walk) toOffsets(t *Task, page congress.Page) {
	n := entries(page)
	ov := w.overlap(t, page.Items, len(page.Items))
	t.Kind, t.Count, t.Pass, t.Empty, t.StepBacks = KindOffsets, count(page), 0, 0, 0
	t.MaxCount = t.Count
	t.Offset = n - ov
	t.Tail, t.TailSlots = tailKeys(page.Items, ov), tailSlots(page.Items, ov)
	t.Distinct, t.Rejected = distinct(page), len(page.Rejected)
}

// observeOffsets handles a page of an overlapped offset walk.
func (w *Walk) observeOffsets(ep congress.Endpoint, page congress.Page, newKeys int) {
	t := w.top()
	list := &w.Lists[t.List]
	n, c := entries(page), count(page)
	if list.Count < 0 {
		list.Count = c
	}
	t.Count = c
	if t.Windowed {
		t.MaxCount = max(t.MaxCount, c)
	}
	t.Distinct += newKeys
	t.Rejected += len(page.Rejected)
	if !t.Recount {
		list.Distinct += newKeys
	}
	if n == 0 {
		switch {
		case t.Offset < c && t.Empty < maxEmptyRetries:
			t.Empty++
			return
		case t.Offset+w.Limit < c:
			// Still empty, and the count says more lies beyond: move past
			// it; the end-of-pass check sees what it held.
			t.Empty, t.Tail, t.Unverified = 0, nil, true
			t.Offset += w.Limit
			return
		}
		w.endPass(ep)
		return
	}
	t.Empty = 0
	if t.Offset > 0 && (len(t.Tail) == 0 || !aligned(t.Tail, page.Items)) {
		t.Unverified = true
	}
	if len(t.Tail) > 0 && t.Offset > 0 {
		if head := page.Items[:min(len(t.Tail), len(page.Items))]; slices.EqualFunc(t.TailSlots, slotsOf(head), time.Time.Equal) && !slices.Equal(t.Tail, keysOf(head)) {
			// The overlap holds items of the same update times as the
			// previous page's last ones, but other keys: ties came back
			// in another order. (Items that moved shift other times in.)
			t.Unstable = true
			if t.SplitOnShortfall {
				// A one-second window: offsets cannot walk ties served in
				// a new order on every request, its sub-lists can. What
				// the pages brought is stored already.
				w.splitByPath(ep, w.pop())
				return
			}
		}
		if !aligned(t.Tail, page.Items) && newKeys > 0 && t.StepBacks < maxStepBacks {
			// None of the previous page's last keys is in the overlap:
			// items left before it and the page starts past unseen ones.
			// Step back; what this page brought is stored already.
			t.StepBacks++
			t.Offset = max(t.Offset-w.Limit/2, 0)
			t.Tail = nil
			return
		}
	}
	t.StepBacks = 0
	// A short page with nothing new ends the pass only where a full page
	// would have reached the count: before that it is the API's short
	// page (#212), and the items after it are still to come.
	if !page.HasNext || (n < w.Limit && newKeys == 0 && t.Offset+w.Limit >= c) {
		w.endPass(ep)
		return
	}
	if n < w.Limit {
		// Short mid-list: which items it left out is not known.
		t.Unverified = true
	}
	ov := w.overlap(t, page.Items, n-1)
	t.Offset += n - ov
	t.Tail, t.TailSlots = tailKeys(page.Items, ov), tailSlots(page.Items, ov)
}

// overlap is how many of a page's last items (at most limit) the next
// page of t reads again: the walk's overlap, or the run of ties the page
// ends in when that is longer and not the whole page. The next page then
// starts where the ties start and holds all of them that fit, in one
// order, even where the API orders ties anew on every request. A run of
// ties is read again once: a run longer than a page, or one that items
// moving ahead of it keep shifting, is walked on by the plain overlap.
func (w *Walk) overlap(t *Task, items []congress.Item, limit int) int {
	ov := min(w.Overlap, len(items), limit)
	run, slot := tieRun(items)
	if run > ov && run <= limit && run < len(items) && !slot.Equal(t.RunSlot) {
		ov, t.RunSlot = run, slot
	}
	return ov
}

// tieRun counts the items at the end of a page that share the last one's
// update slot, and returns the slot; zero when it has no update time.
func tieRun(items []congress.Item) (int, time.Time) {
	if len(items) == 0 {
		return 0, time.Time{}
	}
	last, _ := items[len(items)-1].UpdateSlot()
	if last.IsZero() {
		return 0, time.Time{}
	}
	run := 0
	for i := len(items) - 1; i >= 0; i-- {
		if s, _ := items[i].UpdateSlot(); !s.Equal(last) {
			break
		}
		run++
	}
	return run, last
}

// endPass ends a pass of the offset walk on top. Keys missing against the
// count (the largest a frozen window reported: items that left it may be
// among the keys seen) start another pass, which only adds keys; a pass
// that adds none shows that the count is wrong rather than the walk, and
// ends it. A one-second window whose second pass still adds keys is split
// by path instead (one whose ties came back reordered was split as soon as
// that showed). A short list whose ties come back reordered and that no
// path splits is walked again until idlePasses passes in a row add
// nothing, or until it reached its count and a pass added nothing more.
func (w *Walk) endPass(ep congress.Endpoint) {
	t := w.top()
	want := t.Count
	if t.Windowed {
		want = max(want, t.MaxCount)
	}
	short := want - t.Distinct - t.Rejected
	gained := t.Distinct - t.PassStart
	if gained == 0 {
		t.Idle++
	} else {
		t.Idle = 0
	}
	// A list whose ties come back in another order, and that no path
	// splits, is walked again while it is a few pages long: each pass sees
	// a random part of the ties. A count it reached is confirmed by a pass
	// that finds nothing new (counts run short by one, #365).
	extended := t.Unstable && !t.SplitOnShortfall && want <= unstableListPages*w.Limit
	passes := w.MaxPasses
	if extended {
		passes = max(passes, maxUnstablePasses)
	}
	switch {
	case short <= 0 && extended && t.Idle == 0 && t.Pass+1 < passes:
		t.newPass()
		return
	case short <= 0:
	case gained == 0 && (!extended || t.Idle >= idlePasses):
		// Nothing new: the count is wrong, not the walk.
		w.Lists[t.List].Gap += max(short, 0)
	case !t.Unverified && !t.Unstable:
		// Every page continued the one before, in an order that held:
		// what the count promised beyond the keys seen moved during the
		// pass (the next walk's) or never was.
		w.Lists[t.List].Gap += short
	case t.SplitOnShortfall && t.Pass > 0:
		w.splitByPath(ep, w.pop())
		return
	case t.Pass+1 < passes:
		t.newPass()
		return
	default:
		w.Lists[t.List].Gap += max(short, 0)
	}
	if t.Recount {
		w.Lists[t.List].Distinct = max(w.Lists[t.List].Distinct, t.Distinct)
	}
	w.doneTask()
}

// newPass starts another pass of an offset walk from the list's start.
func (t *Task) newPass() {
	t.Pass++
	t.Offset, t.Tail, t.TailSlots, t.Empty, t.StepBacks, t.Rejected, t.PassStart = 0, nil, nil, 0, 0, 0, t.Distinct
	t.RunSlot, t.Unverified = time.Time{}, false
}

// doneTask pops the finished task on top and closes its list when it was
// the list's last.
func (w *Walk) doneTask() {
	t := w.pop()
	w.finishList(t.List)
}

// aligned reports whether any of the previous page's last keys is on the
// page: the walk then continues right after the last one found.
func aligned(tail []string, items []congress.Item) bool {
	for _, it := range items {
		if slices.Contains(tail, it.Key) {
			return true
		}
	}
	return false
}

func keysOf(items []congress.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key
	}
	return out
}

func slotsOf(items []congress.Item) []time.Time {
	out := make([]time.Time, len(items))
	for i, it := range items {
		out[i], _ = it.UpdateSlot()
	}
	return out
}

func tailSlots(items []congress.Item, k int) []time.Time { return slotsOf(items[len(items)-k:]) }

func tailKeys(items []congress.Item, k int) []string {
	out := make([]string, 0, k)
	for _, it := range items[len(items)-k:] {
		out = append(out, it.Key)
	}
	return out
}

// distinct counts the distinct keys of a page.
func distinct(p congress.Page) int {
	seen := make(map[string]struct{}, len(p.Items))
	for _, it := range p.Items {
		seen[it.Key] = struct{}{}
	}
	return len(seen)
}

// order reports whether the page's update slots never decrease (asc) and
// never increase (desc); both when they are all equal, neither when an
// item has no update time.
func order(items []congress.Item) (asc, desc bool) {
	asc, desc = true, true
	var prev time.Time
	for i, it := range items {
		s, _ := it.UpdateSlot()
		if s.IsZero() {
			return false, false
		}
		if i > 0 {
			if s.Before(prev) {
				asc = false
			}
			if s.After(prev) {
				desc = false
			}
		}
		prev = s
	}
	return asc, desc
}

// MinRequests is the fewest requests any walk of the forced lists could
// use: ceil(count/250) per list, at least one.
func (w *Walk) MinRequests() int {
	n := 0
	for _, l := range w.Lists {
		n += max(1, (max(l.Count, 0)+congress.MaxLimit-1)/congress.MaxLimit)
	}
	return n
}

// Totals sums the lists: items the counts promised, items confirmed, the
// gap, and requests spent on the lists.
func (w *Walk) Totals() (count, confirmed, gap, requests int) {
	for _, l := range w.Lists {
		count += max(l.Count, 0)
		confirmed += l.Distinct
		gap += l.Gap
		requests += l.Requests
	}
	return count, confirmed, gap, requests
}
