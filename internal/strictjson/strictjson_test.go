package strictjson_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/strictjson"
)

type override struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// request is embedded: its fields are at the top level of tuneInput.
type request struct {
	Workload  string     `json:"workload,omitempty"`
	Memory    string     `json:"memory,omitempty"`
	Overrides []override `json:"overrides,omitempty"`
}

type extensions struct {
	Profile   string   `json:"profile,omitempty"`
	Names     []string `json:"names,omitempty"`
	CheckOnly bool     `json:"check_only,omitempty"`
}

// tuneInput is strict on its own and nested in pipelineInput.
type tuneInput struct {
	request
	Apply    bool `json:"apply,omitempty"`
	problems strictjson.Problems
}

func (in *tuneInput) UnmarshalJSON(data []byte) error {
	type plain tuneInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}

type pipelineInput struct {
	Stages     []string    `json:"stages,omitempty"`
	Tune       tuneInput   `json:"tune"`
	Extensions extensions  `json:"extensions"`
	Extra      *extensions `json:"extra,omitempty"`
	When       time.Time   `json:"when"`
	Small      int8        `json:"small,omitempty"`
	Quoted     int         `json:"quoted,string,omitempty"`
	Ignored    string      `json:"-"`
	problems   strictjson.Problems
}

func (in *pipelineInput) UnmarshalJSON(data []byte) error {
	type plain pipelineInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		want    func(*pipelineInput) // fields set despite problems
		wantErr string
	}{
		{name: "empty object", input: `{}`},
		{name: "null is the zero value", input: `null`},
		{name: "null fields", input: `{"stages":null,"tune":null,"extra":null}`},
		{name: "every field known", input: `{"stages":["analyze"],"tune":{"apply":true,"workload":"oltp","overrides":[{"name":"a","value":"b"}]},
			"extensions":{"profile":"all","check_only":true},"extra":{"names":["x"]},"when":"2026-01-02T03:04:05Z","small":-128,"quoted":"42"}`,
			want: func(in *pipelineInput) {
				in.Stages = []string{"analyze"}
				in.Tune.Apply, in.Tune.Workload, in.Tune.Overrides = true, "oltp", []override{{Name: "a", Value: "b"}}
				in.Extensions = extensions{Profile: "all", CheckOnly: true}
				in.Extra = &extensions{Names: []string{"x"}}
				in.When = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
				in.Small, in.Quoted = -128, 42
			}},
		{name: "names match but for case, as encoding/json matches them", input: `{"STAGES":["a"],"Extensions":{"Check_Only":true},"tune":{"Workload":"web"}}`,
			want: func(in *pipelineInput) {
				in.Stages, in.Extensions.CheckOnly, in.Tune.Workload = []string{"a"}, true, "web"
			}},
		{name: "top-level misspelling", input: `{"stagez":["analyze"]}`,
			wantErr: `unknown field "stagez"; did you mean "stages"?`},
		{name: "nested struct", input: `{"stages":["extensions"],"extensions":{"checkonly":true}}`,
			want:    func(in *pipelineInput) { in.Stages = []string{"extensions"} },
			wantErr: `unknown field "checkonly" in extensions; did you mean "check_only"?`},
		{name: "nested strict input", input: `{"tune":{"aply":true}}`,
			wantErr: `unknown field "aply" in tune; did you mean "apply"?`},
		{name: "embedded struct fields are at the top level", input: `{"tune":{"workload":"dw","memroy":"4GB"}}`,
			want:    func(in *pipelineInput) { in.Tune.Workload = "dw" },
			wantErr: `unknown field "memroy" in tune; did you mean "memory"?`},
		{name: "embedded struct is no field of its own", input: `{"tune":{"request":{}}}`,
			wantErr: `unknown field "request" in tune; known fields: workload, memory, overrides, apply`},
		{name: "slice of structs", input: `{"tune":{"overrides":[{"name":"a","value":"b"},{"name":"c","valeu":"d"}]}}`,
			want:    func(in *pipelineInput) { in.Tune.Overrides = []override{{Name: "a", Value: "b"}, {Name: "c"}} },
			wantErr: `unknown field "valeu" in tune.overrides[1]; did you mean "value"?`},
		{name: "pointer to struct", input: `{"extra":{"profil":"all"}}`,
			want:    func(in *pipelineInput) { in.Extra = &extensions{} },
			wantErr: `unknown field "profil" in extra; did you mean "profile"?`},
		{name: "separators and case", input: `{"extensions":{"CheckOnly":true,"check-only":true}}`,
			wantErr: `unknown field "CheckOnly" in extensions; did you mean "check_only"?; unknown field "check-only" in extensions; did you mean "check_only"?`},
		{name: "nothing close", input: `{"zzz":1}`,
			wantErr: `unknown field "zzz"; known fields: stages, tune, extensions, extra, when, small, quoted`},
		{name: "a field tagged - is unknown", input: `{"Ignored":"x"}`,
			wantErr: `unknown field "Ignored"; known fields:`},
		{name: "every problem, in document order", input: `{"tune":{"aply":true,"apply":"yes"},"stagez":[],"small":300,"stages":"analyze"}`,
			wantErr: `unknown field "aply" in tune; did you mean "apply"?; tune.apply: got a string, want true or false; ` +
				`unknown field "stagez"; did you mean "stages"?; small: got 300, want a whole number from -128 to 127; stages: got a string, want a list`},
		{name: "wrong kinds deep down", input: `{"tune":{"overrides":[{"name":1}]},"extensions":{"names":"pg_cron"},"extra":[]}`,
			wantErr: `tune.overrides[0].name: got a number, want a string; extensions.names: got a string, want a list; extra: got a list, want an object`},
		{name: "quoted field", input: `{"quoted":42}`, wantErr: `quoted: got a number, want a string (the field has the ,string option)`},
		{name: "quoted field holding no number", input: `{"quoted":"many"}`, wantErr: `quoted: got a string that does not hold a whole number`},
		{name: "a type that decodes itself reports through encoding/json", input: `{"when":"soon"}`,
			wantErr: `input: parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006"`},
		{name: "a string", input: `"x"`,
			wantErr: `input is a string, not a JSON object: give an object such as {} (null also means {})`},
		{name: "a list", input: `[1]`,
			wantErr: `input is a list, not a JSON object: give an object such as {} (null also means {})`},
		{name: "a number", input: ` 7 `,
			wantErr: `input is a number, not a JSON object`},
		{name: "invalid JSON", input: `{"stages":`, wantErr: `input is not valid JSON: unexpected EOF`},
		{name: "two documents", input: `{} {}`, wantErr: `input is not valid JSON: more than one value`},
		{name: "empty", input: ``, wantErr: `input is not valid JSON: unexpected EOF`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got pipelineInput
			require.NoError(t, got.UnmarshalJSON([]byte(tt.input)), "decoding never fails")
			err := got.problems.Err()
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			var want pipelineInput
			if tt.want != nil {
				tt.want(&want)
				require.Equal(t, want.Stages, got.Stages)
				require.Equal(t, want.Tune.request, got.Tune.request)
				require.Equal(t, want.Tune.Apply, got.Tune.Apply)
				require.Equal(t, want.Extensions, got.Extensions)
				require.Equal(t, want.Extra, got.Extra)
				require.True(t, want.When.Equal(got.When))
				require.Equal(t, want.Small, got.Small)
				require.Equal(t, want.Quoted, got.Quoted)
			}
		})
	}
}

