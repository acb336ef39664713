package workflows

import "github.com/opendiscourse/congressflow/internal/strictjson"

// The workflow inputs decode leniently: decoding never fails (a payload
// that fails to decode inside the SDK fails the workflow task, which is
// retried forever), and what did not fit (an unknown field, a value of the
// wrong kind, a document that is not an object) is kept for Validate,
// which fails the workflow with a non-retryable InvalidInput error naming
// it. `null` is the zero value.

// UnmarshalJSON decodes a [PipelineInput], keeping unknown fields and
// values of the wrong kind, the tune and extensions parts included, for
// [PipelineInput.Validate].
func (in *PipelineInput) UnmarshalJSON(data []byte) error {
	type plain PipelineInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}

// UnmarshalJSON decodes a [TuneInput], keeping unknown fields and values
// of the wrong kind for [TuneInput.Validate].
func (in *TuneInput) UnmarshalJSON(data []byte) error {
	type plain TuneInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}

// UnmarshalJSON decodes a [RevertInput], keeping unknown fields and values
// of the wrong kind for [RevertInput.Validate].
func (in *RevertInput) UnmarshalJSON(data []byte) error {
	type plain RevertInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}

// UnmarshalJSON decodes an [IngestInput], keeping unknown fields and
// values of the wrong kind for [IngestInput.Validate].
func (in *IngestInput) UnmarshalJSON(data []byte) error {
	type plain IngestInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}

// UnmarshalJSON decodes an [IngestEndpointInput], keeping unknown fields
// and values of the wrong kind for [IngestEndpointInput.Validate].
func (in *IngestEndpointInput) UnmarshalJSON(data []byte) error {
	type plain IngestEndpointInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}

// UnmarshalJSON decodes a [ReportInput], keeping unknown fields and values
// of the wrong kind for [ReportInput.Validate].
func (in *ReportInput) UnmarshalJSON(data []byte) error {
	type plain ReportInput
	in.problems = strictjson.Unmarshal(data, (*plain)(in))
	return nil
}
