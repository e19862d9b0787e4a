package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Check is one readiness check: nil when ready, else why not. The error's
// text is in the answer of /readyz, which anyone may ask: it must not hold
// hosts, ports, users, database names or paths (log those instead).
type Check func(ctx context.Context) error

// Health mounts GET /healthz (the process is alive) and GET /readyz (every
// check passes; 503 with the reasons otherwise).
func Health(mux *http.ServeMux, checks map[string]Check) { Readiness(mux, checks, nil) }

// Readiness mounts GET /healthz and GET /readyz. The process is ready when
// every required check passes; a failing soft check (a part the process can
// do without for a while, such as the database of an api that holds its
// models) is listed under "degraded" without making it unready. Checks run
// at once, within 2 s together.
//
//	200 {"status":"ready"}
//	200 {"status":"ready","degraded":{"database":"…"}}
//	503 {"status":"not ready","checks":{"models":"…"},"degraded":{…}}
func Readiness(mux *http.ServeMux, required, soft map[string]Check) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var failing map[string]string
		var wg sync.WaitGroup
		wg.Go(func() { failing = runChecks(ctx, required) })
		degraded := runChecks(ctx, soft)
		wg.Wait()
		body := map[string]any{"status": "ready"}
		if len(degraded) > 0 {
			body["degraded"] = degraded
		}
		if len(failing) > 0 {
			body["status"] = "not ready"
			body["checks"] = failing
			WriteJSON(w, http.StatusServiceUnavailable, body)
			return
		}
		WriteJSON(w, http.StatusOK, body)
	})
}

// runChecks runs checks concurrently and returns the failing ones' errors.
func runChecks(ctx context.Context, checks map[string]Check) map[string]string {
	var mu sync.Mutex
	var wg sync.WaitGroup
	failing := map[string]string{}
	for name, c := range checks {
		wg.Go(func() {
			if err := c(ctx); err != nil {
				mu.Lock()
				failing[name] = err.Error()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failing
}

// Limits are a server's timeouts and header limit: what a slow, stalled or
// hostile client can hold.
type Limits struct {
	ReadHeader     time.Duration // to read a request's header once its first bytes came (slowloris)
	Read           time.Duration // to read a whole request, body included
	Write          time.Duration // to write an answer, from the end of the request's header
	Idle           time.Duration // a keep-alive connection waits this long for its next request
	MaxHeaderBytes int           // larger request headers get 431
	// MaxConns caps the open connections: one more is answered 503
	// (Overloaded) and closed. 0: no cap.
	MaxConns int
	// MaxBodyInFlight caps the request body bytes the server holds at once,
	// across its connections: a request whose next bytes would pass it is
	// answered 503 (Overloaded), unless it is the only one holding any.
	// 0: no cap.
	MaxBodyInFlight int64
}

// DefaultLimits are the limits of every mlserve role: generous for large
// CSV uploads and batch answers, short for headers. MLSERVE_MAX_CONNS and
// MLSERVE_MAX_BODY_BYTES_IN_FLIGHT override the last two.
var DefaultLimits = Limits{
	ReadHeader:      10 * time.Second,
	Read:            5 * time.Minute,
	Write:           5 * time.Minute,
	Idle:            2 * time.Minute,
	MaxHeaderBytes:  64 << 10,
	MaxConns:        1024,
	MaxBodyInFlight: 256 << 20,
}

// Server is an HTTP server with mlserve's timeouts and limits and a graceful
// shutdown.
type Server struct {
	srv    *http.Server
	ln     *SweptListener
	budget *Budget
}

// Listen binds addr (":0" picks a free port) and prepares to serve h with
// DefaultLimits.
func Listen(addr string, h http.Handler, logger *slog.Logger) (*Server, error) {
	return ListenLimits(addr, h, logger, DefaultLimits)
}

// ListenLimits is Listen with other limits.
func ListenLimits(addr string, h http.Handler, logger *slog.Logger, lim Limits) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	b := NewBudget(lim.MaxBodyInFlight)
	return &Server{
		ln:     NewSweptListener(ln, lim),
		budget: b,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: lim.ReadHeader,
			ReadTimeout:       lim.Read,
			WriteTimeout:      lim.Write,
			IdleTimeout:       lim.Idle,
			MaxHeaderBytes:    lim.MaxHeaderBytes,
			ConnContext:       connContext(b),
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// BodyInFlight returns the request body bytes the server's handlers hold
// now (see Limits.MaxBodyInFlight).
func (s *Server) BodyInFlight() int64 { return s.budget.InFlight() }

// Serve serves until ctx is done, then stops taking connections and waits
// up to 15 s for in-flight requests.
func (s *Server) Serve(ctx context.Context) error {
	return ServeUntil(ctx, s.ln, s.srv.Serve, s.srv.Shutdown)
}

// ServeUntil runs serve on ln, with ln's sweeper, until serve fails or ctx
// is done; then it calls shutdown with 15 s to stop taking connections and
// finish in-flight requests, closes ln (in case serve had not taken it
// yet) and waits for serve to return. http.ErrServerClosed is no error.
func ServeUntil(ctx context.Context, ln *SweptListener, serve func(net.Listener) error, shutdown func(context.Context) error) error {
	stop := ln.Sweep()
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- serve(ln) }()
	select {
	case err := <-errc:
		if err == nil || errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := shutdown(sctx)
	ln.Close()
	if serr := <-errc; err == nil && serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
