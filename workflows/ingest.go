package workflows

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/strictjson"
)

// DefaultEndpoints are the endpoints an ingest walks when its input names
// none.
var DefaultEndpoints = []string{
	"bill", "amendment", "summaries", "member", "committee", "committee-report",
	"nomination", "treaty", "law", "hearing", "house-vote", "congress",
}

// AllEndpoints, as the only name in IngestInput.Endpoints, walks every
// endpoint of the registry.
const AllEndpoints = "all"

// Ingest input bounds and defaults.
const (
	DefaultMaxParallel = 4
	maxMaxParallel     = 32
	maxPagesPerCall    = 1000
	maxCongress        = 200
)

// IngestInput is the input of [IngestWorkflow]. The zero value is valid: a
// full walk of every default endpoint.
type IngestInput struct {
	// Endpoints to walk, by registry name ("bill", "house-vote"), or
	// ["all"] for every registry endpoint. Default: DefaultEndpoints.
	Endpoints []string `json:"endpoints,omitempty"`
	// Congress restricts the walk to these congresses: a number or a list
	// (118 or [117, 118]). Endpoints without per-congress lists (congress)
	// are walked whole. Default: all congresses.
	Congress Congresses `json:"congress,omitempty"`
	// PageSize is the page size asked of the API, 1..250. Default 250.
	PageSize int `json:"page_size,omitempty"`
	// PagesPerActivity is how many pages one FetchPages activity walks
	// before it reports back, 1..1000. Default 20.
	PagesPerActivity int `json:"pages_per_activity,omitempty"`
	// MaxParallel bounds the endpoints walked at once, 1..32. Default 4.
	MaxParallel int `json:"max_parallel,omitempty"`
	// Mode is full (walk everything) or incremental (what changed since
	// the last walk). Default full.
	Mode string `json:"mode,omitempty"`
	// Overlap is how far before its watermark an incremental walk starts,
	// for updates that arrive late: a Go duration such as "1h". Default
	// 1h.
	Overlap string `json:"overlap,omitempty"`
	// problems is what decoding found wrong (see input.go).
	problems strictjson.Problems
}

// Congresses is a list of congress numbers that also reads a single
// number: "congress": 118 or "congress": [117, 118].
type Congresses []int

// UnmarshalJSON reads a number or a list of numbers. Anything else is
// kept out of the list and reported by Validate, so decoding never fails.
func (c *Congresses) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*c = Congresses{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err == nil {
		*c = many
		return nil
	}
	*c = Congresses{notACongress}
	return nil
}

// notACongress stands for a congress value that is neither a number nor a
// list of numbers; Validate reports it.
const notACongress = -1

func (in IngestInput) endpoints() []string {
	switch {
	case len(in.Endpoints) == 0:
		return slices.Clone(DefaultEndpoints)
	case len(in.Endpoints) == 1 && in.Endpoints[0] == AllEndpoints:
		var all []string
		for _, ep := range congress.Endpoints() {
			all = append(all, ep.Name)
		}
		return all
	}
	var out []string
	for _, e := range in.Endpoints {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func (in IngestInput) maxParallel() int { return cmp.Or(in.MaxParallel, DefaultMaxParallel) }

func (in IngestInput) mode() string { return cmp.Or(in.Mode, activities.ModeFull) }

// Validate checks the input and returns every problem, each naming its
// field.
func (in IngestInput) Validate() error {
	if err := in.problems.Err(); err != nil {
		return err
	}
	var errs []error
	known := make([]string, 0, 24)
	for _, ep := range congress.Endpoints() {
		known = append(known, ep.Name)
	}
	for _, e := range in.Endpoints {
		if e == AllEndpoints && len(in.Endpoints) == 1 {
			continue
		}
		if !slices.Contains(known, e) {
			msg := fmt.Sprintf("endpoints: unknown endpoint %q", e)
			if near := closest(e, known); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			errs = append(errs, errors.New(msg+" (known: "+strings.Join(known, ", ")+", or [\"all\"])"))
		}
	}
	for _, c := range in.Congress {
		if c == notACongress {
			errs = append(errs, errors.New("congress: give a congress number such as 118 or a list such as [117, 118]"))
			break
		}
		if c < 1 || c > maxCongress {
			errs = append(errs, fmt.Errorf("congress: %d is not a congress number; give a number such as 118 or a list such as [117, 118]", c))
			break
		}
	}
	if len(in.Congress) > 0 {
		for _, e := range in.endpoints() {
			if ep, ok := congress.EndpointByName(e); ok && ep.CongressPath == "" && ep.Path == "" {
				errs = append(errs, fmt.Errorf("congress: %s cannot be restricted to congresses", e))
			}
		}
	}
	if in.PageSize < 0 || in.PageSize > congress.MaxLimit {
		errs = append(errs, fmt.Errorf("page_size: %d is out of range; the API serves 1..%d items a page (0 for %d)", in.PageSize, congress.MaxLimit, congress.MaxLimit))
	}
	if in.PagesPerActivity < 0 || in.PagesPerActivity > maxPagesPerCall {
		errs = append(errs, fmt.Errorf("pages_per_activity: %d is out of range 1..%d (0 for %d)", in.PagesPerActivity, maxPagesPerCall, activities.DefaultPagesPerActivity))
	}
	if in.MaxParallel < 0 || in.MaxParallel > maxMaxParallel {
		errs = append(errs, fmt.Errorf("max_parallel: %d is out of range 1..%d (0 for %d)", in.MaxParallel, maxMaxParallel, DefaultMaxParallel))
	}
	if m := in.Mode; m != "" && m != activities.ModeFull && m != activities.ModeIncremental {
		errs = append(errs, fmt.Errorf("mode: %q is not a mode; use %q or %q", m, activities.ModeFull, activities.ModeIncremental))
	}
	if in.Overlap != "" {
		if d, err := time.ParseDuration(in.Overlap); err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("overlap: %q is not a duration such as 1h or 30m", in.Overlap))
		}
	}
	return joinInputErrors(errs...)
}

