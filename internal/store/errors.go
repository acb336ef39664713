package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Conditions callers branch on. [Translate] maps driver errors onto them;
// the original error stays in the chain.
var (
	// ErrNotFound: the query returned no row.
	ErrNotFound = errors.New("not found")
	// ErrPermission: the role lacks a privilege (SQLSTATE 42501).
	ErrPermission = errors.New("permission denied")
	// ErrUndefinedObject: a named object (setting, extension, role) does not
	// exist (SQLSTATE 42704, 42883, 58P01 missing file).
	ErrUndefinedObject = errors.New("undefined object")
	// ErrInvalidValue: the server rejected a value (SQLSTATE 22023, 22P02).
	ErrInvalidValue = errors.New("invalid value")
	// ErrUnavailable: the server cannot take work now (57P01 admin
	// shutdown, 57P03 cannot connect now, 53300 too many connections,
	// connection failures). Worth retrying.
	ErrUnavailable = errors.New("server unavailable")
)

// Error is a server error translated into one of the conditions above.
type Error struct {
	Kind error  // one of the Err* sentinels
	Code string // SQLSTATE, empty for connection failures
	Err  error  // the driver's error
}

func (e *Error) Error() string   { return e.Err.Error() }
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Translate maps pgx errors onto this package's sentinels so callers can use
// errors.Is without knowing SQLSTATE codes. Unknown errors pass through.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &Error{Kind: ErrNotFound, Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		var kind error
		switch pgErr.Code {
		case "42501":
			kind = ErrPermission
		case "42704", "42883", "58P01":
			kind = ErrUndefinedObject
		case "22023", "22P02":
			kind = ErrInvalidValue
		case "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006":
			kind = ErrUnavailable
		default:
			return err
		}
		return &Error{Kind: kind, Code: pgErr.Code, Err: err}
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || pgconn.SafeToRetry(err) {
		return &Error{Kind: ErrUnavailable, Err: err}
	}
	return err
}

// Retryable reports whether err is worth retrying later: the server was
// unavailable or the connection broke.
func Retryable(err error) bool {
	return errors.Is(Translate(err), ErrUnavailable)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, Translate(err))
}
