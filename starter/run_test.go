package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/devserver"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/workflows"
)

var startedID = regexp.MustCompile(`(?m)^  workflow id: (\S+)\n  run id:      (\S+)\n  web ui:      (\S+)$`)

// TestRunStartsNeverShareARun: starts in the same second get runs of
// their own, and an ID that is already running fails the start loudly
// instead of attaching to that run. No worker polls the queue, so every
// started run stays open.
func TestRunStartsNeverShareARun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := devserver.Start(t)
	var out, errs bytes.Buffer
	a := &app{stdout: &out, stderr: &errs, logger: slog.New(slog.NewTextHandler(&errs, nil)),
		taskQueue: "congressflow-run-test", webUI: "http://ui", client: srv.Client()}

	start := func(args ...string) (id, runID string) {
		t.Helper()
		out.Reset()
		require.NoError(t, runPipeline(ctx, a, args))
		m := startedID.FindAllStringSubmatch(out.String(), -1)
		require.Len(t, m, 1, "workflow ID, run ID and link are printed once:\n%s", out.String())
		require.Equal(t, "http://ui/namespaces/default/workflows/"+m[0][1]+"/"+m[0][2]+"/history", m[0][3])
		return m[0][1], m[0][2]
	}
	idA, runA := start("--stages", "analyze")
	idB, runB := start("--stages", "extensions")
	require.NotEqual(t, idA, idB)
	require.NotEqual(t, runA, runB)
	require.Regexp(t, `^congressflow-pipeline-\d{8}T\d{6}\.\d{3}Z-[0-9a-z]{8}$`, idA)
	for _, r := range [][2]string{{idA, runA}, {idB, runB}} {
		desc, err := a.client.DescribeWorkflow(ctx, r[0], r[1])
		require.NoError(t, err)
		require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.RawResponse.WorkflowExecutionInfo.Status)
	}

	out.Reset()
	err := runPipeline(ctx, a, []string{"--id", idA, "--stages", "tune"})
	require.ErrorContains(t, err, "start workflow "+idA+": a workflow with this ID is already running (run "+runA+"), so nothing was started")
	require.NotContains(t, out.String(), "workflow id:", "nothing started, nothing printed")

	// The --json form keeps stdout for the result: the start goes to stderr.
	out.Reset()
	errs.Reset()
	require.NoError(t, runPipeline(ctx, a, []string{"--json", "--stages", "analyze"}))
	require.Empty(t, out.String())
	require.Len(t, startedID.FindAllString(errs.String(), -1), 1)
	require.False(t, strings.Contains(errs.String(), "workflow started"), "no second report in the log")
}

// TestPipelineSummaryNamesEveryExtension: each extension of the result
// appears in the summary with its outcome, and the hint for those waiting
// for shared_preload_libraries says what to run: after a dry-run tune, the
// apply with a restart; after an apply that waits for a restart, the
// restart.
func TestPipelineSummaryNamesEveryExtension(t *testing.T) {
	t.Parallel()
	recommended := pgext.Default().Recommended()
	var outcomes []pgext.Result
	for _, name := range recommended {
		r := pgext.Result{Name: name, Outcome: pgext.OutcomeInstalled}
		switch name {
		case "pg_stat_statements":
			r = pgext.Result{Name: name, Outcome: pgext.OutcomeNeedsPreload, Preload: name, Detail: "library pg_stat_statements is not in shared_preload_libraries"}
		case "pg_cron":
			r = pgext.Result{Name: name, Outcome: pgext.OutcomeNotAvailable, Package: "postgresql-15-cron", Detail: "optional member of the recommended profile"}
		case "hstore":
			r.Outcome = pgext.OutcomeAlreadyPresent
		}
		outcomes = append(outcomes, r)
	}
	ext := activities.InstallExtensionsResult{Database: "ingest", Outcomes: outcomes, Counts: pgext.CountOutcomes(outcomes),
		PreloadNeeded: []string{"pg_stat_statements"}, RestartNeeded: true}

	var buf bytes.Buffer
	printPipelineSummary(&buf, workflows.PipelineResult{Stages: []string{"tune", "extensions"},
		Tune: &workflows.TuneResult{DryRun: true, Summary: "dry run"}, Extensions: &ext})
	out := buf.String()
	require.Contains(t, out, "extensions: 14 installed, 1 already present, 1 need preload, 1 not available, 0 not permitted, 0 failed (database ingest)")
	for _, name := range recommended {
		require.Regexp(t, `(?m)^ {14}(\S+:\s+(\S+, )*`+regexp.QuoteMeta(name)+`(,|$)|`+regexp.QuoteMeta(name)+`\s+\S+\s+\S)`, out, "%s is named", name)
	}
	require.Regexp(t, `(?m)^ {14}already_present:\s+hstore$`, out)
	require.Regexp(t, `(?m)^ {14}pg_cron\s+not_available\s+optional member of the recommended profile$`, out)
	require.Regexp(t, `(?m)^ {14}pg_stat_statements\s+needs_preload\s+library pg_stat_statements`, out)
	require.Contains(t, out, `next: starter run --input '{"tune":{"apply":true,"restart_policy":"command"}}' adds pg_stat_statements to shared_preload_libraries`)
	require.NotContains(t, out, "run this stage again")

	buf.Reset()
	ext.PreloadPendingRestart = true
	printPipelineSummary(&buf, workflows.PipelineResult{Stages: []string{"tune", "extensions"},
		Tune: &workflows.TuneResult{Summary: "changed 20 settings", PendingRestart: []string{"shared_preload_libraries"}}, Extensions: &ext})
	require.Contains(t, buf.String(), "next: a shared_preload_libraries change waits for a restart: restart PostgreSQL, then run the pipeline again")
}
