package pgext_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgext"
)

// plainIdent is what PostgreSQL's quote_identifier leaves unquoted (it
// also quotes keywords, which reads back the same either way).
var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// formatPreload writes libraries as PostgreSQL prints a GUC_LIST_QUOTE
// setting: items joined by ", ", each quoted unless it is a plain
// identifier, or always quoted (as pgx.Identifier.Sanitize does).
func formatPreload(libs []string, alwaysQuote bool) string {
	items := make([]string, len(libs))
	for i, lib := range libs {
		if !alwaysQuote && plainIdent.MatchString(lib) {
			items[i] = lib
			continue
		}
		items[i] = `"` + strings.ReplaceAll(lib, `"`, `""`) + `"`
	}
	return strings.Join(items, ", ")
}

// preloadSeeds are settings as servers report them, and odd ones: quotes
// doubled or left open, commas and blanks inside quotes, paths, suffixes.
func preloadSeeds() []string {
	return []string{
		"", "pg_stat_statements", "pg_stat_statements, pg_prewarm", `"pg_cron",$libdir/pgaudit.so , "/usr/lib/x/timescaledb-2.so"`,
		`"a,b"`, `"x""y", z`, `"unterminated, q`, `a.so.so`, `"x .so"`, `"a/ b"`, `,,, ,`, `"", " "`, `$libdir/`, `/`, `..`,
		`"""x"""`, "\"tab\tname\", \"new\nline\"", "\xff, \"\xfe\"", `auto_explain,"pg_stat_statements"`,
	}
}

// FuzzParsePreloadList checks that ParsePreloadList returns no empty
// names and that quoting round-trips: the names written back as the
// server prints the setting, minimally or always quoted, parse to the
// same list.
func FuzzParsePreloadList(f *testing.F) {
	for _, s := range preloadSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, setting string) {
		libs := pgext.ParsePreloadList(setting)
		for _, lib := range libs {
			require.NotEmpty(t, lib)
		}
		for _, always := range []bool{false, true} {
			out := formatPreload(libs, always)
			require.Equal(t, libs, pgext.ParsePreloadList(out), "%q written as %q", setting, out)
		}
	})
}

// FuzzMergePreload checks MergePreload on the libraries a server lists
// and two wanted ones: every listed library stays, in order and as
// written; each wanted library is listed afterwards, once, and only if it
// was not; merging again changes nothing; and the merged list written as
// the server prints it parses back to its library names.
func FuzzMergePreload(f *testing.F) {
	for _, s := range preloadSeeds() {
		f.Add(s, "pg_stat_statements", "pg_cron")
	}
	f.Add("$libdir/pg_cron", "pg_cron", "pg_cron")
	f.Add("auto_explain", "$libdir/pg_cron.so", `"pg_cron"`)
	f.Add("", "", " ")
	f.Fuzz(func(t *testing.T, setting, a, b string) {
		existing := pgext.ParsePreloadList(setting)
		add := []string{a, b}
		merged := pgext.MergePreload(existing, add)
		require.True(t, slices.Equal(existing, merged[:len(existing)]), "existing libraries %q are kept as written: %q", existing, merged)

		names := func(entries []string) []string {
			var out []string
			for _, e := range entries {
				if n := pgext.LibraryName(e); n != "" {
					out = append(out, n)
				}
			}
			return out
		}
		have := names(existing)
		added := names(merged[len(existing):])
		require.Len(t, added, len(merged)-len(existing), "no entry without a name is added")
		for i, n := range added {
			require.NotContains(t, have, n, "%q was listed already", n)
			require.NotContains(t, added[:i], n, "%q is added twice", n)
		}
		all := names(merged)
		for _, n := range names(add) {
			require.Contains(t, all, n)
		}

		require.Equal(t, merged, pgext.MergePreload(merged, add), "merging again changes nothing")
		require.Equal(t, merged, pgext.MergePreload(existing, slices.Concat(add, add)))

		require.Equal(t, all, pgext.ParsePreloadList(formatPreload(all, false)))
	})
}
