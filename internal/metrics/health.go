package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/opendiscourse/congressflow/internal/logging"
)

// checkTimeout bounds each dependency check of /healthz, so a hung
// database answers 503 within a few seconds instead of hanging the probe.
const checkTimeout = 3 * time.Second

// Health answers /healthz: 200 while the worker polls its task queue and
// every check (the database, Temporal) passes, 503 otherwise, with a JSON
// body naming each check's state. The zero value is ready to use and
// unhealthy until [Health.SetPolling] is called with true.
type Health struct {
	mu      sync.Mutex
	polling bool
	why     string
	checks  []healthCheck
}

type healthCheck struct {
	name string
	fn   func(context.Context) error
}

// HealthReport is the body /healthz answers.
type HealthReport struct {
	// Status is ok or unavailable.
	Status string `json:"status"`
	// Checks holds each check's state: "ok", or why it failed.
	Checks map[string]string `json:"checks"`
}

// Health statuses.
const (
	StatusOK          = "ok"
	StatusUnavailable = "unavailable"
)

// SetPolling records whether the worker polls its task queue; why says
// what it does instead when it does not (starting, stopped, a fatal error).
func (h *Health) SetPolling(polling bool, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.polling, h.why = polling, why
}

// AddCheck adds a dependency check; fn's error, on one line, is what
// /healthz shows for it. It must not contain secrets.
func (h *Health) AddCheck(name string, fn func(context.Context) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks = append(h.checks, healthCheck{name: name, fn: fn})
}

// Check runs every check and reports.
func (h *Health) Check(ctx context.Context) HealthReport {
	h.mu.Lock()
	polling, why, checks := h.polling, h.why, append([]healthCheck(nil), h.checks...)
	h.mu.Unlock()
	r := HealthReport{Status: StatusOK, Checks: map[string]string{"worker": "polling"}}
	if !polling {
		r.Status, r.Checks["worker"] = StatusUnavailable, why
		if why == "" {
			r.Checks["worker"] = "not polling"
		}
	}
	type result struct{ name, state string }
	results := make(chan result, len(checks))
	for _, c := range checks {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			state := StatusOK
			if err := c.fn(cctx); err != nil {
				state = logging.OneLine(err)
			}
			results <- result{c.name, state}
		}()
	}
	for range checks {
		res := <-results
		r.Checks[res.name] = res.state
		if res.state != StatusOK {
			r.Status = StatusUnavailable
		}
	}
	return r
}

// ServeHTTP answers 200 with the report when healthy, 503 otherwise.
func (h *Health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := h.Check(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if rep.Status != StatusOK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}
