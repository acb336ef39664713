// Package pgtest makes throwaway PostgreSQL clusters with the local initdb
// and pg_ctl, for integration tests and the local development loop.
//
// A test asks for a database with [Database] (a fresh database in a cluster
// shared by the test binary) or for a whole cluster of its own with [Start]
// when it changes cluster-wide state (ALTER SYSTEM, restarts). Setting
// TEST_DATABASE_URL makes [Database] use that server instead of starting one.
//
// When the process runs as root the cluster is owned by and run as the
// "postgres" OS user, because PostgreSQL refuses to run as root.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Cluster is a PostgreSQL cluster in a directory of its own, reachable over
// TCP on 127.0.0.1 and over a unix socket in [Cluster.SocketDir].
type Cluster struct {
	// Dir is the directory holding the data directory and the socket.
	Dir string
	// Port is the TCP port the server listens on.
	Port int

	binDir  string
	runAs   *user.User // nil when the current user runs the server
	logFile string
}

// Options tune [NewCluster].
type Options struct {
	// Dir is where the cluster lives. Empty means a new temporary directory.
	Dir string
	// Port is the TCP port. Zero picks a free port.
	Port int
	// Settings are extra postgresql.conf lines written at init, such as
	// "max_connections = 50".
	Settings []string
	// Durable keeps fsync on. Test clusters turn it off: their data is
	// thrown away, and fsync would only slow the tests.
	Durable bool
}

// BinDir returns the directory of the PostgreSQL server binaries: PG_BINDIR
// when set, else what `pg_config --bindir` says, else the newest
// /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	return "", errors.New("no PostgreSQL server binaries found: install postgresql (Debian: apt-get install postgresql-15) or set PG_BINDIR")
}

// NewCluster initialises a cluster (initdb) unless opts.Dir already holds
// one. It does not start it.
func NewCluster(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: opts.Dir, Port: opts.Port, binDir: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres OS user to own the cluster: %w", err)
		}
		c.runAs = u
	}
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "pgtest-")
		if err != nil {
			return nil, fmt.Errorf("make cluster directory: %w", err)
		}
		c.Dir = dir
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("make cluster directory: %w", err)
	}
	c.Dir, _ = filepath.Abs(c.Dir)
	c.logFile = filepath.Join(c.Dir, "server.log")
	if err := c.chown(c.Dir); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(c.DataDir(), "PG_VERSION")); err == nil {
		// An existing cluster keeps its port unless one was asked for.
		if c.Port == 0 {
			if p, err := readPort(filepath.Join(c.Dir, "port")); err == nil {
				c.Port = p
			}
		}
	} else {
		if err := c.run(ctx, filepath.Join(bin, "initdb"), "-D", c.DataDir(), "-U", "postgres",
			"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
			return nil, err
		}
		conf := []string{
			"unix_socket_directories = '" + c.SocketDir() + "'",
			"listen_addresses = '127.0.0.1'",
		}
		if !opts.Durable {
			conf = append(conf, "fsync = off", "full_page_writes = off")
		}
		conf = append(conf, opts.Settings...)
		f, err := os.OpenFile(filepath.Join(c.DataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open postgresql.conf: %w", err)
		}
		_, err = f.WriteString("\n" + strings.Join(conf, "\n") + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("write postgresql.conf: %w", err)
		}
	}
	if c.Port == 0 {
		if c.Port, err = freePort(); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "port"), []byte(strconv.Itoa(c.Port)), 0o644); err != nil {
		return nil, fmt.Errorf("record port: %w", err)
	}
	return c, nil
}

// DataDir is the cluster's data directory (PGDATA).
func (c *Cluster) DataDir() string { return filepath.Join(c.Dir, "data") }

// SocketDir is the directory of the server's unix socket.
func (c *Cluster) SocketDir() string { return c.Dir }

// BinDir is the directory of the server binaries the cluster runs.
func (c *Cluster) BinDir() string { return c.binDir }

// URL returns a connection URL for database db over TCP as the postgres
// superuser.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start(ctx context.Context) error {
	return c.pgctl(ctx, "start")
}

// Stop stops the server (fast shutdown). Stopping a stopped server is not an
// error.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.Running() {
		return nil
	}
	return c.run(ctx, filepath.Join(c.binDir, "pg_ctl"), "stop", "-D", c.DataDir(), "-m", "fast", "-w")
}

// Restart restarts the server and waits until it accepts connections.
func (c *Cluster) Restart(ctx context.Context) error {
	return c.pgctl(ctx, "restart")
}

// RestartCommand is the shell command line that restarts this cluster, in
// the form the tune stage's "command" restart policy takes (PG_RESTART_COMMAND,
// run with sh -c). Its -o argument is quoted, as a user would write it.
func (c *Cluster) RestartCommand() string {
	cmd := []string{filepath.Join(c.binDir, "pg_ctl"), "restart", "-D", c.DataDir(), "-m", "fast", "-w",
		"-l", c.logFile, "-o", "-p " + strconv.Itoa(c.Port) + " -k " + c.SocketDir()}
	if c.runAs != nil {
		cmd = append([]string{"runuser", "-u", c.runAs.Username, "--"}, cmd...)
	}
	return ShellLine(cmd)
}

// ShellLine joins argv into one sh command line, quoting each argument
// that needs it.
func ShellLine(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '/' || r == '-' || r == '_' || r == '.' || r == '=' || r == ':' || r == ',' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'''`) + "'"
}

// Running reports whether the postmaster of this cluster is running.
func (c *Cluster) Running() bool {
	cmd := c.command(context.Background(), filepath.Join(c.binDir, "pg_ctl"), "status", "-D", c.DataDir())
	return cmd.Run() == nil
}

// Remove stops the server and deletes the cluster's directory.
func (c *Cluster) Remove(ctx context.Context) error {
	err := c.Stop(ctx)
	return errors.Join(err, os.RemoveAll(c.Dir))
}

// Log returns the server log, for test failure messages.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(c.logFile)
	return string(b)
}

func (c *Cluster) pgctl(ctx context.Context, action string) error {
	err := c.run(ctx, filepath.Join(c.binDir, "pg_ctl"), action, "-D", c.DataDir(), "-w", "-t", "60",
		"-l", c.logFile, "-o", "-p "+strconv.Itoa(c.Port))
	if err != nil {
		return fmt.Errorf("%w\nserver log:\n%s", err, tail(c.Log(), 20))
	}
	return nil
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if c.runAs != nil {
		args = append([]string{"-u", c.runAs.Username, "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	// Keep the server out of the test's process group so an interrupted
	// test run does not leave pg_ctl half-way.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := c.command(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("give %s to the postgres user: %w", path, err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func readPort(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
