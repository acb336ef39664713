package congress

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDescribeBody covers the summaries of non-JSON bodies, including
// bytes whose lower case has another length.
func TestDescribeBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, contentType, want string
	}{
		{"empty", " \n", "", "empty body"},
		{"HTML title", "<HTML><TITLE>Just a moment...</TITLE></HTML>", "text/html", `HTML page "Just a moment..."`},
		{"invalid UTF-8 before the title", "\xbc\xbc\xbc\xbc\xbc<title>x</title>", "", `HTML page "x"`},
		{"empty title after invalid UTF-8", "\xbc\xbc\xbc\xbc\xbc<title></title>", "", `HTML page ""`},
		{"capital dotted I before the title", "İİİ<title>Bad gateway</title>", "", `HTML page "Bad gateway"`},
		{"plain text", "oops", "text/plain", `non-JSON body (text/plain): "oops"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, describeBody([]byte(tt.body), tt.contentType))
		})
	}
}
