package congress

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// splitKey is the inverse of JoinKey: it splits a key on the "|" that are
// not escaped and drops the escapes.
func splitKey(key string) []string {
	var parts []string
	var cur []byte
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == '\\' && i+1 < len(key):
			i++
			cur = append(cur, key[i])
		case c == '|':
			parts = append(parts, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	return append(parts, string(cur))
}

// FuzzJoinKey checks that JoinKey is injective for a fixed number of
// parts: splitting the key gives the parts back, byte for byte, whatever
// they hold (separators, escapes, invalid UTF-8), and parts without "|"
// or "\" are joined as they are.
func FuzzJoinKey(f *testing.F) {
	for _, s := range [][3]string{
		{"119", "HR", "3424"}, {"", "", ""}, {"|", `\`, `\|`}, {`a\`, "|b", `c\\|`},
		{"\xff|", "\xef\xbf\xbd|", "é|ß"}, {"\\", "\xff\\", ""}, {"1|2", "3", ""},
	} {
		f.Add(s[0], s[1], s[2], uint8(2))
	}
	f.Add("x", "", "", uint8(1))
	f.Fuzz(func(t *testing.T, a, b, c string, n uint8) {
		parts := []string{a, b, c}[:1+int(n)%3]
		key := JoinKey(parts)
		require.Equal(t, parts, splitKey(key), "key %q", key)
		require.Equal(t, key, JoinKey(splitKey(key)))
		if !strings.ContainsAny(strings.Join(parts, ""), `|\`) {
			require.Equal(t, strings.Join(parts, "|"), key)
		}
	})
}

// keyGen builds list items from fuzz bytes: each natural-key path of an
// endpoint gets a value of a drawn kind (missing, null, string, number,
// boolean, object, array), so that keyed, keyless and malformed items are
// all generated.
type keyGen struct{ data []byte }

func (g *keyGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

// text draws a short string from an alphabet of digits, letters, the key
// separator and escape, blanks, signs and non-ASCII runes, or raw bytes.
func (g *keyGen) text() string {
	const alphabet = "0123456789hrHRsxX|\\ \t-+.éß\u00ff"
	runes := []rune(alphabet)
	n := int(g.byte() % 6)
	var b strings.Builder
	for range n {
		c := g.byte()
		if c >= 0xf0 {
			b.WriteByte(c) // raw, perhaps invalid UTF-8
			continue
		}
		b.WriteRune(runes[int(c)%len(runes)])
	}
	return b.String()
}

// Value kinds of a generated key path.
const (
	kindMissing = iota
	kindNull
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
	kindCount
)

// value returns a JSON value of the drawn kind, and its scalar text.
func (g *keyGen) value(kind int) (json.RawMessage, string) {
	switch kind {
	case kindNull:
		return json.RawMessage("null"), ""
	case kindString:
		s := g.text()
		raw, err := json.Marshal(s)
		if err != nil {
			panic(err)
		}
		if !strings.ContainsAny(s, "\\\"\t") && g.byte()%2 == 0 {
			// As served, without escapes: invalid UTF-8 stays as is.
			raw = append(append([]byte{'"'}, s...), '"')
		}
		// A string without escapes is read as its bytes, one with escapes
		// as encoding/json decodes it.
		if bytes.IndexByte(raw, '\\') < 0 {
			return raw, string(raw[1 : len(raw)-1])
		}
		var back string
		if err := json.Unmarshal(raw, &back); err != nil {
			panic(err)
		}
		return raw, back
	case kindNumber:
		lits := []string{"0", "7", "119", "-3", "1.0", "1e2", "-0", "9223372036854775807", "9223372036854775808", "0.5"}
		s := lits[int(g.byte())%len(lits)]
		return json.RawMessage(s), s
	case kindBool:
		return json.RawMessage("true"), "true"
	case kindObject:
		return json.RawMessage(`{"a":1}`), ""
	case kindArray:
		return json.RawMessage(`[1]`), ""
	}
	return nil, ""
}

// node is an object under construction; values are json.RawMessage or
// *node.
type node struct {
	names []string
	vals  map[string]any
}

func (n *node) set(path string, v json.RawMessage) {
	head, rest, more := strings.Cut(path, ".")
	if n.vals == nil {
		n.vals = map[string]any{}
	}
	if _, ok := n.vals[head]; !ok {
		n.names = append(n.names, head)
	}
	if !more {
		n.vals[head] = v
		return
	}
	child, ok := n.vals[head].(*node)
	if !ok {
		child = &node{}
		n.vals[head] = child
	}
	child.set(rest, v)
}

func (n *node) json() []byte {
	b := []byte{'{'}
	for i, name := range n.names {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(name)
		if err != nil {
			panic(err)
		}
		b = append(append(b, k...), ':')
		switch v := n.vals[name].(type) {
		case *node:
			b = append(b, v.json()...)
		case json.RawMessage:
			b = append(b, v...)
		}
	}
	return append(b, '}')
}

// wantPart is the specification of one natural-key part: the first path
// present and not null gives the value; an object or array there is an
// error; the value is trimmed, cut to its leading digits and folded to
// upper case where the field says so; an empty required part is an error
// and an empty optional one takes the default; an integer part must parse
// as a 64-bit integer and is written canonically.
func wantPart(kf KeyField, kinds []int, texts []string) (string, bool) {
	val, found := "", false
	for i := range kf.From {
		switch kinds[i] {
		case kindMissing, kindNull:
			continue
		case kindObject, kindArray:
			return "", false
		}
		val, found = strings.TrimSpace(texts[i]), true
		break
	}
	if found && kf.LeadingDigits {
		val = leadingDigits(val)
	}
	if val == "" {
		if !kf.Optional {
			return "", false
		}
		val = kf.Default
	}
	if kf.Upper {
		val = strings.ToUpper(val)
	}
	if kf.Type == TypeInt && val != "" {
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return "", false
		}
		val = strconv.FormatInt(n, 10)
	}
	return val, true
}

// FuzzItemKey builds items whose natural-key fields are missing, null,
// blank, malformed or well formed, and checks key extraction against the
// specification in wantPart: an item with a bad required part is rejected
// with an error naming it, never given an empty or partial key; a keyed
// item has one part per key field and Key == JoinKey(KeyParts); the result
// does not depend on whitespace, on repeating the call, or on whether the
// item is decoded alone (ItemFromJSON) or in a page (DecodePage).
func FuzzItemKey(f *testing.F) {
	eps := Endpoints()
	for i := range eps {
		// Every path a well-formed string, then a number, then missing.
		f.Add([]byte{kindString, 3, 1, 2, 3, kindString, 2, 7, 8, kindString, 3, 4, 5, 6, kindString, 2, 9, 1}, uint8(i))
		f.Add([]byte{kindNumber, 2, kindNumber, 1, kindNumber, 2, kindNumber, 2, kindNumber, 2}, uint8(i))
		f.Add([]byte{kindMissing, kindMissing, kindMissing, kindMissing, kindMissing}, uint8(i))
	}
	f.Add([]byte{kindString, 2, 12, 13, 0, kindString, 1, 12, 1, kindObject, kindArray}, uint8(0))
	f.Add([]byte{kindString, 2, 0xff, 12, 1, kindString, 1, 0xfe, 1, kindBool}, uint8(0))
	f.Add([]byte{kindNull, kindString, 1, 14, 0, kindString, 0, 0}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, epi uint8) {
		ep := eps[int(epi)%len(eps)]
		g := &keyGen{data: data}
		var item node
		want := make([]string, len(ep.Key))
		keyed := true
		for i, kf := range ep.Key {
			kinds := make([]int, len(kf.From))
			texts := make([]string, len(kf.From))
			for j, path := range kf.From {
				kinds[j] = int(g.byte()) % kindCount
				raw, text := g.value(kinds[j])
				if raw == nil {
					continue
				}
				texts[j] = text
				item.set(path, raw)
			}
			part, ok := wantPart(kf, kinds, texts)
			want[i] = part
			keyed = keyed && ok
		}
		item.set("updateDate", json.RawMessage(`"2025-01-14"`))
		raw := item.json()
		require.True(t, json.Valid(raw), "generated %s", raw)

		got, err := ep.ItemFromJSON(raw)
		if !keyed {
			require.Error(t, err, "%s item %s got key %q", ep.Name, raw, got.Key)
			require.Contains(t, err.Error(), ep.Name+" item key ")
			require.Empty(t, got.Key)
		} else {
			require.NoError(t, err, "%s item %s", ep.Name, raw)
			require.Equal(t, want, got.KeyParts, "%s item %s", ep.Name, raw)
			require.Equal(t, JoinKey(got.KeyParts), got.Key)
			require.Equal(t, got.KeyParts, splitKey(got.Key))
		}

		again, againErr := ep.ItemFromJSON(raw)
		require.Equal(t, err, againErr)
		require.Equal(t, got, again)

		var spaced bytes.Buffer
		require.NoError(t, json.Indent(&spaced, raw, " ", "\t"))
		indented, indentedErr := ep.ItemFromJSON(spaced.Bytes())
		require.Equal(t, err, indentedErr)
		require.Equal(t, got, indented)

		var env node
		env.set(ep.ListKey, json.RawMessage("["+string(raw)+"]"))
		page, err := DecodePage(ep, env.json(), 0, 1)
		require.NoError(t, err)
		if keyed {
			require.Empty(t, page.Rejected)
			require.Equal(t, []Item{got}, page.Items)
		} else {
			require.Empty(t, page.Items)
			require.Len(t, page.Rejected, 1)
		}
	})
}