func TestProblemFields(t *testing.T) {
	t.Parallel()
	var in pipelineInput
	require.NoError(t, in.UnmarshalJSON([]byte(`{"tune":{"overrides":[{"nmae":"x"}]},"zzz":true}`)))
	var serr *strictjson.Error
	require.ErrorAs(t, in.problems.Err(), &serr)
	require.Len(t, serr.Problems, 2)
	require.Equal(t, "tune.overrides[0]", serr.Problems[0].Path)
	require.Equal(t, "nmae", serr.Problems[0].Field)
	require.Equal(t, "name", serr.Problems[0].Suggestion)
	require.Empty(t, serr.Problems[1].Path)
	require.Equal(t, "zzz", serr.Problems[1].Field)
	require.Empty(t, serr.Problems[1].Suggestion)

	// The nested strict input saw its own part of the document.
	require.ErrorContains(t, in.Tune.problems.Err(), `unknown field "nmae" in overrides[0]; did you mean "name"?`)
}

func TestUnmarshalNeedsAStructPointer(t *testing.T) {
	t.Parallel()
	var s string
	require.ErrorContains(t, strictjson.Unmarshal([]byte(`"x"`), &s).Err(), "needs a non-nil pointer to a struct")
	require.ErrorContains(t, strictjson.Unmarshal([]byte(`{}`), (*extensions)(nil)).Err(), "needs a non-nil pointer to a struct")
}

func TestZeroProblemsIsNil(t *testing.T) {
	t.Parallel()
	require.NoError(t, strictjson.Problems{}.Err())
}
