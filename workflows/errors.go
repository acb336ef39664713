package workflows

import (
	"strings"
)

// inputErrors is every problem found in a workflow input. Its message is one
// line ("field: problem; field: problem"), as the CLI, the Web UI and logs
// show it; errors.Is and errors.As still see each problem.
type inputErrors []error

func (e inputErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return strings.Join(msgs, "; ")
}

func (e inputErrors) Unwrap() []error { return e }

// joinInputErrors returns nil when no error is non-nil, else the non-nil
// errors as one [inputErrors].
func joinInputErrors(errs ...error) error {
	var out inputErrors
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
