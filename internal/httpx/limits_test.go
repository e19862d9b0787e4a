package httpx_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/httpx"
)

// TestLimits checks, over real connections, that each of the server's
// limits holds: a client that stalls in its header, its body, or while
// reading the answer is cut off, an idle keep-alive connection is closed,
// and an oversized header gets 431. The limits are short here; the roles
// use httpx.DefaultLimits.
func TestLimits(t *testing.T) {
	t.Parallel()
	lim := httpx.Limits{
		ReadHeader:     300 * time.Millisecond,
		Read:           600 * time.Millisecond,
		Write:          600 * time.Millisecond,
		Idle:           400 * time.Millisecond,
		MaxHeaderBytes: 1 << 10,
	}
	// What each stalled handler saw, and when.
	type outcome struct {
		err  error
		took time.Duration
	}
	bodyDone := make(chan outcome, 1)
	writeDone := make(chan outcome, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("POST /body", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, err := io.ReadAll(r.Body)
		bodyDone <- outcome{err, time.Since(start)}
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		chunk := make([]byte, 64<<10)
		var err error
		for i := 0; i < 4096 && err == nil; i++ { // up to 256 MiB, far more than socket buffers hold
			_, err = w.Write(chunk)
		}
		writeDone <- outcome{err, time.Since(start)}
	})
	srv, err := httpx.ListenLimits("127.0.0.1:0", mux, slog.New(slog.DiscardHandler), lim)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	dial := func(t *testing.T) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedWithin reads until the server closes c; it fails when the server
	// sends anything, or keeps c open for more than bound.
	closedWithin := func(t *testing.T, c net.Conn, r io.Reader, bound time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		c.SetReadDeadline(start.Add(bound))
		b, err := io.ReadAll(r)
		took := time.Since(start)
		if len(b) > 0 {
			t.Fatalf("the server sent %q, want the connection closed", b)
		}
		if err != nil { // ReadAll returns nil at EOF
			t.Fatalf("connection still open after %v: %v", took, err)
		}
		return took
	}

	t.Run("CompleteRequestIsServed", func(t *testing.T) {
		t.Parallel()
		res, err := http.Get("http://" + srv.Addr() + "/ok")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", res.StatusCode)
		}
	})

	t.Run("HeaderStalls", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /ok HTTP/1.1\r\nHost: %s\r\n", srv.Addr()) // and never the blank line
		took := closedWithin(t, c, c, 5*time.Second)
		if took < lim.ReadHeader/2 {
			t.Errorf("closed after %v, before the header timeout %v", took, lim.ReadHeader)
		}
	})

	t.Run("IdleKeepAliveIsClosed", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /ok HTTP/1.1\r\nHost: %s\r\n\r\n", srv.Addr())
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Close {
			t.Fatalf("status %d, close %v; want 200 on a kept-alive connection", res.StatusCode, res.Close)
		}
		took := closedWithin(t, c, br, 5*time.Second)
		if took < lim.Idle/2 {
			t.Errorf("idle connection closed after %v, before the idle timeout %v", took, lim.Idle)
		}
	})

	t.Run("BodyStalls", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "POST /body HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\n0123456789", srv.Addr())
		select {
		case o := <-bodyDone:
			if !errors.Is(o.err, os.ErrDeadlineExceeded) {
				t.Errorf("reading a stalled body: err = %v, want a deadline error", o.err)
			}
			t.Logf("the handler's body read failed after %v: %v", o.took, o.err)
		case <-time.After(10 * time.Second):
			t.Fatal("a stalled body held the handler for 10 s")
		}
	})

	t.Run("ReaderStalls", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: %s\r\n\r\n", srv.Addr()) // and never reads
		select {
		case o := <-writeDone:
			if o.err == nil {
				t.Error("writing 256 MiB to a client that reads nothing succeeded")
			}
			t.Logf("the handler's write failed after %v: %v", o.took, o.err)
		case <-time.After(15 * time.Second):
			t.Fatal("a client that reads nothing held the handler for 15 s")
		}
	})

	t.Run("HeaderTooLarge", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		// net/http allows 4 KiB over MaxHeaderBytes before it refuses.
		fmt.Fprintf(c, "GET /ok HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", srv.Addr(), strings.Repeat("x", 8<<10))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", res.StatusCode)
		}
	})
}

func TestDefaultLimits(t *testing.T) {
	d := httpx.DefaultLimits
	if d.ReadHeader <= 0 || d.Read < d.ReadHeader || d.Write <= 0 || d.Idle <= 0 || d.MaxHeaderBytes <= 0 {
		t.Errorf("DefaultLimits = %+v: every limit must be set, the whole-request read no shorter than the header's", d)
	}
}
