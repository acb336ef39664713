package activities_test

import (
	"testing"

	"github.com/opendiscourse/congressflow/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
