package strictjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNestingLimitMatchesEncodingJSON: a document nested as deep as
// encoding/json allows is checked (in linear time: paths are built only
// for problems); one level more is refused by both.
func TestNestingLimitMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{maxDepth - 1, maxDepth} {
		// The outer object is one level; "any" holds the rest.
		data := []byte(`{"any":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
		var v fuzzInput
		stdErr := json.Unmarshal(data, &v)
		problems := check(data, reflect.TypeFor[fuzzInput]())
		if depth < maxDepth {
			require.NoError(t, stdErr)
			require.Empty(t, problems)
		} else {
			require.ErrorContains(t, stdErr, "exceeded max depth")
			require.Len(t, problems, 1)
			require.Contains(t, problems[0].Error(), "exceeded max depth")
		}
	}
}
