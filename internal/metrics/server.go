package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Paths the server answers.
const (
	PathMetrics = "/metrics"
	PathHealth  = "/healthz"
)

// Server serves /metrics and /healthz.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen binds addr (host:port; ":9090" listens on every interface) and
// serves m's registry on /metrics and h on /healthz until Close. m may be
// nil (health only).
func Listen(addr string, m *Metrics, h *Health) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("WORKER_METRICS_ADDR=%q: %w (give host:port, such as 127.0.0.1:9090, or a free port)", addr, err)
	}
	mux := http.NewServeMux()
	if m != nil {
		mux.Handle(PathMetrics, m.Handler())
	}
	mux.Handle(PathHealth, h)
	s := &Server{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		ln:   ln,
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on (with the port chosen when
// the address gave port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in flight finish for a moment.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// Probe asks the /healthz of a worker listening on addr and returns nil
// when it answers 200, else an error with the body it gave: the
// container health check (worker --health-check). A listen address
// without a host (":9090") is asked on the loopback interface.
func Probe(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("WORKER_METRICS_ADDR=%q: want host:port such as :9090", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + PathHealth
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}
