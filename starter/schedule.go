package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/workflows"
)

// Schedule defaults.
const (
	// DefaultScheduleID names the schedule that keeps the database current.
	DefaultScheduleID = "congressflow-incremental"
	// defaultScheduleEvery is how often it runs.
	defaultScheduleEvery = time.Hour
)

// scheduleCommand manages the Temporal Schedule that runs the incremental
// ingest.
func scheduleCommand() command {
	return command{name: "schedule", summary: "the Temporal Schedule of the incremental ingest: create, update, describe, delete, list, trigger, pause, unpause", run: runSchedule}
}

// scheduleOptions are what create and update set.
type scheduleOptions struct {
	id      string
	every   time.Duration
	input   workflows.IngestInput
	paused  bool
	summary string
}

func runSchedule(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(a.stderr, "usage: starter schedule create|update|describe|delete|list|trigger|pause|unpause [--id ID] [flags]")
		return errors.New("schedule: name an action: create, update, describe, delete, list, trigger, pause or unpause")
	}
	action, args := args[0], args[1:]
	fs := flag.NewFlagSet("schedule "+action, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	id := fs.String("id", DefaultScheduleID, "schedule ID")
	every := fs.Duration("every", defaultScheduleEvery, "create/update: how often the ingest runs")
	input := fs.String("input", "", `create/update: IngestInput JSON (default {"mode":"incremental"}); mode must be incremental or full`)
	paused := fs.Bool("paused", false, "create: create it paused")
	asJSON := fs.Bool("json", false, "describe/list: print JSON")
	note := fs.String("note", "", "pause/unpause: why, shown in the schedule")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := a.dial(ctx)
	if err != nil {
		return err
	}
	sc := c.ScheduleClient()
	opts := func() (scheduleOptions, error) {
		if *every < time.Minute {
			return scheduleOptions{}, fmt.Errorf("--every %s: give at least 1m, e.g. 1h", *every)
		}
		in := workflows.IngestInput{Mode: "incremental"}
		if *input != "" {
			in = workflows.IngestInput{}
			if err := json.Unmarshal([]byte(*input), &in); err != nil {
				return scheduleOptions{}, fmt.Errorf("--input: %w", err)
			}
			if in.Mode == "" {
				in.Mode = "incremental"
			}
		}
		if err := in.Validate(); err != nil {
			return scheduleOptions{}, fmt.Errorf("--input: %w", err)
		}
		return scheduleOptions{id: *id, every: *every, input: in, paused: *paused,
			summary: fmt.Sprintf("%s ingest every %s", in.Mode, *every)}, nil
	}
	switch action {
	case "create":
		o, err := opts()
		if err != nil {
			return err
		}
		return createSchedule(ctx, a, sc, o)
	case "update":
		o, err := opts()
		if err != nil {
			return err
		}
		if err := updateSchedule(ctx, a, sc, o); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "updated schedule %s: %s\n", o.id, o.summary)
		return nil
	case "describe":
		return describeSchedule(ctx, a.stdout, sc.GetHandle(ctx, *id), *asJSON)
	case "delete":
		if err := sc.GetHandle(ctx, *id).Delete(ctx); err != nil {
			return scheduleError(*id, err)
		}
		fmt.Fprintf(a.stdout, "deleted schedule %s (runs it started keep running)\n", *id)
		return nil
	case "list":
		return listSchedules(ctx, a.stdout, sc, *asJSON)
	case "trigger":
		if err := sc.GetHandle(ctx, *id).Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}); err != nil {
			return scheduleError(*id, err)
		}
		fmt.Fprintf(a.stdout, "triggered schedule %s: a run starts now (temporal workflow list --query \"TemporalScheduledById='%s'\")\n", *id, *id)
		return nil
	case "pause":
		if err := sc.GetHandle(ctx, *id).Pause(ctx, client.SchedulePauseOptions{Note: *note}); err != nil {
			return scheduleError(*id, err)
		}
		fmt.Fprintf(a.stdout, "paused schedule %s\n", *id)
		return nil
	case "unpause":
		if err := sc.GetHandle(ctx, *id).Unpause(ctx, client.ScheduleUnpauseOptions{Note: *note}); err != nil {
			return scheduleError(*id, err)
		}
		fmt.Fprintf(a.stdout, "unpaused schedule %s\n", *id)
		return nil
	}
	return fmt.Errorf("schedule: unknown action %q: use create, update, describe, delete, list, trigger, pause or unpause", action)
}

