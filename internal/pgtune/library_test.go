package pgtune

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// loadDB answers LOAD with a fixed error.
type loadDB struct{ err error }

func (d loadDB) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, d.err
}
func (d loadDB) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, d.err }
func (d loadDB) QueryRow(context.Context, string, ...any) pgx.Row        { return nil }

// TestLoadLibraryClassifiesTheServersAnswer: what LOAD says decides
// whether a library may be preloaded.
func TestLoadLibraryClassifiesTheServersAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		want    LibraryStatus
		wantMsg string
		wantErr bool
	}{
		{name: "loads", want: LibraryPresent},
		{name: "pgaudit-style refusal", err: &pgconn.PgError{Code: "55000", Message: "pgaudit must be loaded via shared_preload_libraries"}, want: LibraryPresent},
		{name: "pg_cron-style refusal", err: &pgconn.PgError{Code: "XX000", Message: "unrecognized configuration parameter",
			Hint: "Add pg_cron to the shared_preload_libraries configuration variable in postgresql.conf."}, want: LibraryPresent},
		{name: "not a library", err: &pgconn.PgError{Code: "XX000", Message: `could not load library "/usr/lib/postgresql/15/lib/x.so": invalid ELF header`},
			want: LibraryUnloadable, wantMsg: `could not load library "/usr/lib/postgresql/15/lib/x.so": invalid ELF header`},
		{name: "built for another server", err: &pgconn.PgError{Code: "XX000", Message: `incompatible library "x": version mismatch`},
			want: LibraryUnloadable, wantMsg: `incompatible library "x": version mismatch`},
		{name: "not a superuser", err: &pgconn.PgError{Code: "42501", Message: `access to library "x" is not allowed`}, want: LibraryUnknown},
		{name: "connection lost", err: errors.New("conn closed"), want: LibraryUnknown, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, msg, err := loadLibrary(context.Background(), loadDB{tt.err}, "x")
			require.Equal(t, tt.wantErr, err != nil, "%v", err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantMsg, msg)
		})
	}
}

// TestBuildPlanLeavesOutUnloadableLibraries: a library that does not load
// stays out of shared_preload_libraries, and the note carries the server's
// reason.
func TestBuildPlanLeavesOutUnloadableLibraries(t *testing.T) {
	t.Parallel()
	rec, err := Recommend(Input{MemoryBytes: 1 << 30, CPUs: 1, PGVersion: 15, PreloadLibraries: []string{"broken"}})
	require.NoError(t, err)
	st := ServerState{Version: 15, AllowAlterSystem: true, Superuser: true, FileSettingsReadable: true,
		Settings:      map[string]Current{"shared_preload_libraries": {Name: "shared_preload_libraries", Context: "postmaster", VarType: "string"}},
		Libraries:     map[string]LibraryStatus{"pg_stat_statements": LibraryPresent, "broken": LibraryUnloadable},
		LibraryErrors: map[string]string{"broken": `could not load library "broken": invalid ELF header`}}
	p := BuildPlan(rec, st, Hardware{})
	spl, ok := p.Get("shared_preload_libraries")
	require.True(t, ok)
	require.Equal(t, "pg_stat_statements", spl.Value)
	require.Equal(t, `left out broken: the server cannot load it (could not load library "broken": invalid ELF header)`, spl.Note)
}
