package congresstest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// Defaults of [Options].
const (
	// DefaultItemsPerEndpoint is the size of each endpoint's dataset.
	DefaultItemsPerEndpoint = 1000
	// defaultPageLimit is the API's default page size.
	defaultPageLimit = 20
	// recordedURLs is how many request URLs are kept for inspection.
	recordedURLs = 10000
)

// Options configures the fake. The zero value serves
// DefaultItemsPerEndpoint items per endpoint, accepts any non-empty key,
// has no rate limit and injects no faults.
type Options struct {
	// Seed makes item contents and fault draws reproducible. Default 0.
	Seed int64
	// ItemsPerEndpoint is the number of items of each endpoint. Default
	// DefaultItemsPerEndpoint. The congress endpoint always has
	// LastCongress items (one per congress) unless Items says otherwise.
	ItemsPerEndpoint int
	// Items overrides the number of items per endpoint name.
	Items map[string]int
	// APIKeys are the accepted keys. Empty accepts any non-empty key. A
	// missing key is answered with 403 API_KEY_MISSING, an unknown one with
	// 403 API_KEY_INVALID, with the real bodies.
	APIKeys []string
	// RateLimit is the number of requests per key allowed in any RateWindow
	// (a rolling window, like api.data.gov); more are answered with 429
	// OVER_RATE_LIMIT and Retry-After. Every response then carries
	// X-Ratelimit-Limit and X-Ratelimit-Remaining. 0 disables the limit and
	// the headers.
	RateLimit int
	// RateWindow is the rolling window of RateLimit. Default one hour.
	RateWindow time.Duration
	// ServerErrorRate is the share of requests answered with a 5xx, half of
	// them Cloudflare-style HTML pages, half JSON application errors.
	ServerErrorRate float64
	// Latency delays every accepted request.
	Latency time.Duration
	// SlowRate is the share of accepted requests delayed by SlowLatency
	// more, to provoke client timeouts.
	SlowRate    float64
	SlowLatency time.Duration
	// TouchEvery, when > 0, updates TouchCount random items of an endpoint
	// before every TouchEvery-th list request to it, so their updateDate
	// moves and later items shift (offsets move under a paging client).
	TouchEvery, TouchCount int
	// InsertEvery, when > 0, adds InsertCount new items to an endpoint
	// before every InsertEvery-th list request to it.
	InsertEvery, InsertCount int
	// CountLiesBy is added to every reported count (the real API has
	// reported one more item than it served, #365).
	CountLiesBy int
	// ShortPageEvery, when > 0, makes every ShortPageEvery-th full page that
	// is not the last return ShortPageBy (default 1) fewer items than the
	// limit (#212); its next link still advances by the limit.
	ShortPageEvery, ShortPageBy int
	// Ties makes a bulk reprocessing: for each endpoint named, that many
	// items of the initial set share one update time (midnight of a day in
	// the middle of the range), as after a GPO reissue (#131, #201).
	Ties map[string]int
	// ShuffleTies serves items whose served update values are equal (the
	// same second, or the same day where only dates are served) in a new
	// random order on every request: nothing promises a stable order among
	// ties (#74).
	ShuffleTies bool
	// IndexOrder lists items in the order they were created, ignoring
	// sort and update times, as an API whose order follows its own keys
	// would: windows still filter by update time.
	IndexOrder bool
	// EmptyPageEvery, when > 0, answers every EmptyPageEvery-th page that
	// is not the last with an empty list, count and links unchanged (#365);
	// asking again returns the items.
	EmptyPageEvery int
	// ThrottleEvery, when > 0, starts a burst of 429 OVER_RATE_LIMIT
	// answers at every ThrottleEvery-th accepted request, as a key that
	// other clients share runs dry: for ThrottleFor (default 2 s) every
	// request is answered 429 with a Retry-After of the seconds left,
	// whatever RateLimit says.
	ThrottleEvery int
	ThrottleFor   time.Duration
	// Malformed names, per endpoint, list offsets whose page is always
	// answered 200 with a JSON body cut off in the middle of an item, as a
	// proxy that drops the connection would leave it; asking again does
	// not help.
	Malformed map[string][]int
	// Now is the clock used for touched and inserted items and the rate
	// window. Default time.Now.
	Now func() time.Time
	// Logger receives a debug line per request (never the key). Default:
	// discard.
	Logger *slog.Logger
}

