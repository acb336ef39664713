// Command localpg runs the PostgreSQL cluster `make run` uses when
// DATABASE_URL is unset: a cluster under .data/ started with the local
// initdb and pg_ctl (as the postgres OS user when run as root).
//
//	localpg start -dir .data/pg -port 5433   # prints the DATABASE_URL
//	localpg stop  -dir .data/pg
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/opendiscourse/congressflow/internal/pgtest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localpg:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || (args[0] != "start" && args[0] != "stop") {
		return fmt.Errorf("usage: localpg start|stop -dir DIR [-port N]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", ".data/pg", "cluster directory")
	port := fs.Int("port", 0, "TCP port (0: keep the cluster's, else a free one)")
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
		fmt.Println(c.URL("postgres"))
	case "stop":
		return c.Stop(ctx)
	}
	return nil
}
