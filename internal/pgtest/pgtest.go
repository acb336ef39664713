package pgtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// shared is the cluster every [Database] of one test binary lives in. It is
// started on first use and stopped by [Main].
var shared struct {
	once    sync.Once
	cluster *Cluster
	url     string
	err     error
	inMain  atomic.Bool
	counter atomic.Int64
}

// Main runs the tests of a package and then stops the shared cluster, if one
// was started. Call it from TestMain in every package that uses [Database]:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	shared.inMain.Store(true)
	code := m.Run()
	if shared.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.cluster.Remove(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: remove shared cluster:", err)
		}
		cancel()
	}
	os.Exit(code)
}

// AdminURL returns the URL of the shared server's postgres database: the
// value of TEST_DATABASE_URL when set, else a cluster started for this test
// binary.
func AdminURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	if !shared.inMain.Load() {
		t.Fatal("pgtest: call pgtest.Main(m) from TestMain so the shared cluster is stopped after the tests")
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := NewCluster(ctx, Options{Settings: []string{"max_connections = 200"}})
		if err == nil {
			err = c.Start(ctx)
		}
		shared.cluster, shared.err = c, err
		if err == nil {
			shared.url = c.URL("postgres")
		}
	})
	if shared.err != nil {
		t.Fatalf("pgtest: start shared cluster: %v", shared.err)
	}
	return shared.url
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// Database creates an empty database for the calling test on the shared
// server and returns its URL. The database is dropped when the test ends.
// Each test gets its own database rather than its own schema because the
// migrations own fixed schema names (ops, congress).
func Database(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	name := unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t_%s_%d_%d", name, os.Getpid(), shared.counter.Add(1))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", redact(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", redact(admin), err)
	}
	return replaceDatabase(admin, cfg.Database, name)
}

// Start starts a cluster of the test's own, for tests that change
// cluster-wide state (ALTER SYSTEM, extensions' preload, restarts). It is
// removed when the test ends. TEST_DATABASE_URL does not apply: such tests
// need a server they may restart.
func Start(t testing.TB, settings ...string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := NewCluster(ctx, Options{Settings: settings})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Remove(context.WithoutCancel(context.Background())); err != nil {
			t.Logf("pgtest: remove cluster: %v", err)
		}
	})
	if err := c.Start(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return c
}

func replaceDatabase(rawURL, from, to string) string {
	if i := strings.Index(rawURL, "://"); i >= 0 {
		// URL form: swap the path.
		rest := rawURL[i+3:]
		q := ""
		if j := strings.IndexAny(rest, "?"); j >= 0 {
			rest, q = rest[:j], rest[j:]
		}
		if j := strings.Index(rest, "/"); j >= 0 {
			rest = rest[:j]
		}
		return rawURL[:i+3] + rest + "/" + to + q
	}
	// Keyword/value form.
	if from != "" && strings.Contains(rawURL, "dbname="+from) {
		return strings.Replace(rawURL, "dbname="+from, "dbname="+to, 1)
	}
	return rawURL + " dbname=" + to
}

func redact(u string) string {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return "the test database"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