// Handler is the fake Congress.gov v3 API as an http.Handler, serving
// /v3/<endpoint> and /v3/<endpoint>/<congress> list requests for every
// endpoint of [congress.Endpoints]. Item requests and deeper paths
// (/bill/119/hr) answer 404. It is safe for concurrent use.
type Handler struct {
	opts   Options
	now    func() time.Time
	logger *slog.Logger
	keys   map[string]bool
	data   map[string]*dataset // fixed after construction
	order  []string            // endpoint names, registry order
	seed   uint64
	words  *vocabulary

	mu         sync.Mutex
	faults     *rand.Rand
	requests   int64
	byEndpoint map[string]int64
	byStatus   map[int]int64
	htmlErrors int64
	shortPages int64
	fullPages  int64
	emptyPages int64
	midPages   int64
	shuffler   *rand.Rand
	settled    bool
	firstAt    time.Time // first request received
	lastAt     time.Time // last request received
	urls       []string
	urlNext    int
	windows    map[string][]time.Time
	accepted   int64     // requests past the key check, for ThrottleEvery
	throttled  int64     // 429 answers sent
	dryUntil   time.Time // end of the current ThrottleEvery burst
	malformed  int64     // pages answered with a cut-off body
}

// NewHandler returns a fake for opts, or an error naming the bad option.
func NewHandler(opts Options) (*Handler, error) {
	var errs []error
	if opts.ItemsPerEndpoint < 0 {
		errs = append(errs, fmt.Errorf("option ItemsPerEndpoint %d is negative", opts.ItemsPerEndpoint))
	}
	if opts.RateLimit < 0 || opts.RateWindow < 0 {
		errs = append(errs, errors.New("options RateLimit and RateWindow must not be negative"))
	}
	for _, r := range []float64{opts.ServerErrorRate, opts.SlowRate} {
		if r < 0 || r > 1 || math.IsNaN(r) {
			errs = append(errs, fmt.Errorf("options ServerErrorRate and SlowRate must be within [0, 1], got %v", r))
		}
	}
	if opts.TouchCount < 0 || opts.InsertCount < 0 || opts.ShortPageBy < 0 || opts.EmptyPageEvery < 0 || opts.ThrottleEvery < 0 || opts.ThrottleFor < 0 {
		errs = append(errs, errors.New("options TouchCount, InsertCount, ShortPageBy, EmptyPageEvery, ThrottleEvery and ThrottleFor must not be negative"))
	}
	for name := range opts.Malformed {
		if _, ok := congress.EndpointByName(name); !ok {
			errs = append(errs, fmt.Errorf("option Malformed names unknown endpoint %q", name))
		}
	}
	for name, n := range opts.Ties {
		if _, ok := congress.EndpointByName(name); !ok || n < 0 {
			errs = append(errs, fmt.Errorf("option Ties[%q]: name a known endpoint and a count ≥ 0", name))
		}
	}
	for name, n := range opts.Items {
		if _, ok := congress.EndpointByName(name); !ok {
			errs = append(errs, fmt.Errorf("option Items names unknown endpoint %q", name))
		}
		if n < 0 {
			errs = append(errs, fmt.Errorf("option Items[%q] %d is negative", name, n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("congresstest: %w", err)
	}

	opts.ItemsPerEndpoint = cmp.Or(opts.ItemsPerEndpoint, DefaultItemsPerEndpoint)
	opts.RateWindow = cmp.Or(opts.RateWindow, time.Hour)
	opts.ShortPageBy = cmp.Or(opts.ShortPageBy, 1)
	opts.ThrottleFor = cmp.Or(opts.ThrottleFor, 2*time.Second)
	h := &Handler{
		opts:       opts,
		now:        opts.Now,
		logger:     opts.Logger,
		keys:       map[string]bool{},
		data:       map[string]*dataset{},
		seed:       uint64(opts.Seed),
		words:      newVocabulary(),
		faults:     rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
		shuffler:   rand.New(rand.NewPCG(uint64(opts.Seed), 0x70e5)),
		byEndpoint: map[string]int64{},
		byStatus:   map[int]int64{},
		windows:    map[string][]time.Time{},
	}
	if opts.Now == nil {
		h.now = time.Now
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	for _, k := range opts.APIKeys {
		h.keys[k] = true
	}
	for _, ep := range congress.Endpoints() {
		gen := generatorFor(ep.Name)
		if gen == nil {
			return nil, fmt.Errorf("congresstest: no generator for endpoint %q", ep.Name)
		}
		n := opts.ItemsPerEndpoint
		if ep.Name == "congress" {
			n = LastCongress
		}
		if v, ok := opts.Items[ep.Name]; ok {
			n = v
		}
		h.data[ep.Name] = newDataset(ep, gen, n, opts.Ties[ep.Name])
		h.order = append(h.order, ep.Name)
	}
	return h, nil
}

// Server is a [Handler] behind an httptest server.
type Server struct {
	*Handler
	ts *httptest.Server
}

// NewServer starts a fake on a local port. It panics when opts are invalid,
// as httptest.NewServer does when it cannot listen. Close it when done.
func NewServer(opts Options) *Server {
	h, err := NewHandler(opts)
	if err != nil {
		panic(err)
	}
	return &Server{Handler: h, ts: httptest.NewServer(h)}
}

// URL returns the base URL to use as congress.Config.BaseURL
// ("http://127.0.0.1:port/v3").
func (s *Server) URL() string { return s.ts.URL + "/v3" }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ds, congressNum, segment, found := h.route(r.URL.Path)
	name := ""
	if found {
		name = ds.ep.Name
	}
	h.record(name, r.URL.RequestURI())
	h.logger.LogAttrs(r.Context(), slog.LevelDebug, "fakecongress: request",
		slog.String("path", r.URL.Path), slog.String("query", withoutKey(r.URL.Query()).Encode()))

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "Method not allowed"})
		return
	}
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	switch {
	case key == "":
		h.writeJSON(w, http.StatusForbidden, gatewayError(congress.CodeAPIKeyMissing, "No api_key was supplied. Get one at https://api.congress.gov:443"))
		return
	case len(h.keys) > 0 && !h.keys[key]:
		h.writeJSON(w, http.StatusForbidden, gatewayError(congress.CodeAPIKeyInvalid, "An invalid api_key was supplied. Get one at https://api.congress.gov:443"))
		return
	}
	if retry, dry := h.dry(); dry {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(retry.Seconds())), 1)))
		h.overLimit(w)
		return
	}
	if h.opts.RateLimit > 0 {
		remaining, retry, ok := h.take(key)
		w.Header().Set("X-Ratelimit-Limit", strconv.Itoa(h.opts.RateLimit))
		w.Header().Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(retry.Seconds())), 1)))
			h.overLimit(w)
			return
		}
	}

	slow, fail, html, status := h.draw()
	delay := h.opts.Latency
	if slow {
		delay += h.opts.SlowLatency
	}
	if delay > 0 && !sleep(r.Context(), delay) {
		return
	}
	if fail {
		h.serverError(w, r, html, status)
		return
	}
	if !found {
		h.writeJSON(w, http.StatusNotFound, map[string]any{"error": "Unknown resource: " + strings.TrimPrefix(r.URL.Path, "/v3/")})
		return
	}
	h.list(w, r, ds, congressNum, segment)
}