func (in IngestInput) overlap() time.Duration {
	d, _ := time.ParseDuration(in.Overlap)
	return d
}

// dependsOn names the endpoint whose walk must end before name's begins in
// this run's mode, or "": an incremental law walk looks up the congresses
// whose bills the bill walk found changed.
func dependsOn(name, mode string) string {
	if name == "law" && mode == activities.ModeIncremental {
		return "bill"
	}
	return ""
}

// IngestEndpointInput is the input of [IngestEndpointWorkflow]. IngestWorkflow
// fills it; State is set only when a walk continues as new.
type IngestEndpointInput struct {
	Endpoint         string `json:"endpoint"`
	Congresses       []int  `json:"congresses,omitempty"`
	PageSize         int    `json:"page_size,omitempty"`
	PagesPerActivity int    `json:"pages_per_activity,omitempty"`
	Mode             string `json:"mode,omitempty"`
	// Overlap is how far before its watermark an incremental walk starts.
	Overlap time.Duration `json:"overlap,omitempty"`
	// State is the walk carried over by continue-as-new.
	State *activities.WalkState `json:"state,omitempty"`
	// StartedAt is when the walk began, carried over by continue-as-new.
	StartedAt time.Time `json:"started_at,omitzero"`
	// problems is what decoding found wrong (see input.go).
	problems strictjson.Problems
}

// Validate checks the input.
func (in IngestEndpointInput) Validate() error {
	if err := in.problems.Err(); err != nil {
		return err
	}
	var errs []error
	if _, ok := congress.EndpointByName(in.Endpoint); !ok {
		errs = append(errs, fmt.Errorf("endpoint: unknown endpoint %q", in.Endpoint))
	}
	errs = append(errs, IngestInput{PageSize: in.PageSize, PagesPerActivity: in.PagesPerActivity, Mode: in.Mode, Congress: in.Congresses}.Validate())
	return joinInputErrors(errs...)
}

