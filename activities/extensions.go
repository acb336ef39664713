package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opendiscourse/congressflow/internal/pgext"
	"github.com/opendiscourse/congressflow/internal/store"
)

// Error types of the extensions stage's application errors.
const (
	// ErrTypeDatabaseNotFound: the target database does not exist.
	ErrTypeDatabaseNotFound = "DatabaseNotFound"
	// ErrTypePostgresUnavailable: the server could not be reached or the
	// connection broke; the activity is retried.
	ErrTypePostgresUnavailable = "PostgresUnavailable"
)

// maxIdentifierLen is PostgreSQL's NAMEDATALEN - 1.
const maxIdentifierLen = 63

// Extensions holds the extensions stage's dependencies.
type Extensions struct {
	// Pool connects to the ingest database; results are recorded there in
	// ops.extension_results, and extensions go there unless the input
	// names another database.
	Pool *pgxpool.Pool
	// Catalog is the extension catalog; the zero value is [pgext.Default].
	Catalog pgext.Catalog
	// Logger receives the stage's log lines. Nil discards them.
	Logger *slog.Logger
}

// InstallExtensionsInput selects the extensions to install. The zero value
// installs the recommended profile into the ingest database.
type InstallExtensionsInput struct {
	// Profile is "recommended", "all" or "". Empty means recommended when
	// Names is empty, and only Names otherwise.
	Profile string `json:"profile,omitempty"`
	// Names are catalog extensions to install in addition to the profile.
	Names []string `json:"names,omitempty"`
	// Database is the database to install into, on the pool's server with
	// the pool's credentials. Empty means the pool's (ingest) database.
	Database string `json:"database,omitempty"`
	// CheckOnly reports outcomes without creating anything.
	CheckOnly bool `json:"check_only,omitempty"`
}

// InstallExtensionsResult is one outcome per extension plus counts.
type InstallExtensionsResult struct {
	// Database is the database the extensions were checked in.
	Database string `json:"database"`
	// Role is the role that ran CREATE EXTENSION.
	Role string `json:"role"`
	// ServerVersionNum is the server's server_version_num.
	ServerVersionNum int  `json:"server_version_num"`
	CheckOnly        bool `json:"check_only,omitempty"`
	// Outcomes holds one result per extension, in catalog order.
	Outcomes []pgext.Result `json:"outcomes"`
	Counts   pgext.Counts   `json:"counts"`
	// PreloadNeeded lists the libraries the needs_preload outcomes wait
	// for; RestartNeeded is true when there are any.
	PreloadNeeded []string `json:"preload_needed,omitempty"`
	RestartNeeded bool     `json:"restart_needed,omitempty"`
	// PreloadPendingRestart reports a shared_preload_libraries change on
	// the server that waits for a restart.
	PreloadPendingRestart bool `json:"preload_pending_restart,omitempty"`
}

