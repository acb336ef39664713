// Command localpg runs the PostgreSQL cluster `make run` uses when
// DATABASE_URL is unset: a cluster under .data/ started with the local
// initdb and pg_ctl (as the postgres OS user when run as root).
//
//	localpg start -dir .data/pg -port 5433   # prints the DATABASE_URL
//	localpg stop  -dir .data/pg
//	localpg restart -dir .data/pg            # the tune stage's restart command
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opendiscourse/congressflow/internal/pgtest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localpg:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || (args[0] != "start" && args[0] != "stop" && args[0] != "restart") {
		return fmt.Errorf("usage: localpg start|stop|restart -dir DIR [-port N]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", ".data/pg", "cluster directory")
	port := fs.Int("port", 0, "TCP port (0: keep the cluster's, else a free one)")
	db := fs.String("db", "congressflow", "database to create if missing; its URL is printed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgtest.NewCluster(ctx, pgtest.Options{Dir: *dir, Port: *port, Settings: []string{"max_connections = 100"}, Durable: true})
	if err != nil {
		return err
	}
	switch args[0] {
	case "start":
		if !c.Running() {
			if err := c.Start(ctx); err != nil {
				return err
			}
		}
		if err := ensureDatabase(ctx, c.URL("postgres"), *db); err != nil {
			return err
		}
		fmt.Println(c.URL(*db))
	case "stop":
		return c.Stop(ctx)
	case "restart":
		return c.Restart(ctx)
	}
	return nil
}

// ensureDatabase creates the database the pipeline works in, so make run
// leaves the maintenance database "postgres" alone.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to the local cluster: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