// route maps a request path to a dataset, congress and segment: /bill,
// /bill/119 and, where the dataset has segments, /bill/119/hr.
func (h *Handler) route(path string) (*dataset, int, string, bool) {
	rest, ok := strings.CutPrefix(path, "/v3")
	if !ok {
		return nil, 0, "", false
	}
	rest = strings.TrimSuffix(rest, "/")
	for _, name := range h.order {
		ds := h.data[name]
		if ds.ep.Path != "" && rest == ds.ep.Path {
			return ds, 0, "", true
		}
		prefix, suffix, ok := strings.Cut(ds.ep.CongressPath, "{congress}")
		if !ok || suffix != "" {
			continue
		}
		tail, ok := strings.CutPrefix(rest, prefix)
		if !ok {
			continue
		}
		num, seg, hasSeg := strings.Cut(tail, "/")
		c, err := strconv.Atoi(num)
		if err != nil || c <= 0 || strconv.Itoa(c) != num {
			continue
		}
		switch {
		case !hasSeg:
			return ds, c, "", true
		case ds.seg != nil && seg != "" && !strings.Contains(seg, "/"):
			// Path parameters are lower case (reference §1).
			return ds, c, seg, seg == lower(seg)
		}
	}
	return nil, 0, "", false
}

// list answers a list request.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, ds *dataset, congressNum int, segment string) {
	q := r.URL.Query()
	if q.Get("format") != "json" {
		// XML is the API's default format (reference §1).
		h.write(w, http.StatusOK, "application/xml", []byte(`<?xml version="1.0" encoding="utf-8"?>`+"\n<api-root><error>fake serves JSON only; send format=json</error></api-root>\n"))
		return
	}
	limit, offset := defaultPageLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			h.writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid limit: " + v})
			return
		}
		limit = min(n, congress.MaxLimit)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			h.writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid offset: " + v})
			return
		}
		offset = n
	}
	vw := view{congress: congressNum, segment: segment, desc: true}
	if ds.ep.SupportsWindow(congressNum) && (segment == "" || ds.ep.SegmentWindow) {
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"fromDateTime", &vw.from}, {"toDateTime", &vw.to}} {
			if v := q.Get(p.name); v != "" {
				t, err := time.Parse(congress.DateTimeLayout, v)
				if err != nil {
					h.writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("Invalid %s: %s (use YYYY-MM-DDT00:00:00Z)", p.name, v)})
					return
				}
				*p.dst = t
			}
		}
	}
	if ds.ep.FromRequired && vw.from.IsZero() {
		// Without fromDateTime the real list holds only what changed in the
		// last day (#278, #312, #394).
		vw.from = h.now().Add(-24 * time.Hour)
	}
	if ds.ep.Sort && q.Has("sort") {
		switch q.Get("sort") {
		case "updateDate asc":
			vw.desc = false
		case "updateDate desc":
		default:
			h.writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid sort: " + q.Get("sort")})
			return
		}
	}

	h.mu.Lock()
	moving := !h.settled
	h.mu.Unlock()
	ds.mu.Lock()
	ds.listCalls++
	now := h.now()
	if moving && h.opts.TouchEvery > 0 && ds.listCalls%h.opts.TouchEvery == 0 && ds.n > 0 {
		ds.touch(ds.rng(h.seed), h.opts.TouchCount, now)
	}
	if moving && h.opts.InsertEvery > 0 && ds.listCalls%h.opts.InsertEvery == 0 {
		n := h.opts.InsertCount
		if ds.ep.Name == "congress" {
			// Congresses 1..LastCongress exist and no other: one more
			// would have no number to be known by.
			n = min(n, LastCongress-ds.n)
		}
		if n > 0 {
			ds.insert(n, now)
		}
	}
	var shuffle *rand.Rand
	if h.opts.ShuffleTies {
		h.mu.Lock()
		shuffle = rand.New(rand.NewPCG(h.shuffler.Uint64(), h.shuffler.Uint64()))
		h.mu.Unlock()
	}
	var total int
	var items []item
	if h.opts.IndexOrder {
		total, items = ds.pageByIndex(vw, offset, limit)
	} else {
		total, items = ds.page(vw, offset, limit, shuffle)
	}
	ds.mu.Unlock()

	if h.opts.EmptyPageEvery > 0 && len(items) > 0 && offset+len(items) < total {
		h.mu.Lock()
		h.midPages++
		empty := h.midPages%int64(h.opts.EmptyPageEvery) == 0
		if empty {
			h.emptyPages++
		}
		h.mu.Unlock()
		if empty {
			items = nil
		}
	}

	if h.opts.ShortPageEvery > 0 && len(items) == limit && offset+limit < total {
		h.mu.Lock()
		h.fullPages++
		short := h.fullPages%int64(h.opts.ShortPageEvery) == 0
		if short {
			h.shortPages++
		}
		h.mu.Unlock()
		if short {
			items = items[:max(len(items)-h.opts.ShortPageBy, 0)]
		}
	}
	count := max(total+h.opts.CountLiesBy, 0)

	raws := make([]json.RawMessage, len(items))
	for i, it := range items {
		raw, err := h.itemJSON(ds, it)
		if err != nil {
			h.writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
			return
		}
		raws[i] = raw
	}

	var env any
	if ds.ep.Name == "congressional-record" {
		env = map[string]any{
			"Results": map[string]any{"IndexStart": offset + 1, "Issues": raws, "SetSize": len(raws), "TotalCount": count},
			"Status":  map[string]any{"Code": "200", "Message": "success"},
		}
	} else {
		type pagination struct {
			Count int    `json:"count"`
			Next  string `json:"next,omitempty"`
			Prev  string `json:"prev,omitempty"`
		}
		p := pagination{Count: count}
		if offset+limit < count {
			p.Next = pageLink(r, q, offset+limit, limit)
		}
		if offset > 0 {
			p.Prev = pageLink(r, q, max(offset-limit, 0), limit)
		}
		echo := map[string]string{"contentType": "application/json", "format": "json"}
		if congressNum > 0 {
			echo["congress"] = strconv.Itoa(congressNum)
		}
		env = map[string]any{ds.ep.ListKey: raws, "pagination": p, "request": echo}
	}
	body, err := marshal(env, true)
	if err != nil {
		h.writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
		return
	}
	if slices.Contains(h.opts.Malformed[ds.ep.Name], offset) {
		// Cut inside the first item, so no decoder can take the page.
		cut := bytes.IndexByte(body, '[')
		if len(raws) > 0 {
			cut = bytes.Index(body, raws[0][:1]) + len(raws[0])/2
		}
		body = body[:max(cut, len(body)/2)]
		h.mu.Lock()
		h.malformed++
		h.mu.Unlock()
	}
	h.write(w, http.StatusOK, "application/json", body)
}

