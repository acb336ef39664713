package congress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Item is one list item: its natural key, its last update and the item
// exactly as served (compacted).
type Item struct {
	// Key is the natural key as a stable string: the parts of KeyParts joined
	// with "|" ("119|HR|3424"); "|" and "\" inside a part are escaped with
	// "\".
	Key string
	// KeyParts are the natural-key values as text, in the order of
	// Endpoint.Key (see [Endpoint.KeyNames]).
	KeyParts []string
	// UpdateDate is the item's update time in UTC; zero when the item has
	// none or it cannot be parsed. Date-only values are midnight UTC.
	UpdateDate time.Time
	// Raw is the item JSON, compacted, fields in the order served.
	Raw json.RawMessage
}

// Rejected is a list entry that could not be given a natural key. It is
// reported rather than failing the page so one odd item cannot stall a
// walk; callers log it and count it as missing.
type Rejected struct {
	// Index is the entry's position in the page.
	Index int
	// Reason says which key field was missing or malformed.
	Reason string
	// Raw is the entry as served, compacted when it was valid JSON.
	Raw json.RawMessage
}

// Page is one decoded list page.
type Page struct {
	// Items are the keyed items in the order served.
	Items []Item
	// Rejected are entries without a usable natural key.
	Rejected []Rejected
	// Count is the total the API reported (pagination.count, or TotalCount
	// for congressional-record); -1 when the response had none. It may
	// change between pages and may be off by one (reference §5).
	Count int
	// HasNext reports whether another request should follow.
	HasNext bool
	// NextOffset is the offset to request next: Offset plus the entries
	// returned, so a short page is never skipped over; after an empty page,
	// Offset plus Limit.
	NextOffset int
	// Offset and Limit echo the request.
	Offset, Limit int
	// RateLimit holds the X-Ratelimit-* headers of the response (zero for a
	// page decoded by [DecodePage]).
	RateLimit RateLimit
}

// DecodePage decodes a list response body for ep, requested at offset with
// limit. Unknown fields are ignored and optional ones may be missing. A body
// that is not the endpoint's envelope yields an [*APIError] of kind
// [ErrDecode].
//
// Paging rule: after n > 0 entries the next offset is offset+n, and there is
// a next page when the API sent a next link or offset+n < count. After an
// empty page (seen before count is reached, #365) the walk skips ahead by
// limit while offset+limit < count, so it always ends.
func DecodePage(ep Endpoint, body []byte, offset, limit int) (Page, error) {
	fail := func(msg string, err error) (Page, error) {
		return Page{}, &APIError{Kind: ErrDecode, Endpoint: ep.Name, Offset: offset, Message: msg, Err: err}
	}
	// Compacting once up front shrinks the indented body by about a third
	// for the passes below and leaves every item compact already.
	var buf bytes.Buffer
	buf.Grow(len(body))
	if err := json.Compact(&buf, body); err != nil {
		return fail("body is not a JSON object: "+describeBody(body, ""), nil)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		return fail("body is not a JSON object: "+describeBody(body, ""), nil)
	}

	page := Page{Count: -1, Offset: offset, Limit: limit}
	if v, ok := lookup(top, ep.CountField); ok {
		n, ok := intValue(v)
		if !ok {
			return fail(fmt.Sprintf("%s is not an integer: %s", ep.CountField, snippet(string(v))), nil)
		}
		page.Count = int(n)
	}
	next := false
	if ep.NextField != "" {
		if v, ok := lookup(top, ep.NextField); ok {
			s, _ := scalarText(v)
			next = s != ""
		}
	}

	var entries []json.RawMessage
	if v, ok := lookup(top, ep.ListKey); ok {
		if err := json.Unmarshal(v, &entries); err != nil {
			return fail(fmt.Sprintf("%s is not an array", ep.ListKey), err)
		}
	} else if page.Count < 0 && !next {
		// Neither items nor paging: not this endpoint's envelope. Failing
		// here is safer than ending the walk as if the list were empty.
		if v, ok := top["error"]; ok {
			return fail("no "+ep.ListKey+" list; error: "+errorText(v), nil)
		}
		return fail("no "+ep.ListKey+" list and no count in the response", nil)
	}

	page.Items = make([]Item, 0, len(entries))
	for i, raw := range entries {
		item, err := ep.itemFromCompact(raw)
		if err != nil {
			page.Rejected = append(page.Rejected, Rejected{Index: i, Reason: err.Error(), Raw: raw})
			continue
		}
		page.Items = append(page.Items, item)
	}

	if n := len(entries); n > 0 {
		page.NextOffset = offset + n
		page.HasNext = next || (page.Count >= 0 && page.NextOffset < page.Count)
	} else {
		page.NextOffset = offset + limit
		page.HasNext = page.Count >= 0 && page.NextOffset < page.Count
	}
	return page, nil
}

