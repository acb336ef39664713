package congress

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scanSeeds are inputs that stress the scanner: escapes next to quotes,
// backslash runs, unicode escapes, keys that only match once decoded,
// duplicate keys, nesting, empty containers and whitespace everywhere.
func scanSeeds() []string {
	return []string{
		`{}`, `[]`, `[[]]`, `[{}]`, `{"":{}}`, `"x"`, `0`, `-1.5e+10`, `true`, `false`, `null`,
		`{"a\"b": 1, "a\\": [1, {"x": "]"}], "\u0061": "\"}", "": {}}`,
		`["\\", "\\\"", "a\\\\", "\\\\\"\\", "}", "]", "{[", ","]`,
		`{"a":1,"a":2,"b":{"c":3,"c":null},"a":[3]}`,
		`{"k\u00e9": "v", "é": 1, "\ud800": 2, "\uD834\uDD1E": 3, "\/": 4, "\b\f\n\r\t": 5}`,
		"{\"\xff\": 1, \"ok\": \"\xfe\"}",
		`[[[[{"a":[{"b":{}}],"c":[[],[[]],{}]}]]]]`,
		" \t\r\n{ \"a\" \t:\n[ 1 ,\r2 , { } , [ ] , \"x\" ] ,\n\"b\" : { \"c\" : null } , \"d\":true , \"e\" : -0.0e-0 }\n\t ",
		` [ 1 , "a" , [ ] , { } , null , true , false , 1e3 ] `,
		`{"bills":[{"congress":119,"type":"hr","number":"1","updateDate":"2026-01-01"},{"congress":"x"}],"pagination":{"count":2,"next":"u"}}`,
		`{"sections":[{"name":"House"},{"name":"Senate"}],"Results":{"Issues":[{"Id":1}],"TotalCount":"5"}}`,
	}
}

// FuzzScan checks the scanner against encoding/json: for every object and
// array in a valid input, at any depth, the member and element ranges must
// be the bytes json.Unmarshal gives for map[string]json.RawMessage and
// []json.RawMessage, and get, child and lookup must find what a map finds.
func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds() {
		f.Add([]byte(s))
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		v := data[skipSpace(data, 0):]
		end := skipValue(v, 0)
		require.Empty(t, bytes.Trim(v[end:], " \t\r\n"), "value ends at %d", end)
		checkScan(t, v[:end], 0)
	})
}

// TestScanSeeds runs the fuzz checks on the seeds alone.
func TestScanSeeds(t *testing.T) {
	t.Parallel()
	for _, s := range scanSeeds() {
		require.True(t, json.Valid([]byte(s)), s)
		v := []byte(s)[skipSpace([]byte(s), 0):]
		end := skipValue(v, 0)
		require.Empty(t, bytes.Trim(v[end:], " \t\r\n"), s)
		checkScan(t, v[:end], 0)
	}
}

// checkScan compares the scanner's view of the valid value v (no
// surrounding whitespace) with encoding/json's, recursively.
func checkScan(t *testing.T, v []byte, depth int) {
	t.Helper()
	require.Equal(t, len(v), skipValue(v, 0), "skipValue over %s", v)
	if depth > 100 {
		return
	}
	switch v[0] {
	case '{':
		var want map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v, &want))
		obj := appendMembers(nil, v)
		got := map[string]json.RawMessage{}
		for _, m := range obj {
			var k string
			require.NoError(t, json.Unmarshal(append(append([]byte{'"'}, m.key...), '"'), &k), "key %q", m.key)
			if m.plain {
				require.Equal(t, k, string(m.key))
			}
			require.True(t, m.is(k), "key %q is %q", m.key, k)
			got[k] = m.val
		}
		require.Equal(t, want, got, "members of %s", v)
		for k, w := range want {
			g, ok := get(obj, k)
			require.True(t, ok)
			require.Equal(t, string(w), string(g), "get %q", k)
			g, ok = child(v, k)
			require.True(t, ok)
			require.Equal(t, string(w), string(g), "child %q", k)
			if strings.Contains(k, ".") {
				continue // a dot path, not a key
			}
			g, ok = lookup(obj, k)
			require.Equal(t, string(w) != "null", ok)
			if ok {
				require.Equal(t, string(w), string(g), "lookup %q", k)
			}
		}
		_, ok := get(obj, "no such key\x00")
		require.False(t, ok)
		for _, m := range obj {
			checkScan(t, m.val, depth+1)
		}
	case '[':
		var want []json.RawMessage
		require.NoError(t, json.Unmarshal(v, &want))
		var got []json.RawMessage
		for c := newCursor(v); c.more(); {
			got = append(got, c.element())
		}
		require.Equal(t, len(want), len(got), "elements of %s", v)
		for i := range want {
			require.Equal(t, string(want[i]), string(got[i]), "element %d of %s", i, v)
			g, ok := child(v, strconv.Itoa(i))
			require.True(t, ok)
			require.Equal(t, string(want[i]), string(g))
		}
		_, ok := child(v, strconv.Itoa(len(want)))
		require.False(t, ok)
		for _, e := range got {
			checkScan(t, e, depth+1)
		}
	}
}
