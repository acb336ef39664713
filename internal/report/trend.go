package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opendiscourse/congressflow/internal/store"
)

// maxTrendPoints bounds the size timeline of a trend.
const maxTrendPoints = 12

// Trend compares the reports stored since a time: how the database and
// each table grew, and how fast each endpoint was walked.
type Trend struct {
	Since time.Time `json:"since"`
	// Reports counts the stored reports in the period.
	Reports int `json:"reports"`
	// Points is the size timeline: the first and last report and evenly
	// spaced ones between, at most 12.
	Points []TrendPoint `json:"points"`
	// Tables is each table's growth from its first report to its last in
	// the period, largest growth first.
	Tables []TableTrend `json:"tables"`
	// Ingest is each endpoint's completed walks that started in the
	// period, with their rates.
	Ingest []IngestTrend `json:"ingest"`
}

// TrendPoint is one report's sizes.
type TrendPoint struct {
	At            time.Time `json:"at"`
	DatabaseBytes int64     `json:"database_bytes"`
	SchemaBytes   int64     `json:"schema_bytes"`
	RowEstimate   int64     `json:"row_estimate"`
}

// TableTrend is one table's growth.
type TableTrend struct {
	Name        string  `json:"name"`
	FirstBytes  int64   `json:"first_bytes"`
	LastBytes   int64   `json:"last_bytes"`
	ChangeBytes int64   `json:"change_bytes"`
	BytesPerDay float64 `json:"bytes_per_day"`
	FirstRows   int64   `json:"first_rows"`
	LastRows    int64   `json:"last_rows"`
}

// IngestTrend is the rates of an endpoint's walks in the period, in
// items per second.
type IngestTrend struct {
	Endpoint string  `json:"endpoint"`
	Walks    int     `json:"walks"`
	First    float64 `json:"first_items_per_second"`
	Last     float64 `json:"last_items_per_second"`
	Min      float64 `json:"min_items_per_second"`
	Median   float64 `json:"median_items_per_second"`
	Max      float64 `json:"max_items_per_second"`
}

// trendReport is the part of a stored report a trend reads.
type trendReport struct {
	Sizes  Sizes `json:"sizes"`
	Tables []struct {
		Name        string `json:"name"`
		TotalBytes  int64  `json:"total_bytes"`
		RowEstimate int64  `json:"row_estimate"`
	} `json:"tables"`
	Ingest []IngestRun `json:"ingest"`
}

// BuildTrend compares stored reports (oldest first, as
// [store.ReportsSince] returns them) collected since the given time.
func BuildTrend(since time.Time, reports []store.StoredReport) (Trend, error) {
	t := Trend{Since: since.UTC(), Reports: len(reports), Points: []TrendPoint{}, Tables: []TableTrend{}, Ingest: []IngestTrend{}}
	type tableSeen struct {
		first, last         int64
		firstRows, lastRows int64
		firstAt, lastAt     time.Time
	}
	tables := map[string]*tableSeen{}
	walks := map[string]IngestRun{}
	for i, sr := range reports {
		var tr trendReport
		if err := json.Unmarshal(sr.Report, &tr); err != nil {
			return t, fmt.Errorf("read stored report %d: %w", sr.ID, err)
		}
		if keepPoint(i, len(reports)) {
			t.Points = append(t.Points, TrendPoint{At: sr.CollectedAt.UTC(), DatabaseBytes: sr.DatabaseBytes,
				SchemaBytes: sr.CongressBytes, RowEstimate: tr.Sizes.RowEstimate})
		}
		for _, tb := range tr.Tables {
			s, ok := tables[tb.Name]
			if !ok {
				s = &tableSeen{first: tb.TotalBytes, firstRows: tb.RowEstimate, firstAt: sr.CollectedAt}
				tables[tb.Name] = s
			}
			s.last, s.lastRows, s.lastAt = tb.TotalBytes, tb.RowEstimate, sr.CollectedAt
		}
		for _, in := range tr.Ingest {
			if !in.StartedAt.Before(since) {
				walks[in.WalkID] = in // the latest view of each walk
			}
		}
	}
	for name, s := range tables {
		tt := TableTrend{Name: name, FirstBytes: s.first, LastBytes: s.last, ChangeBytes: s.last - s.first,
			FirstRows: s.firstRows, LastRows: s.lastRows}
		if days := s.lastAt.Sub(s.firstAt).Hours() / 24; days > 0 {
			tt.BytesPerDay = math.Round(float64(tt.ChangeBytes) / days)
		}
		t.Tables = append(t.Tables, tt)
	}
	slices.SortFunc(t.Tables, func(a, b TableTrend) int {
		if a.ChangeBytes != b.ChangeBytes {
			return cmpInt64(b.ChangeBytes, a.ChangeBytes)
		}
		return strings.Compare(a.Name, b.Name)
	})
	byEndpoint := map[string][]IngestRun{}
	for _, w := range walks {
		if w.Status == store.RunCompleted {
			byEndpoint[w.Endpoint] = append(byEndpoint[w.Endpoint], w)
		}
	}
	for ep, ws := range byEndpoint {
		slices.SortFunc(ws, func(a, b IngestRun) int { return a.StartedAt.Compare(b.StartedAt) })
		rates := make([]float64, len(ws))
		for i, w := range ws {
			rates[i] = w.ItemsPerSecond
		}
		it := IngestTrend{Endpoint: ep, Walks: len(ws), First: rates[0], Last: rates[len(rates)-1]}
		slices.Sort(rates)
		it.Min, it.Max, it.Median = rates[0], rates[len(rates)-1], median(rates)
		t.Ingest = append(t.Ingest, it)
	}
	slices.SortFunc(t.Ingest, func(a, b IngestTrend) int { return strings.Compare(a.Endpoint, b.Endpoint) })
	return t, nil
}

// keepPoint says whether report i of n is on the timeline: the first,
// the last, and evenly spaced ones between.
func keepPoint(i, n int) bool {
	if n <= maxTrendPoints || i == 0 || i == n-1 {
		return true
	}
	step := float64(n-1) / float64(maxTrendPoints-1)
	for k := 1; k < maxTrendPoints-1; k++ {
		if int(math.Round(float64(k)*step)) == i {
			return true
		}
	}
	return false
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return math.Round(10*(sorted[n/2-1]+sorted[n/2])/2) / 10
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ParseSince reads how far back a trend looks: a number of days or weeks
// ("7d", "2w") or a Go duration ("36h", "90m"). It must be positive.
func ParseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a period such as 7d, 2w or 36h", s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		return positiveDays(n, 1, bad)
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		return positiveDays(n, 7, bad)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

func positiveDays(n string, per float64, bad error) (time.Duration, error) {
	v, err := strconv.ParseFloat(n, 64)
	if err != nil || v <= 0 || v > 3660 {
		return 0, bad
	}
	return time.Duration(v * per * 24 * float64(time.Hour)), nil
}
