// Package strictjson decodes JSON into Go structs the way encoding/json
// does, but reports every field the type does not know and every value of
// the wrong kind, instead of dropping the first silently and stopping at
// the second.
//
// It is made for Temporal workflow inputs. A payload that fails to decode
// inside the SDK fails the workflow task, which is retried forever; a
// misspelt field that decodes fine is silently ignored. So decoding must
// never fail, and must still remember what did not fit. A workflow input
// type does this with one method and one field:
//
//	type IngestInput struct {
//		Endpoints []string `json:"endpoints,omitempty"`
//		problems  strictjson.Problems
//	}
//
//	func (in *IngestInput) UnmarshalJSON(data []byte) error {
//		type plain IngestInput // the same fields, without this method
//		in.problems = strictjson.Unmarshal(data, (*plain)(in))
//		return nil
//	}
//
// and its Validate reports in.problems.Err() first. A struct that holds a
// [Problems] field is checked field by field when it is nested in another
// input, so the outer input names the inner one's problems with their full
// path ("unknown field \"aply\" in tune; did you mean \"apply\"?").
//
// What counts as known follows encoding/json exactly: exported fields by
// their json tag or Go name, the fields of embedded structs at the level of
// the struct that embeds them, and a key that matches a name except for
// case. Types with their own UnmarshalJSON or UnmarshalText decide for
// themselves and are not looked into.
package strictjson

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Problems is what [Unmarshal] found wrong with a document, in document
// order. The zero value means none. Keep it in an unexported field of the
// input type: JSON ignores it, and its presence marks the type as strict
// for the inputs that nest it.
type Problems struct {
	list []Problem
}

// Err returns nil when there are no problems, else an [*Error] listing
// them all.
func (p Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{Problems: slices.Clone(p.list)}
}

// Error is every problem of a document. Its message is one line: the
// problems joined by "; ".
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// Problem is one way a document does not fit its Go type.
type Problem struct {
	// Path locates the value: "" for the document itself, else JSON field
	// names and list indexes such as "tune" or "tune.overrides[0]". For an
	// unknown field it is the object that holds the field.
	Path string
	// Field is the unknown key as written; empty for other problems.
	Field string
	// Suggestion is the known field closest to Field, when one is close
	// enough to be a likely misspelling.
	Suggestion string
	msg        string
}

func (p Problem) Error() string { return p.msg }

var (
	problemsType         = reflect.TypeFor[Problems]()
	jsonUnmarshalerType  = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType  = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
	jsonNumberType       = reflect.TypeFor[json.Number]()
	errNotPointerMessage = "strictjson: Unmarshal needs a non-nil pointer to a struct"
)

// Unmarshal decodes data into v, a non-nil pointer to a struct, as
// json.Unmarshal would, and returns what did not fit: unknown fields (with
// the closest known name), values of the wrong kind, a document that is
// not an object, and invalid JSON. It never fails: a field that fits is
// set even when another does not. `null` leaves v as it is, which for a
// freshly made input is the zero value.
//
// v must not be of a type whose UnmarshalJSON calls Unmarshal, or the two
// would call each other forever: pass a pointer to a method-free copy of
// the type, as in the package example.
func Unmarshal(data []byte, v any) Problems {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return Problems{list: []Problem{{msg: errNotPointerMessage}}}
	}
	problems := check(data, rv.Elem().Type())
	if len(problems) > 0 && (problems[0].Path == "" && problems[0].Field == "") {
		// Invalid JSON or not an object: nothing to decode.
		return Problems{list: problems}
	}
	if err := json.Unmarshal(data, v); err != nil && len(problems) == 0 {
		// Something check does not look into (a type with its own
		// UnmarshalJSON or UnmarshalText) refused its value.
		problems = append(problems, Problem{msg: "input: " + strings.TrimPrefix(err.Error(), "json: ")})
	}
	return Problems{list: problems}
}

// check compares the document with the type without decoding it.
func check(data []byte, t reflect.Type) []Problem {
	root, err := parse(data)
	if err != nil {
		return []Problem{{msg: "input is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}}
	}
	if root.kind != kindObject && root.kind != kindNull {
		return []Problem{{msg: fmt.Sprintf("input is %s, not a JSON object: give an object such as {} (null also means {})", root.kind.describe())}}
	}
	var c checker
	c.value(root, t, "", false)
	return c.problems
}
