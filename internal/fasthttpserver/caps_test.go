package fasthttpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/serving"
)

// capsServer is a server of either engine with small caps: POST /read
// reads its body whole (a hot route on the fasthttp server) and answers its
// length.
type capsServer struct {
	addr     string
	inFlight func() int64
}

func startCaps(t *testing.T, engine string, lim httpx.Limits) *capsServer {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /read", func(w http.ResponseWriter, r *http.Request) {
		body, err := httpx.ReadRequestBody(nil, r, 1<<20)
		if err != nil {
			httpx.WriteError(w, r, logger, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, len(body))
	})
	h := httpx.Middleware(logger, nil, mux)
	var serve func(context.Context) error
	cs := &capsServer{}
	if engine == "net/http" {
		srv, err := httpx.ListenLimits("127.0.0.1:0", h, logger, lim)
		if err != nil {
			t.Fatal(err)
		}
		serve, cs.addr, cs.inFlight = srv.Serve, srv.Addr(), srv.BodyInFlight
	} else {
		hot := []serving.Route{{Pattern: "POST /read", Serve: func(r *serving.Request, rp *httpx.Reply) {
			rp.Status, rp.Body = http.StatusOK, strconv.AppendInt(rp.Body[:0], int64(len(r.Body)), 10)
		}}}
		srv, err := fasthttpserver.Listen("127.0.0.1:0", h, hot, fasthttpserver.Options{Logger: logger, Limits: lim, MaxBody: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		serve, cs.addr, cs.inFlight = srv.Serve, srv.Addr(), srv.BodyInFlight
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cs
}

// overloaded requires the answer on br to be the 503 of a server at its
// caps: the JSON envelope with code overloaded and Retry-After.
func overloaded(t *testing.T, br *bufio.Reader) {
	t.Helper()
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer res.Body.Close()
	var env struct {
		Error httpx.Error `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		t.Fatalf("status %d: decode: %v", res.StatusCode, err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || env.Error.Code != "overloaded" || res.Header.Get("Retry-After") != strconv.Itoa(httpx.RetryAfter) {
		t.Errorf("got %d %+v Retry-After %q, want 503 overloaded with Retry-After %d", res.StatusCode, env.Error, res.Header.Get("Retry-After"), httpx.RetryAfter)
	}
}

// TestCaps checks, on both engines, that a connection past
// Limits.MaxConns and a body past Limits.MaxBodyInFlight are answered 503
// overloaded with Retry-After, and that the budget is given back.
func TestCaps(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"net/http", "fasthttp"} {
		dial := func(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			c.SetDeadline(time.Now().Add(10 * time.Second))
			return c, bufio.NewReader(c)
		}
		answer := func(t *testing.T, br *bufio.Reader) (int, string) {
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("read the answer: %v", err)
			}
			defer res.Body.Close()
			var b strings.Builder
			bufio.NewReader(res.Body).WriteTo(&b)
			return res.StatusCode, strings.TrimSpace(b.String())
		}
		t.Run(engine+"/connections", func(t *testing.T) {
			t.Parallel()
			lim := httpx.DefaultLimits
			lim.MaxConns = 2
			s := startCaps(t, engine, lim)
			// Two keep-alive connections, each answered (so accepted).
			for range 2 {
				c, br := dial(t, s.addr)
				post := "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
				c.Write([]byte(post))
				if status, _ := answer(t, br); status != http.StatusOK {
					t.Fatalf("connection within the cap: %d, want 200", status)
				}
			}
			c, br := dial(t, s.addr)
			c.Write([]byte("POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"))
			overloaded(t, br)
		})
		t.Run(engine+"/body_bytes", func(t *testing.T) {
			t.Parallel()
			lim := httpx.DefaultLimits
			lim.MaxBodyInFlight = 64 << 10
			s := startCaps(t, engine, lim)
			// A holds 40 KiB of a 100 KiB body: within the budget.
			a, abr := dial(t, s.addr)
			fmt.Fprintf(a, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", 100<<10, strings.Repeat(" ", 40<<10))
			for deadline := time.Now().Add(10 * time.Second); s.inFlight() < 40<<10; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the server holds %d body bytes, want A's 40 KiB", s.inFlight())
				}
			}
			// B's 30 KiB would pass the 64 KiB budget.
			b, bbr := dial(t, s.addr)
			fmt.Fprintf(b, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", 30<<10, strings.Repeat(" ", 30<<10))
			overloaded(t, bbr)
			// A's body ends: answered whole, and the budget is back to 0.
			a.Write([]byte(strings.Repeat(" ", 60<<10)))
			if status, body := answer(t, abr); status != http.StatusOK || body != strconv.Itoa(100<<10) {
				t.Errorf("A: %d %s, want 200 %d", status, body, 100<<10)
			}
			for deadline := time.Now().Add(10 * time.Second); s.inFlight() != 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the server still holds %d body bytes after A's answer", s.inFlight())
				}
			}
		})
	}
}
