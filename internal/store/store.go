// Package store owns congressflow's PostgreSQL access: the connection pool,
// the embedded migrations, and the queries the activities run.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/opendiscourse/congressflow/internal/logging"
)

// DBTX is what both a pool and a transaction offer; queries take it so a
// caller can run them inside its own transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// PoolConfig configures [Open].
type PoolConfig struct {
	// URL is a libpq connection string or URL. Empty means the libpq PG*
	// environment variables (PGHOST, PGPORT, PGUSER, ...) and their defaults.
	URL string
	// ApplicationName is reported in pg_stat_activity. Default "congressflow".
	ApplicationName string
	// MinConns and MaxConns bound the pool. pool_min_conns/pool_max_conns in
	// the URL win over them (an operator's explicit choice); zero keeps
	// pgxpool's value.
	MinConns, MaxConns int32
	// StatementTimeout is set for every session unless the URL sets one.
	// Default 5 minutes: long enough for a large upsert, short enough that a
	// stuck statement frees its slot.
	StatementTimeout time.Duration
	// ConnectTimeout bounds dialing when the URL sets none. Default 10s.
	ConnectTimeout time.Duration
}

// Open builds a pool from cfg, checks that the server answers, and returns
// it. Its errors name the setting to fix and never contain the password.
func Open(ctx context.Context, cfg PoolConfig) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgconn's parse errors may quote the URL; keep the password out.
		return nil, fmt.Errorf("parse DATABASE_URL: %s (expected postgres://user:password@host:5432/dbname or key=value pairs)", redactParseError(err))
	}
	rp := pc.ConnConfig.RuntimeParams
	if rp["application_name"] == "" {
		rp["application_name"] = cmp.Or(cfg.ApplicationName, "congressflow")
	}
	if rp["statement_timeout"] == "" {
		rp["statement_timeout"] = fmt.Sprint(cmp.Or(cfg.StatementTimeout, 5*time.Minute).Milliseconds())
	}
	if rp["idle_in_transaction_session_timeout"] == "" {
		rp["idle_in_transaction_session_timeout"] = "60000"
	}
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = cmp.Or(cfg.ConnectTimeout, 10*time.Second)
	}
	if cfg.MaxConns > 0 && !strings.Contains(cfg.URL, "pool_max_conns") {
		pc.MaxConns = cfg.MaxConns
	}
	if cfg.MinConns > 0 && !strings.Contains(cfg.URL, "pool_min_conns") {
		pc.MinConns = min(cfg.MinConns, pc.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("create pool for %s: %w", Describe(pc.ConnConfig), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, pc.ConnConfig.ConnectTimeout+time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, &oneLineError{
			msg: fmt.Sprintf("connect to PostgreSQL at %s: %s (check DATABASE_URL or the PG* variables, and that the server is running)",
				Describe(pc.ConnConfig), logging.OneLine(err)),
			err: Translate(err),
		}
	}
	return pool, nil
}

// Describe names a server without its password: user@host:port/db.
func Describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// MaxConnections returns the server's max_connections minus the slots
// reserved for superusers, the budget every client of the server shares.
func MaxConnections(ctx context.Context, db DBTX) (maxConns, reserved int, err error) {
	err = db.QueryRow(ctx, `SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int`).
		Scan(&maxConns, &reserved)
	if err != nil {
		return 0, 0, fmt.Errorf("read max_connections: %w", Translate(err))
	}
	return maxConns, reserved, nil
}

// LogValue lets a pool config be logged without secrets.
func LogValue(c *pgxpool.Config) slog.Value {
	return slog.GroupValue(
		slog.String("server", Describe(c.ConnConfig)),
		slog.Int("max_conns", int(c.MaxConns)),
		slog.Int("min_conns", int(c.MinConns)),
	)
}

func redactParseError(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		// ParseConfigError.Error() includes the connection string; its
		// message and cause do not.
		msg := "invalid connection string"
		if u := errors.Unwrap(pe); u != nil {
			msg = u.Error()
		}
		return msg
	}
	return "invalid connection string"
}

// oneLineError keeps a multi-line driver error (pgconn lists every address
// it tried) on one line for the operator while keeping it in the chain.
type oneLineError struct {
	msg string
	err error
}

func (e *oneLineError) Error() string { return e.msg }
func (e *oneLineError) Unwrap() error { return e.err }
