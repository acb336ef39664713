package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Result is one claim's measurement: the median ratio of ours against the
// baseline over Runs runs, the absolute medians beside it, and the target.
type Result struct {
	// ID orders the results ("P1", "P2a"...).
	ID   string `json:"id"`
	Name string `json:"name"`
	// Ratio is the median ratio; Target the bound it must meet: at least
	// Target when AtLeast, else at most Target.
	Ratio   float64 `json:"ratio"`
	Target  float64 `json:"target"`
	AtLeast bool    `json:"at_least"`
	// Ours and Baseline are the absolute medians, with units.
	Ours     string `json:"ours"`
	Baseline string `json:"baseline"`
	// Runs is the number of runs; Samples each run's ratio.
	Runs    int       `json:"runs"`
	Samples []float64 `json:"samples"`
	// Settings are the parameters the measurement ran with.
	Settings string `json:"settings,omitempty"`
	// Note explains the ratio's direction or a bound.
	Note string `json:"note,omitempty"`
}

// Met reports whether the ratio meets the target.
func (r Result) Met() bool {
	if r.AtLeast {
		return r.Ratio >= r.Target
	}
	return r.Ratio <= r.Target
}

// TargetText is the target as "≥ 0.90" or "≤ 1.25".
func (r Result) TargetText() string {
	if r.AtLeast {
		return fmt.Sprintf("≥ %.2f", r.Target)
	}
	return fmt.Sprintf("≤ %.2f", r.Target)
}

// Status is "ok" or "MISSED".
func (r Result) Status() string {
	if r.Met() {
		return "ok"
	}
	return "MISSED"
}

// Write stores r as <dir>/<id>.json.
func (r Result) Write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, strings.ToLower(r.ID)+".json"), b, 0o644)
}

// ReadResults reads every result in dir, ordered by ID.
func ReadResults(dir string) ([]Result, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Result) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Median returns the median of xs (the mean of the middle two for an even
// count); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// MedianDuration returns the median of ds.
func MedianDuration(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(Median(xs))
}

// Table renders results as a Markdown table.
func Table(results []Result) string {
	var b strings.Builder
	b.WriteString("| claim | ratio (median) | target | status | ours | baseline | runs (ratios) |\n")
	b.WriteString("|---|---:|---|---|---|---|---|\n")
	for _, r := range results {
		samples := make([]string, len(r.Samples))
		for i, s := range r.Samples {
			samples[i] = fmt.Sprintf("%.2f", s)
		}
		status := r.Status()
		if !r.Met() {
			status = fmt.Sprintf("**MISSED** (%.2f)", r.Ratio)
		}
		fmt.Fprintf(&b, "| %s %s | %.2f | %s | %s | %s | %s | %d (%s) |\n", r.ID, r.Name, r.Ratio, r.TargetText(), status,
			r.Ours, r.Baseline, r.Runs, strings.Join(samples, ", "))
	}
	return b.String()
}
