package httpx_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mlserve/mlserve/internal/httpx"
)

// TestReadBody checks that a body is read as it arrives: a declared size is
// checked against the limit but never allocated, the buffer grows with the
// bytes, the budget is taken as they come and given back, and a body the
// client breaks is ErrBadBody.
func TestReadBody(t *testing.T) {
	t.Parallel()
	t.Run("declared_not_allocated", func(t *testing.T) {
		t.Parallel()
		b := httpx.NewBudget(1 << 20)
		h := httpx.NewHold(b)
		// 8 MB declared, 1 byte sent, then the client is gone.
		got, err := httpx.ReadBody(nil, iotest.OneByteReader(strings.NewReader("{")), 8_000_000, 8<<20, &h)
		if string(got) != "{" || err != nil {
			t.Fatalf("got %q, %v", got, err)
		}
		if cap(got) > 64<<10 {
			t.Errorf("buffer of %d bytes for 1 byte read", cap(got))
		}
		if b.InFlight() != 1 {
			t.Errorf("in flight %d, want 1", b.InFlight())
		}
		h.Release()
		if b.InFlight() != 0 {
			t.Errorf("in flight after Release: %d", b.InFlight())
		}
	})
	t.Run("grows_with_bytes", func(t *testing.T) {
		t.Parallel()
		body := strings.Repeat("x", 300<<10)
		got, err := httpx.ReadBody(nil, strings.NewReader(body), -1, 1<<20, nil)
		if err != nil || string(got) != body {
			t.Fatalf("got %d bytes, %v", len(got), err)
		}
		if cap(got) > 2*len(body) {
			t.Errorf("buffer %d for %d bytes", cap(got), len(body))
		}
	})
	t.Run("limits", func(t *testing.T) {
		t.Parallel()
		var e *httpx.Error
		if _, err := httpx.ReadBody(nil, strings.NewReader(""), 11, 10, nil); !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("declared over the limit: %v, want 413", err)
		}
		if _, err := httpx.ReadBody(nil, strings.NewReader(strings.Repeat("x", 11)), -1, 10, nil); !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("sent over the limit: %v, want 413", err)
		}
		if _, err := httpx.ReadBody(nil, iotest.ErrReader(io.ErrUnexpectedEOF), 100, 1000, nil); !errors.Is(err, httpx.ErrBadBody) {
			t.Errorf("cut-off body: %v, want ErrBadBody", err)
		}
	})
	t.Run("budget", func(t *testing.T) {
		t.Parallel()
		b := httpx.NewBudget(100)
		a := httpx.NewHold(b)
		if _, err := httpx.ReadBody(nil, strings.NewReader(strings.Repeat("a", 60)), -1, 1000, &a); err != nil {
			t.Fatal(err)
		}
		c := httpx.NewHold(b)
		var e *httpx.Error
		if _, err := httpx.ReadBody(nil, strings.NewReader(strings.Repeat("c", 60)), -1, 1000, &c); !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || e.RetryAfter != httpx.RetryAfter {
			t.Errorf("past the budget: %v, want 503 with Retry-After", err)
		}
		c.Release()
		a.Release()
		// Alone, a body larger than the whole budget passes.
		if got, err := httpx.ReadBody(nil, strings.NewReader(strings.Repeat("d", 500)), -1, 1000, &c); err != nil || len(got) != 500 {
			t.Errorf("alone: %d bytes, %v", len(got), err)
		}
		c.Release()
		if b.InFlight() != 0 {
			t.Errorf("in flight after every Release: %d", b.InFlight())
		}
	})
}
