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
	// DateOnly reports that the update time was served as a date without a
	// time of day (bills: "2025-01-14"): the item was updated at some time
	// during that day, which UpdateSlot gives.
	DateOnly bool
	// Raw is the item JSON, compacted, fields in the order served. Items
	// from [DecodePage] share one backing array with the rest of their page
	// (so keeping one item keeps the page's bytes alive); Raw's capacity
	// ends at its length, so appending to it copies instead of overwriting
	// a neighbour. Copy it to keep it long after the page.
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
	// Raw is the entry as served, compacted when it was valid JSON; it
	// shares the page's bytes like [Item].Raw.
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
	// One pass checks the body and compacts it; everything below only
	// walks the compacted bytes (scan.go), and each item's Raw is a slice
	// of them.
	var buf bytes.Buffer
	buf.Grow(len(body))
	if err := json.Compact(&buf, body); err != nil {
		return fail("body is not a JSON object: "+describeBody(body, ""), nil)
	}
	b := buf.Bytes()
	var top []member
	switch {
	case b[0] == '{':
		var arr [16]member
		top = appendMembers(arr[:0], b)
	case string(b) == "null":
		// Decodes as an empty envelope, as json.Unmarshal into a map does.
	default:
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

	var entries [][]byte
	if v, ok := lookup(top, ep.ListKey); ok {
		if v[0] != '[' {
			var a []json.RawMessage
			return fail(fmt.Sprintf("%s is not an array", ep.ListKey), json.Unmarshal(v, &a))
		}
		entries = make([][]byte, 0, min(max(limit, 0), MaxLimit))
		for c := newCursor(v); c.more(); {
			e := c.element()
			entries = append(entries, e[:len(e):len(e)])
		}
	} else if page.Count < 0 && !next {
		// Neither items nor paging: not this endpoint's envelope. Failing
		// here is safer than ending the walk as if the list were empty.
		if v, ok := get(top, "error"); ok {
			return fail("no "+ep.ListKey+" list; error: "+errorText(v), nil)
		}
		return fail("no "+ep.ListKey+" list and no count in the response", nil)
	}

	page.Items = make([]Item, 0, len(entries))
	var scratch []member
	k := len(ep.Key)
	parts := make([]string, len(entries)*k)
	for i, raw := range entries {
		item, err := ep.itemFromChecked(raw, &scratch, parts[i*k:(i+1)*k:(i+1)*k])
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
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if json.Compact(&buf, raw) != nil {
		return Item{}, fmt.Errorf("%s item is not a JSON object: %s", ep.Name, snippet(string(raw)))
	}
	var scratch []member
	return ep.itemFromChecked(buf.Bytes(), &scratch, make([]string, len(ep.Key)))
}

// itemFromChecked is ItemFromJSON for checked, compacted JSON; c becomes
// Item.Raw and parts, of len(ep.Key), Item.KeyParts. scratch is reused for
// the item's members from call to call.
func (ep Endpoint) itemFromChecked(c json.RawMessage, scratch *[]member, parts []string) (Item, error) {
	if c[0] != '{' {
		return Item{}, fmt.Errorf("%s item is not a JSON object: %s", ep.Name, snippet(string(c)))
	}
	obj := appendMembers((*scratch)[:0], c)
	*scratch = obj
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
					item.DateOnly = len(strings.TrimSpace(s)) == len(time.DateOnly)
				}
			}
		}
	}
	return item, nil
}

// UpdateSlot returns the span the item's true update time lies in, as far
// as the served value tells: the whole day for a date-only value, else the
// second it names (the API serves whole seconds). Zero when the item has no
// update time.
func (it Item) UpdateSlot() (start time.Time, width time.Duration) {
	if it.UpdateDate.IsZero() {
		return time.Time{}, 0
	}
	if it.DateOnly {
		return it.UpdateDate.Truncate(24 * time.Hour), 24 * time.Hour
	}
	return it.UpdateDate.Truncate(time.Second), time.Second
}

// keyPart extracts one natural-key part.
func keyPart(obj []member, kf KeyField) (string, error) {
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
	if val == "" {
		// Empty counts as missing, for optional parts too: one item served
		// with "" and once without the field keeps one key, and an integer
		// part is never empty.
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
		if !canonicalInt(val) {
			val = strconv.FormatInt(n, 10)
		}
	}
	return val, nil
}

// JoinKey joins natural-key parts into the string form of [Item.Key].
func JoinKey(parts []string) string {
	var b strings.Builder
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	b.Grow(n)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('|')
		}
		if !strings.ContainsAny(p, `|\`) {
			b.WriteString(p)
			continue
		}
		// Byte by byte, so that a part that is not valid UTF-8 keeps its
		// bytes and no two parts share a key; "|" and "\" never occur
		// inside a multi-byte UTF-8 sequence.
		for i := 0; i < len(p); i++ {
			if p[i] == '|' || p[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

// ColumnValues extracts ep.Columns from an item, in order. Missing, null or
// unparseable values are nil; text is string, integers int64, booleans bool,
// dates and timestamps time.Time (UTC), JSON json.RawMessage.
func (ep Endpoint) ColumnValues(raw []byte) ([]any, error) {
	start := skipSpace(raw, 0)
	if !json.Valid(raw) || raw[start] != '{' {
		return nil, fmt.Errorf("%s item is not a JSON object: %s", ep.Name, snippet(string(raw)))
	}
	var arr [32]member
	obj := appendMembers(arr[:0], raw[start:])
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

// lookup follows a dot path ("bill.number", "sections.0.name") from an
// object's members. Null counts as missing.
func lookup(obj []member, path string) ([]byte, bool) {
	head, rest, more := strings.Cut(path, ".")
	v, ok := get(obj, head)
	for ok && more {
		head, rest, more = strings.Cut(rest, ".")
		v, ok = child(v, head)
	}
	if !ok || isNull(v) {
		return nil, false
	}
	return v, true
}

// child returns a member of an object (the last one called name) or an
// element of an array, from a checked value.
func child(v []byte, name string) ([]byte, bool) {
	if len(v) == 0 {
		return nil, false
	}
	switch v[0] {
	case '{':
		var found []byte
		ok := false
		for c := newCursor(v); c.more(); {
			if m := c.member(); m.is(name) {
				found, ok = m.val, true
			}
		}
		return found, ok
	case '[':
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 {
			return nil, false
		}
		for c := newCursor(v); c.more(); i-- {
			e := c.element()
			if i == 0 {
				return e, true
			}
		}
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

// canonicalInt reports whether s, which parses as an integer, is already
// written as strconv.FormatInt would write it: no sign but a minus, no
// leading zeros, no "-0".
func canonicalInt(s string) bool {
	d := strings.TrimPrefix(s, "-")
	return d != "" && d[0] != '+' && (d[0] != '0' || s == "0")
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
	// ASCII folding keeps byte offsets: strings.ToLower can change the
	// length (invalid UTF-8, "İ"), and the offsets index s below.
	lower := []byte(s)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	if i := bytes.Index(lower, []byte("<title>")); i >= 0 {
		if j := bytes.Index(lower[i:], []byte("</title>")); j > 0 {
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
