package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// kind is the kind of a JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// describe names the kind as messages use it: "got a string".
func (k kind) describe() string {
	switch k {
	case kindBool:
		return "true or false"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "a list"
	case kindObject:
		return "an object"
	default:
		return "null"
	}
}

// node is a parsed JSON value. Objects keep their members in document
// order, so problems are reported in a stable order.
type node struct {
	kind kind
	// text is a string's value or a number's literal.
	text string
	// keys and elems are an object's members (keys[i] → elems[i]) or an
	// array's elements (keys nil).
	keys  []string
	elems []*node
}

// parse reads exactly one JSON value from data.
func parse(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec, 0)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch _, err := dec.Token(); {
	case errors.Is(err, io.EOF):
		return n, nil
	case err != nil:
		return nil, err
	default:
		return nil, errors.New("more than one value")
	}
}

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

func parseValue(dec *json.Decoder, depth int) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		return &node{kind: kindBool}, nil
	case json.Number:
		return &node{kind: kindNumber, text: string(t)}, nil
	case string:
		return &node{kind: kindString, text: t}, nil
	case json.Delim:
		if depth++; depth > maxDepth {
			return nil, errors.New("exceeded max depth")
		}
		n := &node{kind: kindArray}
		if t == '{' {
			n.kind = kindObject
		}
		for dec.More() {
			if n.kind == kindObject {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key.(string))
			}
			elem, err := parseValue(dec, depth)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, elem)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	default:
		return nil, fmt.Errorf("unexpected token %v", tok)
	}
}