// InstallExtensions installs the selected extensions, records one row per
// extension in ops.extension_results, and returns the outcomes. It succeeds
// when every extension has an outcome, even failed or not_available ones.
// A bad profile, an unknown name or a missing database fails without retry;
// a lost connection is retried, and a retry repeats nothing that succeeded.
func (x *Extensions) InstallExtensions(ctx context.Context, in InstallExtensionsInput) (InstallExtensionsResult, error) {
	info := activity.GetInfo(ctx)
	logger := x.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.String("workflow_id", info.WorkflowExecution.ID), slog.String("run_id", info.WorkflowExecution.RunID))

	// Bad input fails before any connection is made.
	if _, err := x.Catalog.Resolve(in.Profile, in.Names, 0); err != nil {
		return InstallExtensionsResult{}, classifyExtensionsErr("check input", err)
	}
	if len(in.Database) > maxIdentifierLen {
		msg := fmt.Sprintf("database: %q is longer than %d bytes", in.Database, maxIdentifierLen)
		return InstallExtensionsResult{}, temporal.NewNonRetryableApplicationError(msg, ErrTypeInvalidInput, nil)
	}

	db, release, err := x.connect(ctx, in.Database)
	if err != nil {
		return InstallExtensionsResult{}, err
	}
	rep, err := x.Catalog.Install(ctx, db, pgext.InstallOptions{
		Profile:   in.Profile,
		Names:     in.Names,
		CheckOnly: in.CheckOnly,
		Logger:    logger,
		OnResult:  func(r pgext.Result) { activity.RecordHeartbeat(ctx, r.Name) },
	})
	// Give the connection back before recording: with a one-connection
	// pool, recording would otherwise wait for it forever.
	release()
	if err != nil {
		return InstallExtensionsResult{}, classifyExtensionsErr("install extensions", err)
	}

	rows := make([]store.ExtensionResult, len(rep.Results))
	for i, r := range rep.Results {
		rows[i] = store.ExtensionResult{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, ActivityID: info.ActivityID,
			Database: rep.Server.Database, Name: r.Name, Category: string(r.Category), Outcome: string(r.Outcome),
			Version: r.Version, Detail: r.Detail, Package: r.Package, Privilege: r.Privilege, CheckOnly: in.CheckOnly,
		}
	}
	if err := store.RecordExtensionResults(ctx, x.Pool, rows); err != nil {
		return InstallExtensionsResult{}, classifyExtensionsErr("record extension results", err)
	}

	res := InstallExtensionsResult{
		Database:              rep.Server.Database,
		Role:                  rep.Server.Role,
		ServerVersionNum:      rep.Server.VersionNum,
		CheckOnly:             in.CheckOnly,
		Outcomes:              rep.Results,
		Counts:                rep.Counts,
		PreloadNeeded:         rep.PreloadNeeded,
		RestartNeeded:         len(rep.PreloadNeeded) > 0,
		PreloadPendingRestart: rep.Server.PreloadPendingRestart,
	}
	logger.InfoContext(ctx, "extensions: stage done",
		slog.String("database", res.Database), slog.Bool("check_only", in.CheckOnly),
		slog.Int("installed", res.Counts.Installed), slog.Int("already_present", res.Counts.AlreadyPresent),
		slog.Int("needs_preload", res.Counts.NeedsPreload), slog.Int("not_available", res.Counts.NotAvailable),
		slog.Int("not_permitted", res.Counts.NotPermitted), slog.Int("failed", res.Counts.Failed),
		slog.Bool("restart_needed", res.RestartNeeded))
	return res, nil
}

// connect returns a connection to database (the pool's own when empty or
// the same) and its release function.
func (x *Extensions) connect(ctx context.Context, database string) (pgext.DB, func(), error) {
	cfg := x.Pool.Config().ConnConfig
	if database == "" || database == cfg.Database {
		conn, err := x.Pool.Acquire(ctx)
		if err != nil {
			return nil, nil, classifyExtensionsErr("connect to "+store.Describe(cfg), err)
		}
		return conn, conn.Release, nil
	}
	cc := cfg.Copy()
	cc.Database = database
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, nil, classifyExtensionsErr("connect to "+store.Describe(cc), err)
	}
	return conn, func() { _ = conn.Close(context.WithoutCancel(ctx)) }, nil
}

// classifyExtensionsErr tells Temporal whether retrying can help. An
// application error's message is what was being done; its cause carries the
// server's error.
func classifyExtensionsErr(what string, err error) error {
	var reqErr *pgext.RequestError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &reqErr):
		return temporal.NewNonRetryableApplicationError(reqErr.Error(), ErrTypeInvalidInput, nil)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		return temporal.NewNonRetryableApplicationError(what, ErrTypeDatabaseNotFound, err)
	case errors.As(err, &pgErr) && (pgErr.Code == "28000" || pgErr.Code == "28P01" || pgErr.Code == "42501"):
		return temporal.NewNonRetryableApplicationError(what, ErrTypePermission, err)
	case store.Retryable(err):
		return temporal.NewApplicationErrorWithCause(what, ErrTypePostgresUnavailable, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