// pageLink builds a next/prev link the way the API does: same path, the
// request's filters carried (sort with a raw space), never the key. Other
// filters follow in name order so the same request gets the same bytes.
func pageLink(r *http.Request, q url.Values, offset, limit int) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	var b strings.Builder
	b.WriteString(scheme + "://" + r.Host + r.URL.Path + "?")
	for _, name := range []string{"sort", "fromDateTime", "toDateTime"} {
		if v := q.Get(name); v != "" {
			b.WriteString(name + "=" + v + "&")
		}
	}
	rest := withoutKey(q)
	for _, name := range slices.Sorted(maps.Keys(rest)) {
		switch name {
		case "sort", "fromDateTime", "toDateTime", "offset", "limit", "format":
			continue
		}
		for _, v := range rest[name] {
			b.WriteString(url.QueryEscape(name) + "=" + url.QueryEscape(v) + "&")
		}
	}
	fmt.Fprintf(&b, "offset=%d&limit=%d&format=json", offset, limit)
	return b.String()
}

func withoutKey(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		if !strings.EqualFold(k, "api_key") {
			out[k] = v
		}
	}
	return out
}

// itemJSON generates one item.
func (h *Handler) itemJSON(ds *dataset, it item) (json.RawMessage, error) {
	raw, err := marshal(ds.gen(gen{item: it, seed: h.seed ^ nameHash(ds.ep.Name), words: h.words}), false)
	if err != nil {
		return nil, fmt.Errorf("generate %s item %d: %w", ds.ep.Name, it.idx, err)
	}
	return raw, nil
}