// action is what the schedule starts: IngestWorkflow on the task queue,
// under an ID of the schedule's (Temporal appends the time).
func (a *app) scheduleAction(o scheduleOptions) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:            config.IngestIDPrefix + o.id,
		Workflow:      workflows.IngestWorkflow,
		Args:          []any{o.input},
		TaskQueue:     a.taskQueue,
		StaticSummary: o.summary,
	}
}

func scheduleSpec(every time.Duration) client.ScheduleSpec {
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
}

// createSchedule creates the schedule, or, when it exists, brings it to
// these options: running create twice leaves one schedule.
func createSchedule(ctx context.Context, a *app, sc client.ScheduleClient, o scheduleOptions) error {
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:     o.id,
		Spec:   scheduleSpec(o.every),
		Action: a.scheduleAction(o),
		// A run still going when the next is due is not doubled.
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		// After an outage, one missed run is caught up, not a backlog.
		CatchupWindow: o.every,
		Paused:        o.paused,
		Note:          "created by starter schedule create",
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err := updateSchedule(ctx, a, sc, o); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "schedule %s exists: updated to %s\n", o.id, o.summary)
		return nil
	}
	if err != nil {
		return scheduleError(o.id, err)
	}
	fmt.Fprintf(a.stdout, "created schedule %s: %s (overlap: skip, catch-up window %s)\n", o.id, o.summary, o.every)
	return nil
}

func updateSchedule(ctx context.Context, a *app, sc client.ScheduleClient, o scheduleOptions) error {
	err := sc.GetHandle(ctx, o.id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			spec := scheduleSpec(o.every)
			s.Spec = &spec
			s.Action = a.scheduleAction(o)
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			s.Policy.CatchupWindow = o.every
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	return scheduleError(o.id, err)
}

func describeSchedule(ctx context.Context, w io.Writer, h client.ScheduleHandle, asJSON bool) error {
	d, err := h.Describe(ctx)
	if err != nil {
		return scheduleError(h.GetID(), err)
	}
	if asJSON {
		return writeJSON(w, d)
	}
	fmt.Fprintf(w, "schedule %s\n", h.GetID())
	if s := d.Schedule.Spec; s != nil {
		for _, iv := range s.Intervals {
			fmt.Fprintf(w, "  every:        %s\n", iv.Every)
		}
	}
	if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		fmt.Fprintf(w, "  starts:       %v on %s (ID %s-<time>)\n", act.Workflow, act.TaskQueue, act.ID)
	}
	if p := d.Schedule.Policy; p != nil {
		fmt.Fprintf(w, "  overlap:      %s, catch-up window %s\n", p.Overlap, p.CatchupWindow)
	}
	st := d.Schedule.State
	fmt.Fprintf(w, "  paused:       %v %s\n", st.Paused, st.Note)
	fmt.Fprintf(w, "  runs:         %d taken, %d skipped for overlap, %d missed\n", d.Info.NumActions, d.Info.NumActionsSkippedOverlap, d.Info.NumActionsMissedCatchupWindow)
	for _, r := range d.Info.RecentActions {
		fmt.Fprintf(w, "  recent run:   %s at %s\n", r.StartWorkflowResult.WorkflowID, r.ActualTime.UTC().Format(time.RFC3339))
	}
	for i, t := range d.Info.NextActionTimes {
		if i == 3 {
			break
		}
		fmt.Fprintf(w, "  next run:     %s\n", t.UTC().Format(time.RFC3339))
	}
	return nil
}

func listSchedules(ctx context.Context, w io.Writer, sc client.ScheduleClient, asJSON bool) error {
	iter, err := sc.List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return fmt.Errorf("list schedules: %w", err)
	}
	var all []*client.ScheduleListEntry
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			return fmt.Errorf("list schedules: %w", err)
		}
		all = append(all, e)
	}
	if asJSON {
		return writeJSON(w, all)
	}
	if len(all) == 0 {
		fmt.Fprintln(w, "no schedules (starter schedule create makes the hourly incremental ingest)")
	}
	for _, e := range all {
		fmt.Fprintf(w, "%-32s paused=%-5v %s\n", e.ID, e.Paused, e.WorkflowType.Name)
	}
	return nil
}

// scheduleError says what to do about a schedule that is not there.
func scheduleError(id string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("schedule %s does not exist: create it with `starter schedule create --id %s`", id, id)
	}
	if err != nil {
		return fmt.Errorf("schedule %s: %w", id, err)
	}
	return nil
}
