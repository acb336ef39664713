package congress

import (
	"bytes"
	"encoding/json"
)

// The functions below walk JSON that has already been checked (by
// json.Valid or json.Compact): they find the byte ranges of an object's
// members and an array's elements without decoding or copying anything,
// skipping nested values by tracking depth outside strings. They do not
// validate and may panic on invalid input, so every caller checks first.
// Reading the few top-level fields of an item this way costs one pass over
// its bytes instead of a full decode into a map.

// member is one member of a JSON object.
type member struct {
	// key is the key as written, without the quotes, escapes intact.
	key []byte
	// plain reports that key has no escapes and only ASCII bytes, so it
	// decodes to itself.
	plain bool
	// val is the value as written, without surrounding whitespace.
	val []byte
}

// is reports whether the member's key decodes to name, as encoding/json
// decodes it.
func (m member) is(name string) bool {
	if m.plain {
		return string(m.key) == name
	}
	return decodeKey(m.key) == name
}

// decodeKey decodes a key given without its quotes, the slow way; only
// keys with escapes or non-ASCII bytes get here.
func decodeKey(k []byte) string {
	q := make([]byte, 0, len(k)+2)
	q = append(append(append(q, '"'), k...), '"')
	var s string
	if json.Unmarshal(q, &s) != nil {
		return "" // unreachable for checked JSON
	}
	return s
}

// cursor steps through the members of one object or the elements of one
// array in checked JSON.
type cursor struct {
	v []byte // the object or array, starting at its '{' or '['
	i int    // index of the next member or element; -1 at the end
}

// newCursor starts at the first member or element of v, which must be a
// checked JSON object or array with no leading whitespace.
func newCursor(v []byte) cursor {
	c := cursor{v: v, i: skipSpace(v, 1)}
	if v[c.i] == '}' || v[c.i] == ']' {
		c.i = -1
	}
	return c
}

// more reports whether a member or element is left.
func (c *cursor) more() bool { return c.i >= 0 }

// member returns the next object member.
func (c *cursor) member() member {
	v := c.v
	start := c.i + 1
	end := skipString(v, c.i)
	key := v[start : end-1]
	plain := true
	for _, b := range key {
		if b == '\\' || b >= 0x80 {
			plain = false
			break
		}
	}
	start = skipSpace(v, skipSpace(v, end)+1) // past the ':'
	end = skipValue(v, start)
	c.advance(end)
	return member{key: key, plain: plain, val: v[start:end]}
}

// element returns the next array element.
func (c *cursor) element() []byte {
	start := c.i
	end := skipValue(c.v, start)
	c.advance(end)
	return c.v[start:end]
}

// advance moves past the ',' after a value ending before v[end], or to the
// end of the container.
func (c *cursor) advance(end int) {
	end = skipSpace(c.v, end)
	if c.v[end] == ',' {
		c.i = skipSpace(c.v, end+1)
	} else {
		c.i = -1
	}
}

// appendMembers appends the members of the checked object v (no leading
// whitespace) to dst, in the order written.
func appendMembers(dst []member, v []byte) []member {
	for c := newCursor(v); c.more(); {
		dst = append(dst, c.member())
	}
	return dst
}

// get returns the value of the member called name; the last one wins, as
// when decoding into a map.
func get(obj []member, name string) ([]byte, bool) {
	for i := len(obj) - 1; i >= 0; i-- {
		if obj[i].is(name) {
			return obj[i].val, true
		}
	}
	return nil, false
}

// skipSpace returns the index of the first non-whitespace byte at or after
// i, or len(v).
func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\n' || v[i] == '\r' || v[i] == '\t') {
		i++
	}
	return i
}

// skipValue returns the index just past the value starting at v[i].
func skipValue(v []byte, i int) int {
	switch v[i] {
	case '"':
		return skipString(v, i)
	case '{', '[':
		return skipContainer(v, i)
	}
	// A number, true, false or null.
	for i < len(v) {
		switch v[i] {
		case ',', '}', ']', ' ', '\n', '\r', '\t':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just past the string starting at v[i]. A
// quote ends the string unless an odd number of backslashes precedes it.
func skipString(v []byte, i int) int {
	i++
	for {
		i += bytes.IndexByte(v[i:], '"')
		k := i - 1
		for v[k] == '\\' {
			k--
		}
		i++
		if (i-2-k)%2 == 0 {
			return i
		}
	}
}

// skipContainer returns the index just past the object or array starting
// at v[i].
func skipContainer(v []byte, i int) int {
	depth := 0
	for ; i < len(v); i++ {
		switch v[i] {
		case '"':
			i = skipString(v, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}