// Endpoint walk statuses, as progress reports them.
const (
	StatusPending = "pending"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// EndpointProgress is where one endpoint's walk stands. IngestEndpointWorkflow
// answers it to the progress query, sends it to its parent after each
// activity, and returns it as its result.
type EndpointProgress struct {
	// Summary says it in one line.
	Summary    string `json:"summary"`
	Endpoint   string `json:"endpoint"`
	WorkflowID string `json:"workflow_id,omitempty"`
	WalkID     string `json:"walk_id,omitempty"`
	Status     string `json:"status"`
	Mode       string `json:"mode,omitempty"`
	// WindowFrom and WindowTo are the frozen window (From zero: from the
	// beginning).
	WindowFrom time.Time `json:"window_from,omitzero"`
	WindowTo   time.Time `json:"window_to,omitzero"`
	activities.IngestStats
	// MinRequests is the fewest requests the lists walked allow:
	// ceil(count/250) per list the API forces, at least one.
	MinRequests int `json:"min_requests"`
	// Count is what the lists' first pages reported; Confirmed the items
	// the walk confirmed; Gap what it could not find.
	Count     int `json:"count"`
	Confirmed int `json:"confirmed"`
	Gap       int `json:"gap"`
	// Lists is the number of lists walked (one per congress for law).
	Lists int `json:"lists"`
	// Rate is confirmed items per second so far; ETASeconds the time left
	// at that rate (0 when unknown).
	Rate       float64   `json:"rate"`
	ETASeconds float64   `json:"eta_seconds,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	Error      string    `json:"error,omitempty"`
}

func (p *EndpointProgress) update(st activities.WalkState, now time.Time) {
	p.WalkID, p.Mode, p.IngestStats = st.WalkID, st.Mode, st.Stats
	p.WindowFrom, p.WindowTo = st.Walk.From, st.Walk.To
	p.Count, p.Confirmed, p.Gap, _ = st.Walk.Totals()
	p.MinRequests, p.Lists = st.Walk.MinRequests(), len(st.Walk.Lists)
	p.UpdatedAt = now
	p.Rate, p.ETASeconds = 0, 0
	if secs := now.Sub(p.StartedAt).Seconds(); secs > 0 && p.Confirmed > 0 {
		p.Rate = float64(p.Confirmed) / secs
		if left := p.Count - p.Confirmed; left > 0 && p.Status == StatusRunning {
			p.ETASeconds = float64(left) / p.Rate
		}
	}
	p.Summary = p.line()
}

// line is the progress in one line.
func (p EndpointProgress) line() string {
	switch p.Status {
	case StatusPending:
		return p.Endpoint + ": pending"
	case StatusFailed:
		return p.Endpoint + ": failed: " + p.Error
	}
	if p.Status == StatusRunning && p.Pages == 0 {
		return p.Endpoint + ": starting"
	}
	s := fmt.Sprintf("%s: %s items (%d inserted, %d updated, %d unchanged), %d requests (minimum %d)",
		p.Endpoint, thousands(int64(p.Confirmed)), p.Inserted, p.Updated, p.Unchanged, p.Requests, p.MinRequests)
	if p.Status == StatusRunning {
		s = fmt.Sprintf("%s: %s items so far, %d requests", p.Endpoint, thousands(int64(p.Confirmed)), p.Requests)
	}
	if p.Status == StatusRunning && p.Count > 0 {
		s = fmt.Sprintf("%s: %s of %s items, %d requests", p.Endpoint, thousands(int64(p.Confirmed)), thousands(int64(p.Count)), p.Requests)
		if p.Rate > 0 {
			s += fmt.Sprintf(", %.0f/s", p.Rate)
		}
		if p.ETASeconds > 0 {
			s += ", ETA " + (time.Duration(p.ETASeconds) * time.Second).String()
		}
	}
	if p.Gap > 0 {
		s += fmt.Sprintf("; %d promised by the count not found", p.Gap)
	}
	return s
}

// SignalIngestProgress carries an EndpointProgress from an endpoint walk
// to its parent IngestWorkflow.
const SignalIngestProgress = "ingest-progress"

// ingestRetry is the retry policy of the ingest activities: transient API
// and database failures are retried with backoff for as long as the
// activity's own outage budgets allow; the rest fail at once.
func ingestRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
		NonRetryableErrorTypes: []string{
			activities.ErrTypeInvalidInput, activities.ErrTypePermission,
			activities.ErrTypeAPIUnreachable, activities.ErrTypeAPIFailing, activities.ErrTypeAPINotFound,
			activities.ErrTypeAPIRequest, activities.ErrTypeAPIForbidden,
			congress.CodeAPIKeyInvalid, congress.CodeAPIKeyMissing, congress.CodeAPIKeyDisabled,
			congress.CodeAPIKeyUnauthorized, congress.CodeAPIKeyUnverified,
		},
	}
}

// IngestEndpointWorkflow walks one endpoint completely: it plans the walk
// (freezing its window), then runs FetchPages activities that each carry
// the cursor on by up to PagesPerActivity pages, until the walk is done. It
// continues as new when the history grows large, carrying the cursor and
// totals, and answers the progress query at any time.
func IngestEndpointWorkflow(ctx workflow.Context, in IngestEndpointInput) (EndpointProgress, error) {
	info := workflow.GetInfo(ctx)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		// A dead worker is noticed within half a minute; FetchPages
		// heartbeats every few seconds, also while it waits.
		HeartbeatTimeout: 30 * time.Second,
		RetryPolicy:      ingestRetry(),
	})
	progress := EndpointProgress{Endpoint: in.Endpoint, WorkflowID: info.WorkflowExecution.ID, Status: StatusRunning,
		StartedAt: in.StartedAt}
	if progress.StartedAt.IsZero() {
		progress.StartedAt = workflow.Now(ctx)
	}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (EndpointProgress, error) { return progress, nil }); err != nil {
		return progress, err
	}
	if err := in.Validate(); err != nil {
		return progress, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	var a *activities.Ingest
	fail := func(err error) (EndpointProgress, error) {
		progress.Status, progress.Error = StatusFailed, oneLine(err)
		progress.Summary = progress.line()
		workflow.SetCurrentDetails(ctx, "✗ "+progress.Summary)
		notifyParent(ctx, progress)
		return progress, err
	}

	state := in.State
	if state == nil {
		pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute, RetryPolicy: ingestRetry(),
			Summary: in.Endpoint + ": freeze the window and plan the walk",
		})
		var st activities.WalkState
		if err := workflow.ExecuteActivity(pctx, a.PlanWalk, activities.PlanWalkInput{
			WalkID: info.WorkflowExecution.RunID, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
			Endpoint: in.Endpoint, Congresses: in.Congresses, PageSize: in.PageSize, Mode: in.Mode, Overlap: in.Overlap,
		}).Get(ctx, &st); err != nil {
			return fail(fmt.Errorf("plan %s: %w", in.Endpoint, err))
		}
		state = &st
	}
	progress.update(*state, workflow.Now(ctx))
	workflow.SetCurrentDetails(ctx, "▶ "+progress.Summary)

	for {
		fctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 30 * time.Second, RetryPolicy: ingestRetry(),
			Summary: fmt.Sprintf("%s: pages %d–%d", in.Endpoint, state.Stats.Pages+1,
				state.Stats.Pages+cmp.Or(in.PagesPerActivity, activities.DefaultPagesPerActivity)),
		})
		var res activities.FetchPagesResult
		if err := workflow.ExecuteActivity(fctx, a.FetchPages, activities.FetchPagesInput{
			State: *state, MaxPages: in.PagesPerActivity,
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		}).Get(ctx, &res); err != nil {
			return fail(fmt.Errorf("%s: %w", in.Endpoint, err))
		}
		state = &res.State
		if res.Done {
			progress.Status = StatusDone
		}
		progress.update(*state, workflow.Now(ctx))
		marker := "▶ "
		if res.Done {
			marker = "✓ "
		}
		workflow.SetCurrentDetails(ctx, marker+progress.Summary)
		notifyParent(ctx, progress)
		if res.Done {
			return progress, nil
		}
		if info.GetContinueAsNewSuggested() {
			next := in
			next.State, next.StartedAt = state, progress.StartedAt
			return progress, workflow.NewContinueAsNewError(ctx, IngestEndpointWorkflow, next)
		}
	}
}

// notifyParent sends progress to the IngestWorkflow that started this walk,
// if any. A parent that is gone is no reason to stop.
func notifyParent(ctx workflow.Context, p EndpointProgress) {
	parent := workflow.GetInfo(ctx).ParentWorkflowExecution
	if parent == nil {
		return
	}
	_ = workflow.SignalExternalWorkflow(ctx, parent.ID, "", SignalIngestProgress, p).Get(ctx, nil)
}

// IngestResult is the result of [IngestWorkflow].
type IngestResult struct {
	// Summary says what happened in one line.
	Summary string `json:"summary"`
	// Endpoints is each endpoint's walk, in input order.
	Endpoints []EndpointProgress `json:"endpoints"`
	// Rows is the number of rows in each endpoint's table afterwards.
	Rows []TableRows `json:"rows"`
	// Totals over all endpoints.
	Items       int64 `json:"items"`
	Inserted    int64 `json:"inserted"`
	Updated     int64 `json:"updated"`
	Unchanged   int64 `json:"unchanged"`
	Requests    int   `json:"requests"`
	MinRequests int   `json:"min_requests"`
	Retries     int   `json:"retries"`
	RateLimited int   `json:"rate_limited"`
	// Failed names the endpoints whose walk failed.
	Failed []string `json:"failed,omitempty"`
}

// TableRows is the row count of one endpoint's table.
type TableRows struct {
	Endpoint string `json:"endpoint"`
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
}

// IngestProgress answers IngestWorkflow's progress query.
type IngestProgress struct {
	Summary   string             `json:"summary"`
	Endpoints []EndpointProgress `json:"endpoints"`
}

// IngestWorkflow ingests Congress.gov endpoints into schema congress: one
// child IngestEndpointWorkflow per endpoint, at most MaxParallel at once,
// with IDs derived from its own. Children report progress by signal, so
// its progress query and the Web UI show every endpoint live. A rejected
// API key stops everything at once; other failures let the remaining
// endpoints finish and fail the run at the end, naming them.
func IngestWorkflow(ctx workflow.Context, in IngestInput) (IngestResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute, RetryPolicy: ingestRetry(),
	})
	res := IngestResult{Endpoints: []EndpointProgress{}, Rows: []TableRows{}}
	if err := in.Validate(); err != nil {
		return res, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeInvalidInput, nil)
	}
	info := workflow.GetInfo(ctx)
	names := in.endpoints()
	prog := make([]EndpointProgress, len(names))
	for i, n := range names {
		prog[i] = EndpointProgress{Endpoint: n, Status: StatusPending, WorkflowID: info.WorkflowExecution.ID + "-" + n}
		prog[i].Summary = prog[i].line()
	}
	snapshot := func() IngestProgress {
		return IngestProgress{Summary: ingestSummary(prog), Endpoints: slices.Clone(prog)}
	}
	if err := workflow.SetQueryHandler(ctx, config.QueryProgress, func() (IngestProgress, error) { return snapshot(), nil }); err != nil {
		return res, err
	}
	show := func() { workflow.SetCurrentDetails(ctx, ingestMarkdown(prog)) }
	show()

	// Progress signals from the children.
	signals := workflow.GetSignalChannel(ctx, SignalIngestProgress)
	absorb := func(p EndpointProgress) {
		for i := range prog {
			// A walk that has ended keeps its final result.
			if prog[i].Endpoint == p.Endpoint && prog[i].Status == StatusRunning {
				prog[i] = p
			}
		}
	}

	cctx, cancelChildren := workflow.WithCancel(ctx)
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(signals, func(c workflow.ReceiveChannel, _ bool) {
		var p EndpointProgress
		c.Receive(ctx, &p)
		absorb(p)
		show()
	})
	running, next := 0, 0
	var fatal *temporal.ApplicationError
	start := func(i int) {
		n := names[i]
		opts := workflow.ChildWorkflowOptions{
			WorkflowID:    prog[i].WorkflowID,
			StaticSummary: "ingest " + n,
		}
		child := workflow.ExecuteChildWorkflow(workflow.WithChildOptions(cctx, opts), IngestEndpointWorkflow, IngestEndpointInput{
			Endpoint: n, Congresses: in.Congress, PageSize: in.PageSize, PagesPerActivity: in.PagesPerActivity, Mode: in.mode(),
			Overlap: in.overlap(),
		})
		prog[i].Status = StatusRunning
		prog[i].Summary = prog[i].line()
		running++
		sel.AddFuture(child, func(f workflow.Future) {
			running--
			var p EndpointProgress
			err := f.Get(ctx, &p)
			if err != nil {
				prog[i].Status, prog[i].Error = StatusFailed, rootMessage(err)
				prog[i].Summary = prog[i].line()
				if ae := keyRejected(err); fatal == nil && ae != nil {
					fatal = ae
					cancelChildren()
				}
			} else {
				prog[i] = p
			}
			show()
		})
	}
	started := make([]bool, len(names))
	// ready reports whether endpoint i may start: what it depends on in
	// this run has ended.
	ready := func(i int) bool {
		dep := dependsOn(names[i], in.mode())
		for j, n := range names {
			if n == dep && prog[j].Status != StatusDone && prog[j].Status != StatusFailed {
				return false
			}
		}
		return true
	}
	for next < len(names) || running > 0 {
		for i := 0; fatal == nil && running < in.maxParallel() && i < len(names); i++ {
			if !started[i] && ready(i) {
				started[i] = true
				start(i)
				next++
			}
		}
		show()
		if running == 0 {
			break
		}
		sel.Select(ctx)
	}
	// Progress signals still queued are stale: every child has ended.
	for signals.ReceiveAsync(nil) {
	}

	res.Endpoints = prog
	for _, p := range prog {
		res.Items += int64(p.Confirmed)
		res.Inserted += p.Inserted
		res.Updated += p.Updated
		res.Unchanged += p.Unchanged
		res.Requests += p.Requests
		res.MinRequests += p.MinRequests
		res.Retries += p.Retries
		res.RateLimited += p.RateLimited
		if p.Status != StatusDone {
			res.Failed = append(res.Failed, p.Endpoint)
		}
	}
	if fatal != nil {
		res.Summary = "stopped: the API rejected the key: " + oneLine(fatal)
		return res, temporal.NewNonRetryableApplicationError(res.Summary, fatal.Type(), nil)
	}

	var rows map[string]int64
	rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute, RetryPolicy: ingestRetry(), Summary: "count rows per table",
	})
	var a *activities.Ingest
	if err := workflow.ExecuteActivity(rctx, a.CountRows, activities.CountRowsInput{Endpoints: names}).Get(ctx, &rows); err != nil {
		return res, fmt.Errorf("count rows: %w", err)
	}
	for _, n := range names {
		res.Rows = append(res.Rows, TableRows{Endpoint: n, Table: "congress." + strings.ReplaceAll(n, "-", "_"), Rows: rows[n]})
	}
	res.Summary = ingestResultSummary(res)
	show()
	if len(res.Failed) > 0 {
		// The failure names what went wrong where, not only which walks
		// failed: it is all a user sees of the run at first.
		msg := res.Summary
		for _, p := range prog {
			if p.Status != StatusDone && p.Error != "" {
				msg += "; " + p.Endpoint + ": " + p.Error
			}
		}
		return res, temporal.NewNonRetryableApplicationError(msg, "IngestFailed", nil)
	}
	return res, nil
}

// keyRejected returns the error that says the API refused the key, if err
// carries one: no other endpoint can get further.
func keyRejected(err error) *temporal.ApplicationError {
	for e := err; e != nil; e = errors.Unwrap(e) {
		var ae *temporal.ApplicationError
		if errors.As(e, &ae) {
			if strings.HasPrefix(ae.Type(), "API_KEY_") || ae.Type() == activities.ErrTypeAPIForbidden {
				return ae
			}
			e = ae
		}
	}
	return nil
}

func ingestSummary(prog []EndpointProgress) string {
	done, items, requests := 0, 0, 0
	for _, p := range prog {
		if p.Status == StatusDone {
			done++
		}
		items += p.Confirmed
		requests += p.Requests
	}
	return fmt.Sprintf("%d of %d endpoints done, %s items, %d requests", done, len(prog), thousands(int64(items)), requests)
}

func ingestResultSummary(r IngestResult) string {
	s := fmt.Sprintf("ingested %d endpoints: %s items (%d inserted, %d updated, %d unchanged) with %d requests (minimum %d",
		len(r.Endpoints), thousands(r.Items), r.Inserted, r.Updated, r.Unchanged, r.Requests, r.MinRequests)
	if r.MinRequests > 0 {
		s += fmt.Sprintf(", ratio %.2f", float64(r.Requests)/float64(r.MinRequests))
	}
	s += ")"
	if r.Retries > 0 {
		s += fmt.Sprintf(", %d retried (%d rate-limited)", r.Retries, r.RateLimited)
	}
	if len(r.Failed) > 0 {
		s += "; failed: " + strings.Join(r.Failed, ", ")
	}
	return s
}

// ingestMarkdown is the per-endpoint view the Web UI shows in the
// workflow's current details.
func ingestMarkdown(prog []EndpointProgress) string {
	var b strings.Builder
	b.WriteString("**ingest**: " + ingestSummary(prog) + "\n\n")
	for _, p := range prog {
		marker := "·"
		switch p.Status {
		case StatusDone:
			marker = "✓"
		case StatusRunning:
			marker = "▶"
		case StatusFailed:
			marker = "✗"
		}
		b.WriteString(marker + " " + p.Summary + "\n\n")
	}
	return b.String()
}

// oneLine is an error message on one line.
// rootMessage is the message of the innermost application error in
// err, on one line: the cause a user can act on ("congress hearing
// /hearing offset 245: undecodable response ...") without the child
// workflow and activity wrappers around it. Without one it is err's text.
func rootMessage(err error) string {
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		var ae *temporal.ApplicationError
		if !errors.As(e, &ae) {
			break
		}
		msg, e = ae.Message(), ae
	}
	return oneLine(errors.New(msg))
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// closest returns the candidate nearest to s by edit distance, if it is
// near enough to be a likely misspelling.
func closest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(s)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
