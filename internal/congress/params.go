package congress

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Paging limits of the API.
const (
	// MaxLimit is the largest page the API serves; larger limits are cut to
	// it silently, so the client refuses them instead.
	MaxLimit = 250
	// DefaultLimit is the page size used when Params.Limit is 0.
	DefaultLimit = MaxLimit
)

// Query parameter names and values the client owns.
const (
	// DateTimeLayout is the format of fromDateTime and toDateTime.
	DateTimeLayout = "2006-01-02T15:04:05Z"
	// SortUpdateAsc is the sort value sent where honoured; it is encoded on
	// the wire as "updateDate+asc".
	SortUpdateAsc = "updateDate asc"
)

// Params select what a list request returns. Together with the offset they
// form the caller's cursor: (endpoint name, Params, offset) is all a resumed
// walk needs; the API's next link is never kept.
type Params struct {
	// Congress restricts the list to one congress via Endpoint.CongressPath.
	// 0 lists all congresses via Endpoint.Path.
	Congress int
	// Segments are extra lower-case path segments appended to the list path,
	// e.g. {"hr"} for /bill/119/hr, {"172"} for
	// /daily-congressional-record/172. Default none.
	Segments []string
	// From and To bound updateDate (inclusive), sent as fromDateTime and
	// toDateTime in UTC, truncated to the second. Zero means unbounded. They
	// are refused where the endpoint does not honour them
	// ([Endpoint.SupportsWindow], and [Endpoint.SegmentWindow] below
	// Segments), since a silently dropped window would turn an incremental
	// sync into a full one. From is required where [Endpoint.FromRequired].
	From, To time.Time
	// Limit is the page size: 0 means DefaultLimit (250); at most MaxLimit.
	Limit int
	// Sort asks for updateDate ascending. It is sent only where
	// Endpoint.Sort says the API honours it and ignored elsewhere, so the
	// same Params fit every endpoint.
	Sort bool
	// Query holds endpoint-specific filters (currentMember, conference, y,
	// m, d). The names the client sets itself (api_key, format, limit,
	// offset, sort, fromDateTime, toDateTime) are refused.
	Query url.Values
}

// limit returns the effective page size.
func (p Params) limit() int {
	if p.Limit == 0 {
		return DefaultLimit
	}
	return p.Limit
}

// Request returns the path (below the base URL) and query of one list
// request. The query never carries the key: that travels in a header.
func (ep Endpoint) Request(p Params, offset int) (string, url.Values, error) {
	fail := func(format string, args ...any) (string, url.Values, error) {
		return "", nil, &APIError{
			Kind: ErrInvalidParams, Endpoint: ep.Name, Offset: offset,
			Message: fmt.Sprintf(format, args...),
		}
	}
	if offset < 0 {
		return fail("offset %d is negative; start at 0", offset)
	}
	limit := p.limit()
	if limit < 1 || limit > MaxLimit {
		return fail("Params.Limit %d is out of range; use 1..%d or 0 for %d", p.Limit, MaxLimit, DefaultLimit)
	}

	var path string
	switch {
	case p.Congress < 0:
		return fail("Params.Congress %d is negative; use 0 for all congresses", p.Congress)
	case p.Congress == 0 && ep.Path == "":
		return fail("Params.Congress is 0 but %s has no list across congresses; set Congress", ep.Name)
	case p.Congress == 0:
		path = ep.Path
	case ep.CongressPath == "":
		return fail("Params.Congress is %d but %s has no per-congress list; set Congress to 0", p.Congress, ep.Name)
	default:
		path = strings.Replace(ep.CongressPath, "{congress}", strconv.Itoa(p.Congress), 1)
	}
	for _, s := range p.Segments {
		if !validSegment(s) {
			return fail("Params.Segments %q: use lower-case letters, digits and '-' only", s)
		}
		path += "/" + s
	}

	q := make(url.Values, len(p.Query)+6)
	for name, vals := range p.Query {
		if reservedQuery(name) {
			return fail("Params.Query sets %q, which the client controls; use the Params fields instead", name)
		}
		q[name] = append([]string(nil), vals...)
	}
	q.Set("format", "json")
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(offset))

	if ep.FromRequired && p.From.IsZero() {
		return fail("Params.From is zero but %s without fromDateTime lists only the last day (#312); set From, to an early date for everything", ep.Name)
	}
	if !p.From.IsZero() || !p.To.IsZero() {
		if !ep.SupportsWindow(p.Congress) || (len(p.Segments) > 0 && !ep.SegmentWindow) {
			return fail("Params.From/To set but %s does not honour fromDateTime/toDateTime on %s; leave them zero (see Endpoint.SupportsWindow and SegmentWindow)", ep.Name, path)
		}
		if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
			return fail("Params.To %s is before Params.From %s; swap them", p.To.UTC().Format(DateTimeLayout), p.From.UTC().Format(DateTimeLayout))
		}
		if !p.From.IsZero() {
			q.Set("fromDateTime", p.From.UTC().Format(DateTimeLayout))
		}
		if !p.To.IsZero() {
			q.Set("toDateTime", p.To.UTC().Format(DateTimeLayout))
		}
	}
	if p.Sort && ep.Sort {
		q.Set("sort", SortUpdateAsc)
	}
	return path, q, nil
}

func validSegment(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// reservedQuery reports whether Params.Query may not set name.
func reservedQuery(name string) bool {
	switch strings.ToLower(name) {
	case "api_key", "format", "limit", "offset", "sort", "fromdatetime", "todatetime":
		return true
	}
	return false
}
