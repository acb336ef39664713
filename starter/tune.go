package main

import (
	"context"
	"errors"
)

// tuneCommand prints and applies the PostgreSQL tuning plan.
func tuneCommand() command {
	return command{name: "tune", summary: "plan or apply PostgreSQL tuning", run: func(context.Context, *app, []string) error {
		return errors.New("tune: not available in this build")
	}}
}