// ItemFromJSON builds an [Item] from one list entry: compacted JSON, natural
// key and update date. It fails when the entry is not an object or a
// required key part is missing, null, empty or malformed.
func (ep Endpoint) ItemFromJSON(raw []byte) (Item, error) {
	return ep.itemFromCompact(compact(raw))
}

// itemFromCompact is ItemFromJSON for compacted JSON; c becomes Item.Raw.
func (ep Endpoint) itemFromCompact(c json.RawMessage) (Item, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c, &obj); err != nil || obj == nil {
		return Item{}, fmt.Errorf("%s item is not a JSON object: %s", ep.Name, snippet(string(c)))
	}
	parts := make([]string, len(ep.Key))
	for i, kf := range ep.Key {
		v, err := keyPart(obj, kf)
		if err != nil {
			return Item{}, fmt.Errorf("%s item key %s: %w", ep.Name, kf.Name, err)
		}
		parts[i] = v
	}
	item := Item{Key: JoinKey(parts), KeyParts: parts, Raw: c}
	if ep.UpdateField != "" {
		if v, ok := lookup(obj, ep.UpdateField); ok {
			if s, ok := scalarText(v); ok {
				if t, ok := ParseTime(s); ok {
					item.UpdateDate = t.UTC()
				}
			}
		}
	}
	return item, nil
}

// keyPart extracts one natural-key part.
func keyPart(obj map[string]json.RawMessage, kf KeyField) (string, error) {
	val, found := "", false
	for _, from := range kf.From {
		v, ok := lookup(obj, from)
		if !ok {
			continue
		}
		s, ok := scalarText(v)
		if !ok {
			return "", fmt.Errorf("%s is not a scalar: %s", from, snippet(string(v)))
		}
		val, found = strings.TrimSpace(s), true
		break
	}
	if found && kf.LeadingDigits {
		val = leadingDigits(val)
	}
	if !found || (val == "" && !kf.Optional) {
		if !kf.Optional {
			return "", fmt.Errorf("missing or empty (looked at %s)", strings.Join(kf.From, ", "))
		}
		val = kf.Default
	}
	if kf.Upper {
		val = strings.ToUpper(val)
	}
	if kf.Type == TypeInt && val != "" {
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%q is not an integer", val)
		}
		val = strconv.FormatInt(n, 10)
	}
	return val, nil
}

