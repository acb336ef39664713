package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/config"
	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/workflows"
)

// extensionsCommand installs or checks PostgreSQL extensions, or prints the
// catalog.
//
//	starter extensions [--profile recommended] [--names a,b] [--database db] [--check] [--json]
//	starter extensions --catalog [--json] [--pg-major 15]
func extensionsCommand() command {
	return command{name: "extensions", summary: "install or check PostgreSQL extensions (--catalog: list them)", run: runExtensions}
}

func runExtensions(ctx context.Context, a *app, args []string) error {
	fs := flag.NewFlagSet("extensions", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	profile := fs.String("profile", "", `extension profile: "recommended" or "all" (default: recommended, or none when --names is given)`)
	names := fs.String("names", "", "comma-separated catalog extensions to install (in addition to --profile)")
	database := fs.String("database", "", "database to install into (default: the ingest database of DATABASE_URL)")
	check := fs.Bool("check", false, "only report what would happen; create nothing")
	catalog := fs.Bool("catalog", false, "print the extension catalog and exit; needs no server")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	pgMajor := fs.Int("pg-major", 0, "with --catalog: PostgreSQL major version to render package names for (default: the {major} pattern)")
	id := fs.String("id", "", "workflow ID (default: "+config.PipelineIDPrefix+"extensions-<UTC time>-<random>); one already running fails the start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("extensions: unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	cat := pgext.Default()
	if *catalog {
		return printExtensionCatalog(a.stdout, cat, *pgMajor, *asJSON)
	}

	in := activities.InstallExtensionsInput{Profile: *profile, Names: config.SplitList(*names), Database: *database, CheckOnly: *check}
	if _, err := cat.Resolve(in.Profile, in.Names, 0); err != nil {
		return fmt.Errorf("extensions: --%w", err)
	}
	wfID := *id
	if wfID == "" {
		wfID = newWorkflowID(config.PipelineIDPrefix + "extensions-")
	}
	pin := workflows.PipelineInput{Stages: []string{workflows.StageExtensions}, Extensions: in}
	run, err := a.start(ctx, a.stderr, wfID, "congressflow extensions stage", workflows.PipelineWorkflow, pin)
	if err != nil {
		return err
	}
	var out workflows.PipelineResult
	if err := run.Get(ctx, &out); err != nil {
		return fmt.Errorf("pipeline %s: %w", run.GetID(), err)
	}
	if out.Extensions == nil {
		return fmt.Errorf("pipeline %s returned no extensions result", run.GetID())
	}
	res := *out.Extensions
	if *asJSON {
		if err := writeJSON(a.stdout, res); err != nil {
			return err
		}
	} else if err := printExtensionResults(a.stdout, res); err != nil {
		return err
	}
	if res.Counts.Failed > 0 {
		return fmt.Errorf("extensions: %d failed (see the detail column)", res.Counts.Failed)
	}
	return nil
}

// printExtensionResults writes the outcome table and a summary.
func printExtensionResults(w io.Writer, res activities.InstallExtensionsResult) error {
	mode := ""
	if res.CheckOnly {
		mode = " (check only: nothing was created)"
	}
	fmt.Fprintf(w, "database %s as %s, server_version_num %d%s\n\n", res.Database, res.Role, res.ServerVersionNum, mode)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCATEGORY\tOUTCOME\tDETAIL")
	for _, r := range res.Outcomes {
		detail := r.Detail
		if r.Version != "" {
			detail = strings.TrimSuffix("version "+r.Version+"; "+detail, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Category, r.Outcome, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := res.Counts
	fmt.Fprintf(w, "\ninstalled %d, already present %d, needs preload %d, not available %d, not permitted %d, failed %d",
		c.Installed, c.AlreadyPresent, c.NeedsPreload, c.NotAvailable, c.NotPermitted, c.Failed)
	if c.Installable > 0 {
		fmt.Fprintf(w, ", installable %d", c.Installable)
	}
	fmt.Fprintln(w)
	if hint := preloadHint(res, "`starter extensions`"); hint != "" {
		fmt.Fprintln(w, "next:", hint)
	}
	return nil
}

// printExtensionCatalog writes the catalog as a table or as JSON.
func printExtensionCatalog(w io.Writer, cat pgext.Catalog, major int, asJSON bool) error {
	exts := cat.Extensions()
	if major > 0 {
		for i := range exts {
			exts[i].Package = exts[i].PackageFor(major)
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(exts)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCATEGORY\tPACKAGE\tPRELOAD\tTRUSTED\tREQUIRES")
	for _, e := range exts {
		pkg := e.Package
		if e.Repository != "" && e.Repository != pgext.RepoDebian {
			pkg += " (" + e.Repository + ")"
		}
		trusted := "no"
		if e.Trusted {
			trusted = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Category, pkg, orDash(e.Preload), trusted, orDash(strings.Join(e.Requires, ",")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d extensions; recommended profile: %s\n", len(exts), strings.Join(cat.Recommended(), ", "))
	return nil
}
