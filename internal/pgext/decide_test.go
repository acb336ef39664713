package pgext

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	c := Default()
	ext := func(name string) Extension {
		e, ok := c.Lookup(name)
		require.True(t, ok, name)
		return e
	}
	super := Server{Major: 15, Database: "ingest", Role: "postgres", Superuser: true, CreateOnDatabase: true, PreloadKnown: true}
	owner := Server{Major: 15, Database: "ingest", Role: "app", CreateOnDatabase: true, PreloadKnown: true}
	reader := Server{Major: 15, Database: "ingest", Role: "reader"}
	withPreload := super
	withPreload.Preloaded = []string{"pg_stat_statements"}
	pending := super
	pending.PreloadPendingRestart = true
	preloadUnknown := super
	preloadUnknown.PreloadKnown = false
	pg17 := super
	pg17.Major = 17

	untrusted := available{superuser: true}
	trusted := available{superuser: true, trusted: true}

	tests := []struct {
		name      string
		ext       string
		srv       Server
		avail     map[string]available
		installed map[string]string
		done      map[string]Result
		want      Result
		detail    string
	}{
		{name: "already present", ext: "citext", srv: owner, avail: map[string]available{"citext": trusted},
			installed: map[string]string{"citext": "1.6"},
			want:      Result{Outcome: OutcomeAlreadyPresent, Version: "1.6"}},
		{name: "already present without its library warns", ext: "pg_stat_statements", srv: super,
			installed: map[string]string{"pg_stat_statements": "1.10"},
			want:      Result{Outcome: OutcomeAlreadyPresent, Version: "1.10"}, detail: "does not work until"},
		{name: "removed in the server version", ext: "adminpack", srv: pg17,
			want: Result{Outcome: OutcomeNotAvailable}, detail: "removed after PostgreSQL 16"},
		{name: "too new for the server version", ext: "pg_walinspect", srv: Server{Major: 14, Superuser: true},
			want: Result{Outcome: OutcomeNotAvailable}, detail: "needs PostgreSQL 15 or later"},
		{name: "package missing", ext: "pg_partman", srv: super,
			want: Result{Outcome: OutcomeNotAvailable, Package: "postgresql-15-partman"}, detail: "install package postgresql-15-partman on"},
		{name: "package from PGDG", ext: "vector", srv: super,
			want: Result{Outcome: OutcomeNotAvailable, Package: "postgresql-15-pgvector"}, detail: "apt.postgresql.org"},
		{name: "requirement not available", ext: "postgis_topology", srv: super, avail: map[string]available{"postgis_topology": untrusted},
			done: map[string]Result{"postgis": {Outcome: OutcomeNotAvailable, Package: "postgresql-15-postgis-3", Detail: "not in pg_available_extensions"}},
			want: Result{Outcome: OutcomeNotAvailable, Package: "postgresql-15-postgis-3"}, detail: "requires postgis (not_available)"},
		{name: "requirement installed", ext: "earthdistance", srv: super, avail: map[string]available{"earthdistance": untrusted},
			done: map[string]Result{"cube": {Outcome: OutcomeInstalled}},
			want: Result{Outcome: OutcomeInstallable}},
		{name: "untrusted needs superuser", ext: "pg_buffercache", srv: owner, avail: map[string]available{"pg_buffercache": untrusted},
			want: Result{Outcome: OutcomeNotPermitted, Privilege: PrivilegeSuperuser}, detail: "role app is not one"},
		{name: "trusted needs CREATE on the database", ext: "citext", srv: reader, avail: map[string]available{"citext": trusted},
			want: Result{Outcome: OutcomeNotPermitted, Privilege: `CREATE on database "ingest"`}, detail: `GRANT CREATE ON DATABASE "ingest" TO "reader"`},
		{name: "trusted with CREATE", ext: "citext", srv: owner, avail: map[string]available{"citext": trusted},
			want: Result{Outcome: OutcomeInstallable}},
		{name: "the server's trusted flag wins over the catalog", ext: "pg_buffercache", srv: owner,
			avail: map[string]available{"pg_buffercache": trusted}, want: Result{Outcome: OutcomeInstallable}},
		{name: "not permitted mentions preload too", ext: "pg_stat_statements", srv: owner,
			avail: map[string]available{"pg_stat_statements": untrusted},
			want:  Result{Outcome: OutcomeNotPermitted, Privilege: PrivilegeSuperuser}, detail: "also needs pg_stat_statements in shared_preload_libraries"},
		{name: "needs preload", ext: "pg_stat_statements", srv: super, avail: map[string]available{"pg_stat_statements": untrusted},
			want: Result{Outcome: OutcomeNeedsPreload, Preload: "pg_stat_statements"}, detail: `apply the tune stage with a restart, which adds it (pipeline input {"tune":{"apply":true,"restart_policy":"command"}}`},
		{name: "needs preload, change pending", ext: "pg_stat_statements", srv: pending, avail: map[string]available{"pg_stat_statements": untrusted},
			want: Result{Outcome: OutcomeNeedsPreload, Preload: "pg_stat_statements"}, detail: "waiting for a restart"},
		{name: "preloaded", ext: "pg_stat_statements", srv: withPreload, avail: map[string]available{"pg_stat_statements": untrusted},
			want: Result{Outcome: OutcomeInstallable}},
		{name: "preload unknown is tried", ext: "pg_stat_statements", srv: preloadUnknown, avail: map[string]available{"pg_stat_statements": untrusted},
			want: Result{Outcome: OutcomeInstallable}},
		{name: "requirement needs preload", ext: "pg_stat_kcache", srv: super, avail: map[string]available{"pg_stat_kcache": untrusted},
			done: map[string]Result{"pg_stat_statements": {Outcome: OutcomeNeedsPreload, Preload: "pg_stat_statements"}},
			want: Result{Outcome: OutcomeNeedsPreload, Preload: "pg_stat_statements"}, detail: "requires pg_stat_statements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := ext(tt.ext)
			got := decide(e, tt.srv, tt.avail, tt.installed, tt.done)
			require.Contains(t, got.Detail, tt.detail)
			tt.want.Name, tt.want.Category, tt.want.Detail = e.Name, e.Category, got.Detail
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCountOutcomes(t *testing.T) {
	t.Parallel()
	got := CountOutcomes([]Result{
		{Outcome: OutcomeInstalled}, {Outcome: OutcomeInstalled}, {Outcome: OutcomeAlreadyPresent},
		{Outcome: OutcomeNeedsPreload}, {Outcome: OutcomeNotAvailable}, {Outcome: OutcomeNotPermitted},
		{Outcome: OutcomeFailed}, {Outcome: OutcomeInstallable},
	})
	require.Equal(t, Counts{Installed: 2, AlreadyPresent: 1, NeedsPreload: 1, NotAvailable: 1, NotPermitted: 1, Failed: 1, Installable: 1}, got)
}
