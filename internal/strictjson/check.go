package strictjson

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// checker walks a parsed document and a Go type together, as
// encoding/json's decoder would, and collects the problems.
type checker struct {
	problems []Problem
}

func (c *checker) add(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, msg: location(path) + ": " + fmt.Sprintf(format, args...)})
}

// member is the path of an object member.
func member(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// location names a value in a message.
func location(path string) string {
	if path == "" {
		return "input"
	}
	return path
}

// value checks n against t; quoted is the ",string" option of the field
// that holds it.
func (c *checker) value(n *node, t reflect.Type, path string, quoted bool) {
	if n.kind == kindNull {
		return // null leaves any value as it is
	}
	// Follow pointers, stopping where a type decodes itself.
	for {
		switch decodesItself(t) {
		case selfJSON:
			return
		case selfText:
			if n.kind != kindString {
				c.add(path, "got %s, want a string", n.kind.describe())
			}
			return
		}
		if t.Kind() != reflect.Pointer {
			break
		}
		t = t.Elem()
	}
	if quoted {
		c.quoted(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() > 0 {
			c.add(path, "got %s, which cannot be stored in a %s", n.kind.describe(), t)
			return
		}
		c.anyValue(n, path)
	case reflect.Struct:
		if n.kind != kindObject {
			c.add(path, "got %s, want an object", n.kind.describe())
			return
		}
		c.object(n, t, path)
	case reflect.Map:
		if n.kind != kindObject {
			c.add(path, "got %s, want an object", n.kind.describe())
			return
		}
		c.mapValue(n, t, path)
	case reflect.Slice:
		if n.kind == kindString && t.Elem().Kind() == reflect.Uint8 {
			if _, err := base64.StdEncoding.DecodeString(n.text); err != nil {
				c.add(path, "got a string that is not base64")
			}
			return
		}
		if n.kind != kindArray {
			c.add(path, "got %s, want a list", n.kind.describe())
			return
		}
		for i, e := range n.elems {
			c.value(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), false)
		}
	case reflect.Array:
		if n.kind != kindArray {
			c.add(path, "got %s, want a list", n.kind.describe())
			return
		}
		// encoding/json skips the elements past the array's length.
		for i, e := range n.elems[:min(len(n.elems), t.Len())] {
			c.value(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), false)
		}
	case reflect.String:
		switch {
		case t == jsonNumberType && n.kind == kindNumber:
		case t == jsonNumberType && n.kind == kindString:
			if !validNumber(n.text) {
				c.add(path, "got a string that is not a number")
			}
		case n.kind != kindString:
			c.add(path, "got %s, want a string", n.kind.describe())
		}
	case reflect.Bool:
		if n.kind != kindBool {
			c.add(path, "got %s, want true or false", n.kind.describe())
		}
	default:
		if !isNumeric(t) {
			c.add(path, "got %s, which cannot be stored in a %s", n.kind.describe(), t)
			return
		}
		if n.kind != kindNumber {
			c.add(path, "got %s, want %s", n.kind.describe(), describeNumber(t))
			return
		}
		if !fitsNumber(n.text, t) {
			c.add(path, "got %s, want %s", n.text, describeNumber(t))
		}
	}
}

// object checks an object against a struct type.
func (c *checker) object(n *node, t reflect.Type, path string) {
	fields := structFields(t)
	for i, key := range n.keys {
		f, ok := lookup(fields, key)
		if !ok {
			c.unknown(fields, key, path)
			continue
		}
		child := member(path, key)
		if f.unsettable && n.elems[i].kind != kindNull {
			c.add(child, "cannot be set: it is inside an embedded pointer to an unexported struct")
			continue
		}
		c.value(n.elems[i], f.typ, child, f.quoted)
	}
}

// unknown records an unknown field with the closest known name.
func (c *checker) unknown(fields []field, key, path string) {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	p := Problem{Path: path, Field: key, Suggestion: closest(key, names)}
	p.msg = fmt.Sprintf("unknown field %q", key)
	if path != "" {
		p.msg += " in " + path
	}
	switch {
	case p.Suggestion != "":
		p.msg += fmt.Sprintf("; did you mean %q?", p.Suggestion)
	case len(names) > 0:
		p.msg += "; known fields: " + strings.Join(names, ", ")
	default:
		p.msg += "; it takes no fields"
	}
	c.problems = append(c.problems, p)
}

