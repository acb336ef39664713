package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

type fuzzLeaf struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type fuzzEmbedded struct {
	Depth  int        `json:"depth"`
	Leaves []fuzzLeaf `json:"leaves"`
	Shadow string     `json:"shadow"`
	Twice  bool
	//lint:ignore U1000 an unexported field, which JSON ignores, is part of the test
	private int
}

type fuzzOther struct {
	Twice bool
}

// fuzzInput covers what workflow inputs use and a little more: embedded
// structs (with a shadowed and an ambiguous name), nested structs,
// pointers, slices and arrays, maps, interfaces and every number width.
type fuzzInput struct {
	fuzzEmbedded
	*fuzzOther
	Shadow   int               `json:"shadow"`
	Leaf     fuzzLeaf          `json:"leaf"`
	Ptr      *fuzzLeaf         `json:"ptr"`
	PtrPtr   **int16           `json:"ptr_ptr"`
	Pair     [2]uint8          `json:"pair"`
	Bytes    []byte            `json:"bytes"`
	Counts   map[string]int32  `json:"counts"`
	ByID     map[int8]fuzzLeaf `json:"by_id"`
	Any      any               `json:"any"`
	Float    float32           `json:"float"`
	Uint     uint64            `json:"uint"`
	Number   json.Number       `json:"number"`
	Flag     bool              `json:"flag"`
	Untagged string
}

// FuzzCheckAgreesWithEncodingJSON holds check to encoding/json: a document
// has no problems exactly when encoding/json decodes it, with unknown
// fields disallowed, into the same type; and Unmarshal then decodes the
// same value.
func FuzzCheckAgreesWithEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `"x"`, `[1]`, `{"depth":1,"leaves":[{"name":"a","value":"b"}],"shadow":2}`,
		`{"twice":true}`, `{"Twice":true,"fuzzOther":{}}`, `{"leaf":{"nmae":"x"}}`, `{"ptr":{"name":"x"},"ptr_ptr":7}`,
		`{"pair":[1,2,3]}`, `{"pair":[1,300]}`, `{"bytes":"aGk="}`, `{"bytes":"!"}`, `{"bytes":[1,2]}`,
		`{"counts":{"a":1}}`, `{"by_id":{"-1":{"name":"x"},"300":{}}}`, `{"any":{"a":[1e400]}}`,
		`{"float":1e39}`, `{"uint":-1}`, `{"number":"12"}`, `{"number":"x"}`, `{"flag":"true"}`,
		`{"UNTAGGED":"x","DEPTH":2}`, `{"ſhadow":1}`, `{"depth":1.5}`, `{"leaves":{}}`, `{"a":1,"a":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		problems := check(data, reflect.TypeFor[fuzzInput]())

		var want fuzzInput
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		stdErr := dec.Decode(&want)
		if stdErr == nil {
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				stdErr = errors.New("trailing data")
			}
		}
		if stdErr == nil && len(problems) > 0 {
			t.Fatalf("encoding/json decodes %q, but check reports %v", data, problems)
		}
		if stdErr != nil && len(problems) == 0 {
			t.Fatalf("encoding/json refuses %q (%v), but check reports nothing", data, stdErr)
		}

		var got fuzzInput
		type plain fuzzInput
		p := Unmarshal(data, (*plain)(&got))
		require.Equal(t, len(problems) == 0, p.Err() == nil)
		if stdErr == nil {
			require.Equal(t, want, got)
		}
	})
}
