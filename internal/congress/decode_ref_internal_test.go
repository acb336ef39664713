package congress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// This file keeps the map-based decoder that DecodePage replaced, as an
// independent reference: FuzzDecodePage checks that both give the same
// pages and errors.

func refDecodePage(ep Endpoint, body []byte, offset, limit int) (Page, error) {
	fail := func(msg string, err error) (Page, error) {
		return Page{}, &APIError{Kind: ErrDecode, Endpoint: ep.Name, Offset: offset, Message: msg, Err: err}
	}
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
	if v, ok := refLookup(top, ep.CountField); ok {
		n, ok := intValue(v)
		if !ok {
			return fail(fmt.Sprintf("%s is not an integer: %s", ep.CountField, snippet(string(v))), nil)
		}
		page.Count = int(n)
	}
	next := false
	if ep.NextField != "" {
		if v, ok := refLookup(top, ep.NextField); ok {
			s, _ := scalarText(v)
			next = s != ""
		}
	}

	var entries []json.RawMessage
	if v, ok := refLookup(top, ep.ListKey); ok {
		if err := json.Unmarshal(v, &entries); err != nil {
			return fail(fmt.Sprintf("%s is not an array", ep.ListKey), err)
		}
	} else if page.Count < 0 && !next {
		if v, ok := top["error"]; ok {
			return fail("no "+ep.ListKey+" list; error: "+errorText(v), nil)
		}
		return fail("no "+ep.ListKey+" list and no count in the response", nil)
	}

	page.Items = make([]Item, 0, len(entries))
	for i, raw := range entries {
		item, err := refItemFromCompact(ep, raw)
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

func refItemFromJSON(ep Endpoint, raw []byte) (Item, error) {
	var buf bytes.Buffer
	c := json.RawMessage(append([]byte(nil), raw...))
	if json.Compact(&buf, raw) == nil {
		c = buf.Bytes()
	}
	return refItemFromCompact(ep, c)
}

func refItemFromCompact(ep Endpoint, c json.RawMessage) (Item, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c, &obj); err != nil || obj == nil {
		return Item{}, fmt.Errorf("%s item is not a JSON object: %s", ep.Name, snippet(string(c)))
	}
	parts := make([]string, len(ep.Key))
	for i, kf := range ep.Key {
		v, err := refKeyPart(obj, kf)
		if err != nil {
			return Item{}, fmt.Errorf("%s item key %s: %w", ep.Name, kf.Name, err)
		}
		parts[i] = v
	}
	item := Item{Key: JoinKey(parts), KeyParts: parts, Raw: c}
	if ep.UpdateField != "" {
		if v, ok := refLookup(obj, ep.UpdateField); ok {
			if s, ok := scalarText(v); ok {
				if t, ok := ParseTime(s); ok {
					item.UpdateDate = t.UTC()
					_, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
					item.DateOnly = err == nil
				}
			}
		}
	}
	return item, nil
}

func refKeyPart(obj map[string]json.RawMessage, kf KeyField) (string, error) {
	val, found := "", false
	for _, from := range kf.From {
		v, ok := refLookup(obj, from)
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

func refColumnValues(ep Endpoint, raw []byte) ([]any, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%s item is not a JSON object: %s", ep.Name, snippet(string(raw)))
	}
	out := make([]any, len(ep.Columns))
	for i, c := range ep.Columns {
		v, ok := refLookup(obj, c.From)
		if !ok {
			continue
		}
		out[i] = columnValue(v, c.Type)
	}
	return out, nil
}

func refLookup(obj map[string]json.RawMessage, path string) (json.RawMessage, bool) {
	head, rest, more := strings.Cut(path, ".")
	v, ok := obj[head]
	for ok && more {
		head, rest, more = strings.Cut(rest, ".")
		v, ok = refChild(v, head)
	}
	if !ok || isNull(v) {
		return nil, false
	}
	return v, true
}

func refChild(v json.RawMessage, name string) (json.RawMessage, bool) {
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

// FuzzDecodePage checks DecodePage, ItemFromJSON and ColumnValues against
// the map-based reference on any body, for any endpoint.
func FuzzDecodePage(f *testing.F) {
	eps := Endpoints()
	index := func(name string) uint8 {
		for i, ep := range eps {
			if ep.Name == name {
				return uint8(i)
			}
		}
		f.Fatalf("no endpoint %s", name)
		return 0
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		name, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(file), ".json"), ".")
		f.Add(b, index(name), 0, 20)
	}
	for _, s := range scanSeeds() {
		f.Add([]byte(s), index("bill"), 0, 250)
		f.Add([]byte(s), index("congressional-record"), 40, 20)
		f.Add([]byte(s), index("bound-congressional-record"), 0, 1)
	}
	for _, s := range []string{
		``, ` `, `<html><title>Oops</title></html>`, `{"error": null}`, `{"error": {"code": "X", "message": "y"}}`,
		`{"bills": {}}`, `{"bills": "x", "pagination": {"count": 1}}`, `{"bills": null, "pagination": {"next": "n"}}`,
		`{"bills": [null, 1, "s", [], {}, {"congress": " 119 ", "type": "h\u0052", "number": 7, "updateDate": "2023-07-14 10:14:22+00:00"}]}`,
		`{"bills": [{"congress": 1.0, "type": "HR", "number": "a|b\\c"}], "pagination": {"count": 1e3}}`,
		`{"bills": [{"congress": [1], "type": "HR", "number": "1"}], "pagination": {"count": "1.5"}}`,
		`{"bills": [], "pagination": {"count": 3, "count": 4}, "bills": [{"congress": 1, "type": "S", "number": "2"}]}`,
	} {
		f.Add([]byte(s), index("bill"), 0, 20)
	}
	f.Fuzz(func(t *testing.T, body []byte, epi uint8, offset, limit int) {
		ep := eps[int(epi)%len(eps)]
		want, wantErr := refDecodePage(ep, body, offset, limit)
		got, gotErr := DecodePage(ep, body, offset, limit)
		require.Equal(t, wantErr, gotErr)
		require.Equal(t, want, got)

		wantItem, wantErr := refItemFromJSON(ep, body)
		gotItem, gotErr := ep.ItemFromJSON(body)
		require.Equal(t, wantErr, gotErr)
		require.Equal(t, wantItem, gotItem)

		wantCols, wantErr := refColumnValues(ep, body)
		gotCols, gotErr := ep.ColumnValues(body)
		require.Equal(t, wantErr, gotErr)
		require.Equal(t, wantCols, gotCols)
		for _, it := range got.Items {
			wantCols, wantErr := refColumnValues(ep, it.Raw)
			gotCols, gotErr := ep.ColumnValues(it.Raw)
			require.Equal(t, wantErr, gotErr)
			require.Equal(t, wantCols, gotCols)
		}
	})
}