// JoinKey joins natural-key parts into the string form of [Item.Key].
func JoinKey(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('|')
		}
		if !strings.ContainsAny(p, `|\`) {
			b.WriteString(p)
			continue
		}
		for _, r := range p {
			if r == '|' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ColumnValues extracts ep.Columns from an item, in order. Missing, null or
// unparseable values are nil; text is string, integers int64, booleans bool,
// dates and timestamps time.Time (UTC), JSON json.RawMessage.
func (ep Endpoint) ColumnValues(raw []byte) ([]any, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%s item is not a JSON object: %s", ep.Name, snippet(string(raw)))
	}
	out := make([]any, len(ep.Columns))
	for i, c := range ep.Columns {
		v, ok := lookup(obj, c.From)
		if !ok {
			continue
		}
		out[i] = columnValue(v, c.Type)
	}
	return out, nil
}

func columnValue(v json.RawMessage, typ ColumnType) any {
	switch typ {
	case TypeJSON:
		return json.RawMessage(compact(v))
	case TypeInt:
		if n, ok := intValue(v); ok {
			return n
		}
	case TypeBool:
		if s, ok := scalarText(v); ok {
			if b, err := strconv.ParseBool(s); err == nil {
				return b
			}
		}
	case TypeDate:
		if s, ok := scalarText(v); ok {
			if t, ok := ParseTime(s); ok {
				// The calendar date as written, whatever the offset.
				return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			}
		}
	case TypeTime:
		if s, ok := scalarText(v); ok {
			if t, ok := ParseTime(s); ok {
				return t.UTC()
			}
		}
	default:
		if s, ok := scalarText(v); ok {
			return s
		}
	}
	return nil
}

// ParseTime parses the date formats the API mixes: date only, RFC 3339
// with Z or an offset, the older "2006-01-02 15:04:05+00:00" form, and
// timestamps without a zone (taken as UTC). The result keeps the offset
// as written.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < len(time.DateOnly) {
		return time.Time{}, false
	}
	if len(s) == len(time.DateOnly) {
		t, err := time.Parse(time.DateOnly, s)
		return t, err == nil
	}
	// The formats seen in the API (reference §3, §5), most common first.
	for _, layout := range [...]string{
		time.RFC3339Nano,                      // 2025-01-14T12:08:21Z, 2025-09-09T18:53:19-04:00
		"2006-01-02 15:04:05.999999999Z07:00", // 2023-07-14 10:14:22+00:00 (before Oct 2023)
		"2006-01-02T15:04:05.999999999",       // no zone: UTC
		"2006-01-02 15:04:05.999999999",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// lookup follows a dot path ("bill.number", "sections.0.name") from a
// decoded object. Null counts as missing.
func lookup(obj map[string]json.RawMessage, path string) (json.RawMessage, bool) {
	head, rest, more := strings.Cut(path, ".")
	v, ok := obj[head]
	for ok && more {
		head, rest, more = strings.Cut(rest, ".")
		v, ok = child(v, head)
	}
	if !ok || isNull(v) {
		return nil, false
	}
	return v, true
}

// child returns a field of an object or an element of an array.
func child(v json.RawMessage, name string) (json.RawMessage, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil, false
	}
	switch v[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil {
			return nil, false
		}
		c, ok := m[name]
		return c, ok
	case '[':
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 {
			return nil, false
		}
		var a []json.RawMessage
		if json.Unmarshal(v, &a) != nil || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

// scalarText returns a string, number or boolean as text.
func scalarText(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		if len(v) >= 2 && bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1]), true
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[', 'n':
		return "", false
	}
	return string(v), true
}

// intValue reads a JSON number or a numeric string as an integer.
func intValue(v json.RawMessage) (int64, bool) {
	s, ok := scalarText(v)
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		return int64(f), true
	}
	return 0, false
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// compact returns v without insignificant whitespace, or a copy of v when
// it is not valid JSON.
func compact(v []byte) json.RawMessage {
	var buf bytes.Buffer
	buf.Grow(len(v))
	if json.Compact(&buf, v) != nil {
		return append(json.RawMessage(nil), v...)
	}
	return buf.Bytes()
}

// errorText renders the "error" member of an error body: a string, or an
// object with code and message.
func errorText(v json.RawMessage) string {
	if s, ok := scalarText(v); ok {
		return snippet(s)
	}
	var e struct{ Code, Message string }
	if json.Unmarshal(v, &e) == nil && (e.Code != "" || e.Message != "") {
		return snippet(strings.TrimSpace(e.Code + " " + e.Message))
	}
	return snippet(string(v))
}

// describeBody summarises a body that is not the expected JSON: the HTML
// title when there is one, else its first characters.
func describeBody(body []byte, contentType string) string {
	s := string(bytes.TrimSpace(body))
	if s == "" {
		return "empty body"
	}
	lower := strings.ToLower(s)
	if i := strings.Index(lower, "<title>"); i >= 0 {
		if j := strings.Index(lower[i:], "</title>"); j > 0 {
			return "HTML page " + strconv.Quote(snippet(s[i+len("<title>"):i+j]))
		}
	}
	prefix := "non-JSON body"
	if contentType != "" {
		prefix += " (" + contentType + ")"
	}
	return prefix + ": " + strconv.Quote(snippet(s))
}

// snippet collapses whitespace and cuts s to a readable length.
func snippet(s string) string {
	const maxRunes = 160
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxRunes]) + "…"
}
