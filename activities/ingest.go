package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/ingest"
	"github.com/opendiscourse/congressflow/internal/store"
)

// Error types of the ingest stage's application errors.
const (
	// ErrTypeAPIRateLimited: the API (or the shared budget) asked to wait;
	// retried after the delay the server gave.
	ErrTypeAPIRateLimited = "RateLimited"
	// ErrTypeAPIDecode: a page that keeps failing to decode; the message
	// names the endpoint and offset.
	ErrTypeAPIDecode = "APIDecodeError"
	// ErrTypeAPIUnreachable: the API host could not be reached for longer
	// than the outage budget; the message names CONGRESS_API_BASE_URL.
	ErrTypeAPIUnreachable = "APIUnreachable"
	// ErrTypeAPIFailing: the API kept answering with server errors or
	// timeouts for longer than the outage budget.
	ErrTypeAPIFailing = "APIFailing"
	// ErrTypeAPINotFound: the API does not know the list path.
	ErrTypeAPINotFound = "APINotFound"
	// ErrTypeAPIRequest: the API rejected the request as malformed.
	ErrTypeAPIRequest = "APIRequestRejected"
	// ErrTypeAPIForbidden: a 403 without an api.data.gov code (a CDN
	// block, #412); API_KEY_* codes are used as the type when present.
	ErrTypeAPIForbidden = "APIForbidden"
)

// Ingest defaults.
const (
	// DefaultPagesPerActivity is how many pages one FetchPages call walks.
	DefaultPagesPerActivity = 20
	// DefaultUnreachableBudget bounds retries while the API host cannot
	// be reached (DNS, refused connections).
	DefaultUnreachableBudget = 10 * time.Minute
	// DefaultFailingBudget bounds retries while the API answers only with
	// server errors or timeouts.
	DefaultFailingBudget = 30 * time.Minute
	// decodeAttempts is how often a page that fails to decode is asked
	// for before the walk gives up on it.
	decodeAttempts = 3
	// heartbeatEvery is how often FetchPages heartbeats while it waits
	// (on the rate budget, a slow page, the database).
	heartbeatEvery = 5 * time.Second
)

// Ingest holds the ingest stage's dependencies. Register it on the worker
// with worker.RegisterActivity(&activities.Ingest{...}).
type Ingest struct {
	// Pool is the database the Congress.gov tables live in.
	Pool *pgxpool.Pool
	// Client fetches pages; share one per process so its limiter paces
	// every activity.
	Client *congress.Client
	// Tables writes items into their tables. Default store.NewTables().
	Tables *store.Tables
	// BaseURL is the API root the client uses, named in errors about an
	// unreachable API (it carries no key).
	BaseURL string
	// UnreachableBudget and FailingBudget bound retries of an API that
	// cannot be reached or keeps failing. Defaults
	// DefaultUnreachableBudget and DefaultFailingBudget.
	UnreachableBudget, FailingBudget time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives a line per finished walk and per failure. Nil
	// discards.
	Logger *slog.Logger
	// Metrics counts requests, pages, items and upserts for the worker's
	// /metrics endpoint. Nil counts nothing.
	Metrics IngestMetrics

	initOnce sync.Once
}

// IngestMetrics receives what the ingest activities count, per endpoint:
// the worker's /metrics endpoint implements it (internal/metrics).
type IngestMetrics interface {
	// Request counts one API request with its result: RequestOK,
	// RequestRateLimited, RequestBudget or RequestError.
	Request(endpoint, result string)
	// Page counts a committed page: the items it held and what the
	// upserts did with them.
	Page(endpoint string, items int, inserted, updated, unchanged int64)
}

// Results of an API request, as IngestMetrics counts them.
const (
	RequestOK = "ok"
	// RequestRateLimited: the API answered 429.
	RequestRateLimited = "rate_limited"
	// RequestBudget: the shared request budget asked to wait longer than
	// an activity waits; no request was sent.
	RequestBudget = "budget"
	RequestError  = "error"
)