func nameHash(name string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(name))
	return f.Sum64()
}

// rng returns the dataset's random source for mutations, created on first
// use so that draws are reproducible per endpoint. Caller holds d.mu.
func (d *dataset) rng(seed uint64) *rand.Rand {
	if d.random == nil {
		d.random = rand.New(rand.NewPCG(seed, nameHash(d.ep.Name)))
	}
	return d.random
}

// take counts a request against key's rolling window.
func (h *Handler) take(key string) (remaining int, retry time.Duration, ok bool) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	win := h.windows[key]
	cutoff := now.Add(-h.opts.RateWindow)
	drop := 0
	for drop < len(win) && !win[drop].After(cutoff) {
		drop++
	}
	win = win[drop:]
	if len(win) >= h.opts.RateLimit {
		h.windows[key] = win
		return 0, win[0].Add(h.opts.RateWindow).Sub(now), false
	}
	win = append(win, now)
	h.windows[key] = win
	return h.opts.RateLimit - len(win), 0, true
}

// dry counts an accepted request and says whether it falls in a burst of
// ThrottleEvery, and how long the burst has left.
func (h *Handler) dry() (time.Duration, bool) {
	if h.opts.ThrottleEvery <= 0 {
		return 0, false
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Before(h.dryUntil) {
		return h.dryUntil.Sub(now), true
	}
	h.accepted++
	if h.accepted%int64(h.opts.ThrottleEvery) != 0 {
		return 0, false
	}
	h.dryUntil = now.Add(h.opts.ThrottleFor)
	return h.opts.ThrottleFor, true
}

// overLimit answers 429 OVER_RATE_LIMIT with the gateway's body.
func (h *Handler) overLimit(w http.ResponseWriter) {
	h.mu.Lock()
	h.throttled++
	h.mu.Unlock()
	h.writeJSON(w, http.StatusTooManyRequests, gatewayError(congress.CodeOverRateLimit, "You have exceeded your rate limit. Try again later or contact us for assistance: https://api.congress.gov:443"))
}

// draw decides whether a request is slow or fails, from the seeded source.
func (h *Handler) draw() (slow, fail, html bool, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	slow = h.opts.SlowRate > 0 && h.faults.Float64() < h.opts.SlowRate
	if h.opts.ServerErrorRate > 0 && h.faults.Float64() < h.opts.ServerErrorRate {
		fail, html = true, h.faults.IntN(2) == 0
		status = http.StatusInternalServerError
		if html {
			status = []int{http.StatusBadGateway, 520, 522, 524}[h.faults.IntN(4)]
		}
	}
	return slow, fail, html, status
}

// serverError answers with a 5xx: a Cloudflare-style HTML page or a JSON
// application error (reference §1).
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, html bool, status int) {
	if !html {
		h.writeJSON(w, status, map[string]any{
			"error":   "The QuerySet value for an exact lookup must be limited to one result using slicing. (ValueError)",
			"request": map[string]string{"contentType": "application/json", "format": "json"},
		})
		return
	}
	title := map[int]string{http.StatusBadGateway: "Bad gateway", 520: "Web server is returning an unknown error", 522: "Connection timed out", 524: "A timeout occurred"}[status]
	page := fmt.Sprintf(`<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html lang="en-US">
<head>
<title>%s | %d: %s</title>
<meta charset="UTF-8" />
</head>
<body>
<div id="cf-error-details"><h1>%s</h1><span>Error code %d</span>
<p>Cloudflare Ray ID: <strong>%016x</strong></p></div>
</body>
</html>
`, r.Host, status, title, title, status, h.seed^uint64(status))
	h.mu.Lock()
	h.htmlErrors++
	h.mu.Unlock()
	h.write(w, status, "text/html; charset=UTF-8", []byte(page))
}

