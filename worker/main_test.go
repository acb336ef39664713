package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUsageNeverShowsTheDatabasePassword: flag usage prints defaults, so
// the database URL must not be one.
func TestUsageNeverShowsTheDatabasePassword(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "postgres://u:S3CRET@db:5432/x"}
	for _, args := range [][]string{{"--bogus"}, {"-h"}, {"--activity-slots", "many"}} {
		var out, errs bytes.Buffer
		err := run(context.Background(), args, &out, &errs, func(k string) string { return env[k] })
		require.Error(t, err)
		require.NotContains(t, errs.String()+out.String()+err.Error(), "S3CRET", "args %v", args)
	}
}

func TestBadOverrideNamesTheSetting(t *testing.T) {
	t.Parallel()
	var out, errs bytes.Buffer
	err := run(context.Background(), nil, &out, &errs, func(k string) string {
		return map[string]string{"WORKER_ACTIVITY_SLOTS": "-3"}[k]
	})
	require.ErrorContains(t, err, `WORKER_ACTIVITY_SLOTS="-3"`)
}