// requestResult names the result of a Client.Page call for IngestMetrics.
func requestResult(err error) string {
	var ae *congress.APIError
	switch {
	case err == nil:
		return RequestOK
	case errors.Is(err, congress.ErrRateLimited) && errors.As(err, &ae) && ae.Status == 0:
		return RequestBudget
	case errors.Is(err, congress.ErrRateLimited):
		return RequestRateLimited
	}
	return RequestError
}

func (a *Ingest) init() {
	a.initOnce.Do(func() {
		if a.Tables == nil {
			a.Tables = store.NewTables()
		}
		if a.Now == nil {
			a.Now = time.Now
		}
		a.UnreachableBudget = cmp.Or(a.UnreachableBudget, DefaultUnreachableBudget)
		a.FailingBudget = cmp.Or(a.FailingBudget, DefaultFailingBudget)
		if a.Logger == nil {
			a.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// IngestStats are the running totals of one endpoint walk.
type IngestStats struct {
	// Pages are the pages fetched and committed; Items the entries they
	// held (rejected ones included).
	Pages int   `json:"pages"`
	Items int64 `json:"items"`
	// Inserted, Updated and Unchanged say what the upserts did.
	Inserted  int64 `json:"inserted"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	// Rejected counts entries without a usable natural key (logged).
	Rejected int64 `json:"rejected"`
	// Requests counts every request sent, failed ones included; Retries
	// the failed ones; RateLimited the 429 answers (and waits the shared
	// budget refused).
	Requests    int `json:"requests"`
	Retries     int `json:"retries"`
	RateLimited int `json:"rate_limited"`
}

// Add returns the sum of two stats.
func (s IngestStats) Add(o IngestStats) IngestStats {
	return IngestStats{
		Pages: s.Pages + o.Pages, Items: s.Items + o.Items, Inserted: s.Inserted + o.Inserted,
		Updated: s.Updated + o.Updated, Unchanged: s.Unchanged + o.Unchanged, Rejected: s.Rejected + o.Rejected,
		Requests: s.Requests + o.Requests, Retries: s.Retries + o.Retries, RateLimited: s.RateLimited + o.RateLimited,
	}
}

// WalkState is the cursor of one endpoint walk: the walk's plan and
// position, and its totals. It travels in heartbeats, activity inputs and
// results, and ops.ingest_cursors; it never holds the API key.
type WalkState struct {
	// WalkID names the walk in ops.ingest_runs, ops.ingest_cursors and
	// ops.ingest_seen.
	WalkID string `json:"walk_id"`
	// Mode is full or incremental.
	Mode string `json:"mode"`
	// Restricted is true when the input restricted the walk to some
	// congresses: it then says nothing of the others' watermarks.
	Restricted bool         `json:"restricted,omitempty"`
	Walk       *ingest.Walk `json:"walk"`
	Stats      IngestStats  `json:"stats"`
	// Failure tracks consecutive failures across attempts.
	Failure FailureState `json:"failure,omitzero"`
}

// FailureState tracks failures that only count when they repeat.
type FailureState struct {
	// Since is when the API started failing (server errors, timeouts,
	// unreachable) without a page getting through since.
	Since time.Time `json:"since,omitzero"`
	// Consecutive counts failed requests since the last page that got
	// through; the retry delay doubles with it.
	Consecutive int `json:"consecutive,omitempty"`
	// Decode counts decode failures at page Seq.
	Decode int `json:"decode,omitempty"`
	Seq    int `json:"seq,omitempty"`
}

// Backoff of a walk's transient failures. Temporal's own backoff grows with
// the activity's attempt number, which a walk that makes progress between
// failures keeps raising; a walk's delay grows only with failures in a row.
const (
	retryFirstDelay = time.Second
	retryMaxDelay   = time.Minute
)

// retryDelay is the delay before the next attempt after n failures in a row.
func retryDelay(n int) time.Duration {
	d := retryFirstDelay
	for i := 1; i < n && d < retryMaxDelay; i++ {
		d *= 2
	}
	return min(d, retryMaxDelay)
}

// seq is the number of pages the state has committed.
func (s WalkState) seq() int {
	if s.Walk == nil {
		return -1
	}
	return s.Walk.Pages
}

// PlanWalkInput asks for a new walk of one endpoint.
type PlanWalkInput struct {
	WalkID     string `json:"walk_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Endpoint   string `json:"endpoint"`
	Congresses []int  `json:"congresses,omitempty"`
	PageSize   int    `json:"page_size,omitempty"`
	Mode       string `json:"mode,omitempty"`
	// Overlap is how far before the watermark an incremental walk starts,
	// for updates that arrive late. Default DefaultOverlap.
	Overlap time.Duration `json:"overlap,omitempty"`
}

// DefaultOverlap is how far before its watermark an incremental walk
// starts.
const DefaultOverlap = time.Hour

// Ingest modes.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
)

// PlanWalk freezes the window of a new walk (its end is now, truncated to
// the second), plans it and records it in ops.ingest_runs.
//
// In incremental mode it walks what can have changed since the endpoint's
// watermark: a window from the watermark (less the overlap) where the API
// honours windows; otherwise the lists of the congresses that can have
// changed (law: the congresses whose bills changed, and the current one;
// other per-congress lists: the current congress); an endpoint without
// either is walked whole. Without a watermark the walk is full.
func (a *Ingest) PlanWalk(ctx context.Context, in PlanWalkInput) (WalkState, error) {
	a.init()
	ep, ok := congress.EndpointByName(in.Endpoint)
	if !ok {
		return WalkState{}, invalidInput(fmt.Errorf("endpoint %q is not in the registry", in.Endpoint))
	}
	now := a.Now().UTC().Truncate(time.Second)
	opts := ingest.Options{To: now, Limit: in.PageSize, Congresses: in.Congresses}
	mode := cmp.Or(in.Mode, ModeFull)
	if mode == ModeIncremental {
		var err error
		if mode, err = a.incremental(ctx, ep, in, now, &opts); err != nil {
			return WalkState{}, classifyDB(err)
		}
	}
	w, err := ingest.New(ep, opts)
	if err != nil {
		return WalkState{}, invalidInput(err)
	}
	st := WalkState{WalkID: in.WalkID, Mode: mode, Walk: w, Restricted: len(in.Congresses) > 0}
	if err := a.saveRun(ctx, in.WorkflowID, in.RunID, ep, st, store.RunRunning, ""); err != nil {
		return WalkState{}, classifyDB(err)
	}
	return st, nil
}

// incremental narrows opts to what can have changed since the endpoint's
// watermark, and returns the mode the walk runs in: incremental, or full
// when there is no watermark to start from.
func (a *Ingest) incremental(ctx context.Context, ep congress.Endpoint, in PlanWalkInput, now time.Time, opts *ingest.Options) (string, error) {
	marks, err := store.Watermarks(ctx, a.Pool, ep.Name)
	if err != nil {
		return "", err
	}
	overlap := cmp.Or(in.Overlap, DefaultOverlap)
	if len(in.Congresses) > 0 {
		// The walk is per congress: it starts from the oldest of their
		// watermarks (each list's own, or the one across congresses).
		var from time.Time
		for _, c := range in.Congresses {
			m, ok := marks[c]
			if !ok {
				m, ok = marks[0]
			}
			if !ok {
				return ModeFull, nil
			}
			if from.IsZero() || m.Before(from) {
				from = m
			}
		}
		if ep.CongressWindow {
			opts.From = from.Add(-overlap)
		}
		return ModeIncremental, nil
	}
	mark, ok := marks[0]
	if !ok {
		return ModeFull, nil
	}
	switch {
	case ep.Window:
		opts.From = mark.Add(-overlap)
	case ep.CongressPath != "":
		current, err := store.CurrentCongress(ctx, a.Pool)
		if err != nil {
			return "", err
		}
		if current == 0 {
			current = congressAt(now)
		}
		cs := []int{current}
		if ep.Name == "law" {
			// A bill that becomes law changes: the congresses of the bills
			// changed since the watermark are where new laws can be.
			// Bills serve date-only update dates (stored as midnight): count
			// the whole day the window starts in.
			changed, err := store.ChangedCongresses(ctx, a.Pool, mark.Add(-overlap).UTC().Truncate(24*time.Hour))
			if err != nil {
				return "", err
			}
			cs = append(cs, changed...)
		}
		opts.Congresses = cs
	}
	return ModeIncremental, nil
}

// congressAt is the number of the congress sitting at t: a new one begins
// on January 3 of every odd year (the 1st in 1789).
func congressAt(t time.Time) int {
	y := t.Year()
	if y%2 == 1 && t.Before(time.Date(y, 1, 3, 12, 0, 0, 0, time.UTC)) {
		y--
	}
	return (y-1789)/2 + 1
}

// FetchPagesInput is the walk to continue and how far.
type FetchPagesInput struct {
	State      WalkState `json:"state"`
	MaxPages   int       `json:"max_pages,omitempty"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
}

// FetchPagesResult is the walk after this activity's pages.
type FetchPagesResult struct {
	State WalkState `json:"state"`
	// Done is true when the walk has nothing left to fetch.
	Done bool `json:"done"`
	// Pages is the number of pages this call committed.
	Pages int `json:"pages"`
}

// FetchPages continues a walk: it fetches a page, stores it and commits the
// cursor in one transaction, heartbeats the cursor and running totals, and
// repeats up to MaxPages (default 20) pages or until the walk is done. A
// retried attempt resumes from the latest of the input, the last
// heartbeat and the committed cursor, so a killed worker loses at most the
// page in flight. It heartbeats while it waits on the rate budget and
// honours cancellation.
func (a *Ingest) FetchPages(ctx context.Context, in FetchPagesInput) (FetchPagesResult, error) {
	a.init()
	st, err := a.resume(ctx, in.State)
	if err != nil {
		return FetchPagesResult{}, err
	}
	ep, ok := congress.EndpointByName(st.Walk.Endpoint)
	if !ok {
		return FetchPagesResult{}, invalidInput(fmt.Errorf("endpoint %q is not in the registry", st.Walk.Endpoint))
	}
	congressEp, _ := congress.EndpointByName("congress")
	maxPages := cmp.Or(in.MaxPages, DefaultPagesPerActivity)

	hb := newHeartbeater(ctx, st)
	defer hb.stop()
	res := FetchPagesResult{}
	for res.Pages < maxPages {
		req, more := st.Walk.Next(ep)
		if !more {
			break
		}
		target := ep
		if req.Endpoint != ep.Name {
			target = congressEp
		}
		page, err := a.Client.Page(ctx, target, req.Params, req.Offset)
		st.Stats.Requests++
		if a.Metrics != nil {
			a.Metrics.Request(ep.Name, requestResult(err))
		}
		if err != nil {
			return res, a.failed(ctx, hb, st, in, ep, err)
		}
		next, err := a.commit(ctx, st, ep, req, page)
		if err != nil {
			if ctx.Err() != nil {
				a.failRun(ctx, in, ep, st, errors.New("cancelled: the walk stopped at its last committed page"))
				return res, ctx.Err()
			}
			hb.set(st)
			return res, classifyDB(err)
		}
		if a.Metrics != nil {
			a.Metrics.Page(ep.Name, int(next.Stats.Items-st.Stats.Items), next.Stats.Inserted-st.Stats.Inserted,
				next.Stats.Updated-st.Stats.Updated, next.Stats.Unchanged-st.Stats.Unchanged)
		}
		st = next
		st.Failure = FailureState{}
		res.Pages++
		hb.set(st)
	}
	st.Walk.Next(ep) // carry out what needs no request, so Done is exact
	res.State, res.Done = st, st.Walk.Done()
	status := store.RunRunning
	if res.Done {
		status = store.RunCompleted
		if err := store.ForgetSeen(ctx, a.Pool, st.WalkID); err != nil {
			return res, classifyDB(err)
		}
		if res.Pages == 0 {
			// Done without a page in this attempt (a retry after the last
			// commit): the watermark moved with that commit; moving it
			// again is harmless.
			if err := a.advance(ctx, a.Pool, ep, st); err != nil {
				return res, classifyDB(err)
			}
		}
	}
	if err := a.saveRun(ctx, in.WorkflowID, in.RunID, ep, st, status, ""); err != nil {
		return res, classifyDB(err)
	}
	if res.Done {
		count, confirmed, gap, _ := st.Walk.Totals()
		a.Logger.InfoContext(ctx, "ingest: walk done", slog.String("endpoint", ep.Name), slog.String("walk_id", st.WalkID),
			slog.Int64("inserted", st.Stats.Inserted), slog.Int64("updated", st.Stats.Updated), slog.Int64("unchanged", st.Stats.Unchanged),
			slog.Int("requests", st.Stats.Requests), slog.Int("min_requests", st.Walk.MinRequests()),
			slog.Int("count", count), slog.Int("confirmed", confirmed), slog.Int("gap", gap))
	}
	return res, nil
}

// commit stores a page, records the keys an offset walk needs, folds the
// page into the walk and saves the cursor, all in one transaction. It
// returns the state after the page; st is left as it was.
func (a *Ingest) commit(ctx context.Context, st WalkState, ep congress.Endpoint, req ingest.Request, page congress.Page) (WalkState, error) {
	next := st
	next.Walk = st.Walk.Clone()
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var counts store.UpsertCounts
		if req.Store(st.Walk) {
			var err error
			if counts, err = a.Tables.Upsert(ctx, tx, ep.Name, page.Items); err != nil {
				return err
			}
		}
		newKeys := 0
		if req.Scope != 0 {
			var err error
			if newKeys, err = store.RecordSeen(ctx, tx, st.WalkID, req.Scope, keysOf(page.Items)); err != nil {
				return err
			}
		}
		eff, err := next.Walk.Observe(ep, req, page, newKeys)
		if err != nil {
			return err
		}
		if eff.RecordScope != 0 {
			if _, err := store.RecordSeen(ctx, tx, st.WalkID, eff.RecordScope, keysOf(page.Items)); err != nil {
				return err
			}
		}
		next.Stats.Pages++
		if req.Store(st.Walk) {
			next.Stats.Items += int64(len(page.Items) + len(page.Rejected))
			next.Stats.Rejected += int64(len(page.Rejected))
			next.Stats.Inserted += int64(counts.Inserted)
			next.Stats.Updated += int64(counts.Updated)
			next.Stats.Unchanged += int64(counts.Unchanged)
		}
		cursor, err := json.Marshal(next)
		if err != nil {
			return err
		}
		if err := store.SaveCursor(ctx, tx, st.WalkID, ep.Name, next.seq(), cursor); err != nil {
			return err
		}
		if probe := next.Walk.Clone(); probe.Done() || !hasNext(probe, ep) {
			// The walk's last page: its window is complete, and the
			// watermark moves with this page, never before.
			return a.advance(ctx, tx, ep, next)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	return next, nil
}

// hasNext reports whether the walk has another request, carrying out what
// needs none (call it on a clone).
func hasNext(w *ingest.Walk, ep congress.Endpoint) bool {
	_, more := w.Next(ep)
	return more
}

// advance moves the endpoint's watermarks to the end of the walk's window:
// the one across congresses (0), unless the input restricted the walk to
// some congresses, and each congress whose list the walk went through.
func (a *Ingest) advance(ctx context.Context, db store.DBTX, ep congress.Endpoint, st WalkState) error {
	var cs []int
	if !st.Restricted {
		cs = append(cs, 0)
	}
	for _, l := range st.Walk.Lists {
		if l.Congress > 0 {
			cs = append(cs, l.Congress)
		}
	}
	if len(cs) == 0 {
		return nil
	}
	return store.AdvanceWatermarks(ctx, db, ep.Name, cs, st.Walk.To, st.WalkID)
}

func keysOf(items []congress.Item) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}

// resume picks the furthest of the input state, the last heartbeat of a
// previous attempt and the cursor committed in the database.
func (a *Ingest) resume(ctx context.Context, in WalkState) (WalkState, error) {
	if in.Walk == nil {
		return in, invalidInput(errors.New("state: no walk to continue; plan one with PlanWalk"))
	}
	st := in
	if activity.HasHeartbeatDetails(ctx) {
		var hb WalkState
		if err := activity.GetHeartbeatDetails(ctx, &hb); err == nil && hb.Walk != nil && hb.WalkID == in.WalkID && hb.seq() >= st.seq() {
			st = hb
		}
	}
	seq, raw, found, err := store.LoadCursor(ctx, a.Pool, in.WalkID)
	if err != nil {
		return st, classifyDB(err)
	}
	if found && seq > st.seq() {
		var db WalkState
		if err := json.Unmarshal(raw, &db); err != nil {
			return st, fmt.Errorf("read the cursor of walk %s: %w", in.WalkID, err)
		}
		// The committed cursor is newer: the previous attempt died between
		// a commit and its heartbeat. Keep the failure tracking.
		db.Failure = st.Failure
		st = db
	}
	return st, nil
}

// failed heartbeats the state with the failure counted and turns a
// client error into what Temporal should do with it.
func (a *Ingest) failed(ctx context.Context, hb *heartbeater, st WalkState, in FetchPagesInput, ep congress.Endpoint, err error) error {
	if ctx.Err() != nil {
		hb.set(st)
		a.failRun(ctx, in, ep, st, errors.New("cancelled: the walk stopped at its last committed page"))
		return ctx.Err()
	}
	st.Stats.Retries++
	st.Failure.Consecutive++
	now := a.Now()
	var ae *congress.APIError
	errors.As(err, &ae)
	offset := 0
	if ae != nil {
		offset = ae.Offset
	}
	result := func(e error) error {
		hb.set(st)
		a.Logger.WarnContext(ctx, "ingest: page failed", slog.String("endpoint", ep.Name), slog.Int("offset", offset),
			slog.String("error", err.Error()))
		return e
	}
	switch {
	case errors.Is(err, congress.ErrAuth):
		a.failRun(ctx, in, ep, st, err)
		typ := ErrTypeAPIForbidden
		if ae != nil && ae.Code != "" {
			typ = ae.Code
		}
		return result(temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s; set a valid CONGRESS_API_KEY (get one at https://api.congress.gov/sign-up/)", err), typ, nil))
	case errors.Is(err, congress.ErrRateLimited):
		st.Stats.RateLimited++
		delay, _ := congress.RetryAfter(err)
		return result(temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeAPIRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: max(delay, time.Second)}))
	case errors.Is(err, congress.ErrDecode):
		if st.Failure.Seq != st.seq() {
			st.Failure.Seq, st.Failure.Decode = st.seq(), 0
		}
		st.Failure.Decode++
		if st.Failure.Decode >= decodeAttempts {
			a.failRun(ctx, in, ep, st, err)
			return result(temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("%s (failed %d times; the page stays malformed)", err, st.Failure.Decode), ErrTypeAPIDecode, nil))
		}
		return result(temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeAPIDecode,
			temporal.ApplicationErrorOptions{NextRetryDelay: retryDelay(st.Failure.Consecutive)}))
	case errors.Is(err, congress.ErrNotFound):
		a.failRun(ctx, in, ep, st, err)
		return result(temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAPINotFound, nil))
	case errors.Is(err, congress.ErrRequest), errors.Is(err, congress.ErrInvalidParams):
		a.failRun(ctx, in, ep, st, err)
		return result(temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAPIRequest, nil))
	}
	// Server errors, timeouts and network failures: retried with backoff
	// within an outage budget.
	if st.Failure.Since.IsZero() {
		st.Failure.Since = now
	}
	down := now.Sub(st.Failure.Since)
	if unreachable(err) {
		if down > a.UnreachableBudget {
			a.failRun(ctx, in, ep, st, err)
			return result(temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("the Congress.gov API at %s cannot be reached for %s: %s; check CONGRESS_API_BASE_URL and the network",
					a.BaseURL, down.Round(time.Second), err), ErrTypeAPIUnreachable, nil))
		}
		return result(temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeAPIUnreachable,
			temporal.ApplicationErrorOptions{NextRetryDelay: retryDelay(st.Failure.Consecutive)}))
	}
	if down > a.FailingBudget {
		a.failRun(ctx, in, ep, st, err)
		return result(temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the Congress.gov API keeps failing (%s): %s", down.Round(time.Second), err), ErrTypeAPIFailing, nil))
	}
	return result(temporal.NewApplicationErrorWithOptions(err.Error(), apiErrorType(err),
		temporal.ApplicationErrorOptions{NextRetryDelay: retryDelay(st.Failure.Consecutive), Cause: err}))
}

// apiErrorType names a transient API failure for the Web UI and metrics.
func apiErrorType(err error) string {
	switch {
	case errors.Is(err, congress.ErrServer):
		return "APIServerError"
	case errors.Is(err, congress.ErrTimeout):
		return "APITimeout"
	}
	return "APINetworkError"
}

// unreachable reports whether err means the API host could not be reached
// at all: a failed name lookup or a refused connection.
func unreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// failRun records a walk that cannot go on.
func (a *Ingest) failRun(ctx context.Context, in FetchPagesInput, ep congress.Endpoint, st WalkState, cause error) {
	if err := a.saveRun(context.WithoutCancel(ctx), in.WorkflowID, in.RunID, ep, st, store.RunFailed, cause.Error()); err != nil {
		a.Logger.WarnContext(ctx, "ingest: cannot record the failed walk", slog.String("walk_id", st.WalkID), slog.String("error", err.Error()))
	}
}

func (a *Ingest) saveRun(ctx context.Context, workflowID, runID string, ep congress.Endpoint, st WalkState, status, msg string) error {
	count, confirmed, gap, _ := st.Walk.Totals()
	r := store.IngestRun{
		WalkID: st.WalkID, WorkflowID: workflowID, RunID: runID, Endpoint: ep.Name, Mode: st.Mode,
		Congresses: st.Walk.Congresses, WindowTo: st.Walk.To, Status: status,
		Pages: st.Stats.Pages, Items: st.Stats.Items, Inserted: st.Stats.Inserted, Updated: st.Stats.Updated,
		Unchanged: st.Stats.Unchanged, Rejected: st.Stats.Rejected, Requests: st.Stats.Requests,
		MinRequests: st.Walk.MinRequests(), Retries: st.Stats.Retries, Limited: st.Stats.RateLimited,
		Count: int64(count), Confirmed: int64(confirmed), Gap: int64(gap), Error: msg,
	}
	if !st.Walk.From.IsZero() {
		from := st.Walk.From
		r.WindowFrom = &from
	}
	return store.SaveIngestRun(ctx, a.Pool, r)
}

// CountRowsInput names the endpoints whose tables to count.
type CountRowsInput struct {
	Endpoints []string `json:"endpoints"`
}

// CountRows returns the number of rows in each endpoint's table.
func (a *Ingest) CountRows(ctx context.Context, in CountRowsInput) (map[string]int64, error) {
	rows, err := store.TableRows(ctx, a.Pool, in.Endpoints)
	return rows, classifyDB(err)
}

// heartbeater records the latest state as the activity's heartbeat after
// every page and every few seconds in between, so a wait on the rate
// budget or a slow page never looks like a dead worker.
type heartbeater struct {
	ctx    context.Context
	mu     sync.Mutex
	latest WalkState
	done   chan struct{}
	wg     sync.WaitGroup
}

func newHeartbeater(ctx context.Context, st WalkState) *heartbeater {
	h := &heartbeater{ctx: ctx, latest: st.clone(), done: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				h.mu.Lock()
				activity.RecordHeartbeat(ctx, h.latest)
				h.mu.Unlock()
			case <-h.done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return h
}

// set records st (a copy: the caller goes on changing its walk).
func (h *heartbeater) set(st WalkState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = st.clone()
	activity.RecordHeartbeat(h.ctx, h.latest)
}

func (h *heartbeater) stop() {
	close(h.done)
	h.wg.Wait()
}

// clone returns a copy whose walk can be read while the original changes.
func (s WalkState) clone() WalkState {
	if s.Walk != nil {
		s.Walk = s.Walk.Clone()
	}
	return s
}