// mapValue checks an object against a map type.
func (c *checker) mapValue(n *node, t reflect.Type, path string) {
	kt := t.Key()
	switch {
	case reflect.PointerTo(kt).Implements(textUnmarshalerType), kt.Kind() == reflect.String:
	case isInt(kt) || isUint(kt):
		for _, key := range n.keys {
			if !fitsNumber(key, kt) {
				c.add(path, "key %q is not %s", key, describeNumber(kt))
			}
		}
	default:
		c.add(path, "got an object, which cannot be stored in a %s", t)
		return
	}
	for i, key := range n.keys {
		c.value(n.elems[i], t.Elem(), member(path, key), false)
	}
}

// anyValue checks a value stored in an empty interface: encoding/json
// turns every number into a float64 there. The path is built only for a
// problem, so a deeply nested value costs linear time.
func (c *checker) anyValue(n *node, path string) {
	var stack []string
	var walk func(n *node)
	walk = func(n *node) {
		switch n.kind {
		case kindNumber:
			if _, err := strconv.ParseFloat(n.text, 64); err != nil {
				c.add(path+strings.Join(stack, ""), "got %s, which does not fit a 64-bit float", n.text)
			}
		case kindArray, kindObject:
			for i, e := range n.elems {
				seg := fmt.Sprintf("[%d]", i)
				if n.kind == kindObject {
					seg = "." + n.keys[i]
				}
				stack = append(stack, seg)
				walk(e)
				stack = stack[:len(stack)-1]
			}
		}
	}
	walk(n)
}

// quoted checks a value of a ",string" field: a string holding the JSON
// literal of the field's value.
func (c *checker) quoted(n *node, t reflect.Type, path string) {
	if n.kind != kindString {
		c.add(path, "got %s, want a string (the field has the ,string option)", n.kind.describe())
		return
	}
	lit := n.text
	bad := func() { c.add(path, "got a string that does not hold %s", describeQuoted(t)) }
	switch {
	case lit == "":
		bad()
	case lit == "null":
	case lit == "true" || lit == "false":
		if t.Kind() != reflect.Bool {
			bad()
		}
	case lit[0] == '"':
		var s string
		if t.Kind() != reflect.String || json.Unmarshal([]byte(lit), &s) != nil {
			bad()
		}
	case lit[0] == '-' || ('0' <= lit[0] && lit[0] <= '9'):
		switch {
		case t == jsonNumberType:
		case isNumeric(t):
			if !fitsNumber(lit, t) {
				bad()
			}
		default:
			bad()
		}
	default:
		bad()
	}
}

// decoder kinds for types that decode themselves.
const (
	selfNone = iota
	selfJSON
	selfText
)

// decodesItself reports whether t has its own UnmarshalJSON or
// UnmarshalText, as encoding/json looks for them. A struct that holds a
// [Problems] field is strict and is checked field by field.
func decodesItself(t reflect.Type) int {
	pt := t
	if t.Kind() != reflect.Pointer {
		pt = reflect.PointerTo(t)
	}
	switch {
	case pt.Implements(jsonUnmarshalerType):
		if isStrict(t) {
			return selfNone
		}
		return selfJSON
	case pt.Implements(textUnmarshalerType):
		return selfText
	}
	return selfNone
}

func isStrict(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if t.Field(i).Type == problemsType {
			return true
		}
	}
	return false
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func isUint(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

func isNumeric(t reflect.Type) bool {
	return isInt(t) || isUint(t) || t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64
}

// fitsNumber reports whether the literal s decodes into t as encoding/json
// decodes numbers.
func fitsNumber(s string, t reflect.Type) bool {
	v := reflect.New(t).Elem()
	switch {
	case isInt(t):
		n, err := strconv.ParseInt(s, 10, 64)
		return err == nil && !v.OverflowInt(n)
	case isUint(t):
		n, err := strconv.ParseUint(s, 10, 64)
		return err == nil && !v.OverflowUint(n)
	default:
		f, err := strconv.ParseFloat(s, t.Bits())
		return err == nil && !v.OverflowFloat(f)
	}
}

func describeNumber(t reflect.Type) string {
	bits := t.Bits()
	switch {
	case isInt(t) && bits == 64:
		return "a whole number"
	case isInt(t):
		return fmt.Sprintf("a whole number from %d to %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
	case isUint(t) && bits == 64:
		return "a whole number, 0 or more"
	case isUint(t):
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<bits-1)
	default:
		return "a number"
	}
}

func describeQuoted(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a quoted string"
	default:
		return describeNumber(t)
	}
}

// validNumber reports whether s is a JSON number literal, as
// encoding/json checks a string stored in a json.Number.
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = strings.TrimLeft(s, "0123456789")
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
		s = strings.TrimLeft(s[2:], "0123456789")
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		if !isDigit(s[0]) {
			return false
		}
		s = strings.TrimLeft(s, "0123456789")
	}
	return s == ""
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