// marshal encodes v as the API does: no HTML escaping ("&" stays raw in
// links), indented by four spaces for whole responses.
func marshal(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "    ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func gatewayError(code, message string) map[string]any {
	return map[string]any{"error": map[string]string{"code": code, "message": message}}
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v, true)
	if err != nil {
		body = []byte(`{"error": "encode error"}`)
	}
	h.write(w, status, "application/json", body)
}

func (h *Handler) write(w http.ResponseWriter, status int, contentType string, body []byte) {
	h.mu.Lock()
	h.byStatus[status]++
	h.mu.Unlock()
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (h *Handler) record(endpoint, uri string) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.requests == 0 {
		h.firstAt = now
	}
	h.lastAt = now
	h.requests++
	h.byEndpoint[endpoint]++
	if len(h.urls) < recordedURLs {
		h.urls = append(h.urls, uri)
		return
	}
	h.urls[h.urlNext] = uri
	h.urlNext = (h.urlNext + 1) % recordedURLs
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Requests returns the number of requests received, answered or not.
func (h *Handler) Requests() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// RequestRate returns the requests received per second between the first
// and the last one: the rate a client achieved (0 before two requests).
func (h *Handler) RequestRate() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	span := h.lastAt.Sub(h.firstAt)
	if h.requests < 2 || span <= 0 {
		return 0
	}
	return float64(h.requests-1) / span.Seconds()
}

// RequestSpan returns when the first and the last request arrived (zero
// before any).
func (h *Handler) RequestSpan() (first, last time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.firstAt, h.lastAt
}

// EndpointRequests returns the number of requests to one endpoint's list
// paths ("" counts unknown paths).
func (h *Handler) EndpointRequests(endpoint string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byEndpoint[endpoint]
}

// Responses returns the number of responses sent with status.
func (h *Handler) Responses(status int) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byStatus[status]
}

// HTMLErrors returns the number of 5xx answers sent as HTML pages.
func (h *Handler) HTMLErrors() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.htmlErrors
}

