package pgext_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/pgext"
)

func names(exts []pgext.Extension) []string {
	out := make([]string, len(exts))
	for i, e := range exts {
		out[i] = e.Name
	}
	return out
}

func TestDefaultCatalogIsWellFormed(t *testing.T) {
	t.Parallel()
	c := pgext.Default()
	exts := c.Extensions()
	require.GreaterOrEqual(t, len(exts), 50)

	categories := map[pgext.Category]bool{}
	seen := map[string]bool{}
	for _, e := range exts {
		require.False(t, seen[e.Name], "%s listed twice", e.Name)
		for _, r := range e.Requires {
			require.True(t, seen[r], "%s requires %s, which must come first", e.Name, r)
		}
		seen[e.Name] = true
		categories[e.Category] = true
		require.NotEmpty(t, e.PackageFor(15), e.Name)
		require.NotContains(t, e.PackageFor(15), "{", e.Name)
		if e.MinVersion != 0 && e.MaxVersion != 0 {
			require.LessOrEqual(t, e.MinVersion, e.MaxVersion, e.Name)
		}
	}
	for _, want := range []pgext.Category{
		pgext.CategoryMonitoring, pgext.CategoryMaintenance, pgext.CategoryPartitioning, pgext.CategoryScheduling,
		pgext.CategoryDataTypes, pgext.CategoryTextSearch, pgext.CategoryCrypto, pgext.CategoryLanguages,
		pgext.CategoryIntegrity, pgext.CategoryReplication, pgext.CategoryFDW, pgext.CategoryGIS, pgext.CategoryPlanning,
	} {
		require.True(t, categories[want], "no extension in category %q", want)
	}

	// The zero Catalog is the default one.
	require.Equal(t, exts, pgext.Catalog{}.Extensions())
}

func TestNewRejectsBrokenCatalogs(t *testing.T) {
	t.Parallel()
	a := pgext.Extension{Name: "a", Category: pgext.CategoryUtility, Package: pgext.PackageContrib}
	b := pgext.Extension{Name: "b", Category: pgext.CategoryUtility, Package: pgext.PackageContrib, Requires: []string{"a"}}
	tests := []struct {
		name        string
		exts        []pgext.Extension
		recommended []string
		wantErr     string
	}{
		{name: "ok", exts: []pgext.Extension{a, b}, recommended: []string{"b", "a"}},
		{name: "duplicate", exts: []pgext.Extension{a, a}, wantErr: `"a": listed twice`},
		{name: "requirement after dependent", exts: []pgext.Extension{b, a}, wantErr: `requirement "a" must be listed before it`},
		{name: "no package", exts: []pgext.Extension{{Name: "x", Category: pgext.CategoryUtility}}, wantErr: "package are required"},
		{name: "unknown recommended", exts: []pgext.Extension{a}, recommended: []string{"zz"}, wantErr: `"zz" is not in the catalog`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := pgext.New(tt.exts, tt.recommended)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []string{"a", "b"}, c.Recommended(), "recommended comes back in catalog order")
		})
	}
}

func TestPackageFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg   string
		major int
		want  string
	}{
		{pkg: pgext.PackageContrib, major: 15, want: "postgresql-15"},
		{pkg: pgext.PackageBuiltin, major: 17, want: "postgresql-17"},
		{pkg: "postgresql-{major}-cron", major: 16, want: "postgresql-16-cron"},
		{pkg: "postgresql-plperl-{major}", major: 15, want: "postgresql-plperl-15"},
		{pkg: "postgresql-{major}-cron", major: 0, want: "postgresql-{major}-cron"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, pgext.Extension{Package: tt.pkg}.PackageFor(tt.major))
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	recommended15 := []string{
		"pg_stat_statements", "pg_buffercache", "pg_walinspect", "pgstattuple", "amcheck", "pg_prewarm", "pg_cron",
		"hstore", "citext", "ltree", "btree_gin", "btree_gist", "pg_trgm", "fuzzystrmatch", "unaccent", "pgcrypto", "uuid-ossp",
	}
	tests := []struct {
		name     string
		profile  string
		names    []string
		major    int
		want     []string
		contains []string
		excludes []string
		wantErr  string
	}{
		{name: "recommended on 15", profile: "recommended", major: 15, want: recommended15},
		{name: "empty profile means recommended", major: 15, want: recommended15},
		{name: "recommended on 14 keeps pg_walinspect, for its outcome", profile: "recommended", major: 14, want: recommended15},
		{name: "names only", names: []string{"citext", " pg_trgm ", "citext"}, major: 15, want: []string{"citext", "pg_trgm"}},
		{name: "names are matched case-insensitively", names: []string{"CITEXT"}, major: 15, want: []string{"citext"}},
		{name: "requirements are added before dependents", names: []string{"earthdistance", "pg_stat_kcache"}, major: 15,
			want: []string{"pg_stat_statements", "pg_stat_kcache", "cube", "earthdistance"}},
		{name: "profile plus names", profile: "recommended", names: []string{"pg_partman"}, major: 15,
			contains: []string{"pg_partman", "pg_stat_statements"}},
		{name: "explicit names outside the version stay", names: []string{"adminpack"}, major: 17, want: []string{"adminpack"}},
		{name: "all on 17 drops removed ones", profile: "all", major: 17,
			contains: []string{"pg_walinspect", "postgis"}, excludes: []string{"adminpack", "old_snapshot"}},
		{name: "all on 13", profile: "ALL", major: 13, contains: []string{"adminpack"}, excludes: []string{"pg_walinspect", "pg_surgery"}},
		{name: "unknown name", names: []string{"citext", "nosuch", "pg_nope"}, major: 15,
			wantErr: `names: unknown extension "nosuch", "pg_nope"`},
		{name: "unknown profile", profile: "everything", wantErr: `profile: unknown profile "everything"`},
	}
	c := pgext.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Resolve(tt.profile, tt.names, tt.major)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				var re *pgext.RequestError
				require.True(t, errors.As(err, &re))
				return
			}
			require.NoError(t, err)
			gotNames := names(got)
			if tt.want != nil {
				require.ElementsMatch(t, tt.want, gotNames)
			}
			for _, n := range tt.contains {
				require.Contains(t, gotNames, n)
			}
			for _, n := range tt.excludes {
				require.NotContains(t, gotNames, n)
			}
			// Always catalog order.
			all := names(c.Extensions())
			require.True(t, slices.IsSortedFunc(gotNames, func(a, b string) int {
				return slices.Index(all, a) - slices.Index(all, b)
			}), "catalog order: %v", gotNames)
		})
	}
}

func TestPreloadLibraries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		profile string
		names   []string
		want    []string
		wantErr string
	}{
		{name: "recommended", profile: "recommended", want: []string{"pg_stat_statements", "pg_cron"}},
		{name: "none needed", names: []string{"citext"}, want: nil},
		{name: "requirement brings its library", names: []string{"pg_stat_kcache"}, want: []string{"pg_stat_statements", "pg_stat_kcache"}},
		{name: "catalog order, not request order", names: []string{"timescaledb", "pgaudit", "pg_cron"},
			want: []string{"pg_cron", "pgaudit", "timescaledb"}},
		{name: "unknown", names: []string{"nope"}, wantErr: `unknown extension "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := pgext.Default().PreloadLibraries(tt.profile, tt.names)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParsePreloadList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		setting string
		want    []string
	}{
		{setting: "", want: nil},
		{setting: "pg_stat_statements", want: []string{"pg_stat_statements"}},
		{setting: "pg_stat_statements, pg_prewarm", want: []string{"pg_stat_statements", "pg_prewarm"}},
		{setting: `"pg_cron",$libdir/pgaudit.so , "/usr/lib/x/timescaledb-2.so"`, want: []string{"pg_cron", "pgaudit", "timescaledb-2"}},
		{setting: `"a,b"`, want: []string{"a,b"}},
		{setting: `"x .so", "a/ b", a.so.so`, want: []string{"x", "b", "a"}},
		{setting: "\x93, \"\xff\"", want: []string{"\x93", "\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, pgext.ParsePreloadList(tt.setting))
		})
	}
}

func TestMergePreload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		existing, add []string
		want          []string
	}{
		{name: "empty", add: []string{"pg_stat_statements"}, want: []string{"pg_stat_statements"}},
		{name: "keeps existing first", existing: []string{"auto_explain"}, add: []string{"pg_stat_statements", "pg_cron"},
			want: []string{"auto_explain", "pg_stat_statements", "pg_cron"}},
		{name: "no duplicates across spellings", existing: []string{"$libdir/pg_cron"}, add: []string{"pg_cron", "pg_cron"},
			want: []string{"$libdir/pg_cron"}},
		{name: "nothing to add", existing: []string{"a", "b"}, want: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, pgext.MergePreload(tt.existing, tt.add))
		})
	}
}
