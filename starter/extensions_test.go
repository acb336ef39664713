package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/devserver"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/pgtest"
	"github.com/opendiscourse/congressflow/workflows"
)

func extTestApp(t *testing.T) (*app, *bytes.Buffer) {
	t.Helper()
	var out, errs bytes.Buffer
	return &app{stdout: &out, stderr: &errs, logger: slog.New(slog.NewTextHandler(&errs, nil)), taskQueue: "congressflow-ext-test"}, &out
}

func TestExtensionsCatalogNeedsNoServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{name: "table", args: []string{"--catalog"}, check: func(t *testing.T, out string) {
			require.Regexp(t, `(?m)^NAME\s+CATEGORY\s+PACKAGE\s+PRELOAD\s+TRUSTED\s+REQUIRES$`, out)
			require.Regexp(t, `(?m)^pg_cron\s+scheduling\s+postgresql-\{major\}-cron\s+pg_cron\s+no\s+-$`, out)
			require.Regexp(t, `(?m)^earthdistance\s+gis\s+contrib\s+-\s+no\s+cube$`, out)
			require.Regexp(t, `(?m)^vector\s+vectors\s+postgresql-\{major\}-pgvector \(pgdg\)`, out)
			require.Contains(t, out, "recommended profile: pg_stat_statements,")
		}},
		{name: "json for a version", args: []string{"--catalog", "--json", "--pg-major", "16"}, check: func(t *testing.T, out string) {
			var exts []pgext.Extension
			require.NoError(t, json.Unmarshal([]byte(out), &exts))
			require.Len(t, exts, len(pgext.Default().Extensions()))
			byName := map[string]pgext.Extension{}
			for _, e := range exts {
				byName[e.Name] = e
			}
			require.Equal(t, "postgresql-16-cron", byName["pg_cron"].Package)
			require.Equal(t, "pg_cron", byName["pg_cron"].Preload)
			require.True(t, byName["citext"].Trusted)
			require.Equal(t, []string{"cube"}, byName["earthdistance"].Requires)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, out := extTestApp(t)
			require.NoError(t, runExtensions(context.Background(), a, tt.args))
			tt.check(t, out.String())
		})
	}
}

func TestExtensionsRejectsBadInputBeforeDialling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"--names", "citext,nope"}, wantErr: `--names: unknown extension "nope"`},
		{args: []string{"--profile", "most"}, wantErr: `--profile: unknown profile "most"`},
		{args: []string{"stray"}, wantErr: `unexpected argument "stray"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			a, _ := extTestApp(t)
			require.ErrorContains(t, runExtensions(context.Background(), a, tt.args), tt.wantErr)
			require.Nil(t, a.client, "no Temporal connection for bad input")
		})
	}
}

func TestPrintExtensionResults(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, printExtensionResults(&buf, activities.InstallExtensionsResult{
		Database: "ingest", Role: "postgres", ServerVersionNum: 150018,
		Outcomes: []pgext.Result{
			{Name: "pg_stat_statements", Category: pgext.CategoryMonitoring, Outcome: pgext.OutcomeNeedsPreload, Detail: "library pg_stat_statements is not loaded"},
			{Name: "citext", Category: pgext.CategoryDataTypes, Outcome: pgext.OutcomeInstalled, Version: "1.6"},
		},
		Counts:        pgext.Counts{Installed: 1, NeedsPreload: 1},
		PreloadNeeded: []string{"pg_stat_statements"},
		RestartNeeded: true,
	}))
	out := buf.String()
	require.Regexp(t, `(?m)^NAME\s+CATEGORY\s+OUTCOME\s+DETAIL$`, out)
	require.Regexp(t, `(?m)^pg_stat_statements\s+monitoring\s+needs_preload\s+library pg_stat_statements is not loaded$`, out)
	require.Regexp(t, `(?m)^citext\s+data types\s+installed\s+version 1\.6$`, out)
	require.Contains(t, out, "installed 1, already present 0, needs preload 1,")
	require.Contains(t, out, `next: starter run --input '{"tune":{"apply":true,"restart_policy":"command"}}' adds pg_stat_statements to shared_preload_libraries`)
}

// TestExtensionsCommandEndToEnd starts the stage through the real
// PipelineWorkflow on a Temporal dev server against a PostgreSQL cluster of
// its own.
func TestExtensionsCommandEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := devserver.Start(t)
	cluster := pgtest.Start(t)
	admin, err := pgx.Connect(ctx, cluster.URL("postgres"))
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `CREATE DATABASE ingest`)
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))
	pool := pgtest.MigratedPool(t, cluster.URL("ingest"))

	a, out := extTestApp(t)
	a.client = srv.Client()
	w := worker.New(a.client, a.taskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Extensions{Pool: pool})
	require.NoError(t, w.Start())
	defer w.Stop()

	require.NoError(t, runExtensions(ctx, a, []string{"--names", "citext,pg_partman", "--check"}))
	require.Regexp(t, `(?m)^citext\s+data types\s+installable`, out.String())
	require.Contains(t, out.String(), "check only")

	out.Reset()
	require.NoError(t, runExtensions(ctx, a, []string{"--names", "citext,pg_partman"}))
	require.Regexp(t, `(?m)^citext\s+data types\s+installed\s+version \d`, out.String())
	require.Regexp(t, `(?m)^pg_partman\s+partitioning\s+not_available\s+not in pg_available_extensions: install package postgresql-15-partman`, out.String())

	out.Reset()
	require.NoError(t, runExtensions(ctx, a, []string{"--names", "citext", "--json"}))
	var res activities.InstallExtensionsResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.Equal(t, pgext.OutcomeAlreadyPresent, res.Outcomes[0].Outcome)
	require.Equal(t, "ingest", res.Database)
}