// Throttled returns the number of 429 answers sent, by RateLimit or by
// ThrottleEvery.
func (h *Handler) Throttled() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.throttled
}

// MalformedPages returns the number of pages answered with a cut-off body.
func (h *Handler) MalformedPages() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.malformed
}

// EmptyPages returns the number of pages emptied by EmptyPageEvery.
func (h *Handler) EmptyPages() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.emptyPages
}

// ShortPages returns the number of pages cut short by ShortPageEvery.
func (h *Handler) ShortPages() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shortPages
}

// RecordedURLs returns the request URIs (path and query) received, up to
// the last 10,000, oldest first.
func (h *Handler) RecordedURLs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.urls))
	out = append(out, h.urls[h.urlNext:]...)
	return append(out, h.urls[:h.urlNext]...)
}

// ResetStats zeroes the request, status and fault counters and forgets
// recorded URLs and rate windows. Data is kept.
func (h *Handler) ResetStats() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests, h.htmlErrors, h.shortPages, h.fullPages, h.emptyPages, h.midPages = 0, 0, 0, 0, 0, 0
	h.accepted, h.throttled, h.malformed, h.dryUntil = 0, 0, 0, time.Time{}
	h.byEndpoint, h.byStatus, h.windows = map[string]int64{}, map[int]int64{}, map[string][]time.Time{}
	h.urls, h.urlNext = nil, 0
	h.firstAt, h.lastAt = time.Time{}, time.Time{}
}

func (h *Handler) dataset(endpoint string) (*dataset, error) {
	ds, ok := h.data[endpoint]
	if !ok {
		return nil, fmt.Errorf("congresstest: unknown endpoint %q", endpoint)
	}
	return ds, nil
}

// Count returns the current number of items of an endpoint.
func (h *Handler) Count(endpoint string) (int, error) {
	ds, err := h.dataset(endpoint)
	if err != nil {
		return 0, err
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.n, nil
}

// Settle stops the changes TouchEvery and InsertEvery make, so that a
// later walk sees a quiet source.
func (h *Handler) Settle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settled = true
}

// Touch updates n random items of an endpoint, as an edit on Congress.gov
// would: their content changes and their updateDate becomes the current
// time, so they move to the end of an updateDate-ascending walk and leave
// a window that ended before now. It returns their natural keys.
func (h *Handler) Touch(endpoint string, n int) ([]string, error) {
	ds, err := h.dataset(endpoint)
	if err != nil {
		return nil, err
	}
	ds.mu.Lock()
	items := ds.touch(ds.rng(h.seed), n, h.now())
	ds.mu.Unlock()
	return h.keysOf(ds, items)
}

// Insert adds n new items to an endpoint, updated now, and returns their
// natural keys.
func (h *Handler) Insert(endpoint string, n int) ([]string, error) {
	ds, err := h.dataset(endpoint)
	if err != nil {
		return nil, err
	}
	ds.mu.Lock()
	items := ds.insert(n, h.now())
	ds.mu.Unlock()
	return h.keysOf(ds, items)
}

func (h *Handler) keysOf(ds *dataset, items []item) ([]string, error) {
	keys := make([]string, len(items))
	for i, it := range items {
		raw, err := h.itemJSON(ds, it)
		if err != nil {
			return nil, err
		}
		ci, err := ds.ep.ItemFromJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("congresstest: key of %s item %d: %w", ds.ep.Name, it.idx, err)
		}
		keys[i] = ci.Key
	}
	return keys, nil
}

// Items returns every current item of an endpoint as the client would
// decode it (same Key, UpdateDate and Raw bytes), in index order. Use it
// to compare what a walk stored with the source.
func (h *Handler) Items(endpoint string) ([]congress.Item, error) {
	ds, err := h.dataset(endpoint)
	if err != nil {
		return nil, err
	}
	ds.mu.Lock()
	items := make([]item, ds.n)
	for i := range items {
		items[i] = ds.current(i)
	}
	ds.mu.Unlock()
	out := make([]congress.Item, len(items))
	for i, it := range items {
		raw, err := h.itemJSON(ds, it)
		if err != nil {
			return nil, err
		}
		if out[i], err = ds.ep.ItemFromJSON(raw); err != nil {
			return nil, fmt.Errorf("congresstest: %s item %d: %w", endpoint, it.idx, err)
		}
	}
	return out, nil
}
