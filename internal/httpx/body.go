package httpx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
)

// A declared body size is not a reason to allocate it: a client may declare
// 8 MB and send one byte, on hundreds of connections at once. Bodies are
// read as their bytes arrive, in buffers that grow with them, and a
// server's Budget caps the body bytes all its requests hold together.

// Budget caps the request body bytes a server holds at once, across its
// connections. A nil *Budget caps nothing.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a budget of max bytes; nil (no cap) when max <= 0.
func NewBudget(max int64) *Budget {
	if max <= 0 {
		return nil
	}
	return &Budget{max: max}
}

// InFlight returns the body bytes held now.
func (b *Budget) InFlight() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// take adds n bytes for a request that holds held of them already. It
// fails past the cap, except for a request that holds everything in use:
// a body larger than the budget still passes when it is alone.
func (b *Budget) take(held, n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.max && u != held {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// Hold is one request's share of a Budget. The zero Hold takes from no
// budget.
type Hold struct {
	b *Budget
	n int64
}

// NewHold returns a request's empty share of b.
func NewHold(b *Budget) Hold { return Hold{b: b} }

// Take takes n more bytes, or returns the 503 of a server over its budget.
func (h *Hold) Take(n int) error {
	if h == nil || h.b == nil || n <= 0 {
		return nil
	}
	if !h.b.take(h.n, int64(n)) {
		return Overloaded()
	}
	h.n += int64(n)
	return nil
}

// Release gives back everything h holds.
func (h *Hold) Release() {
	if h != nil && h.b != nil && h.n != 0 {
		h.b.used.Add(-h.n)
		h.n = 0
	}
}

// Overloaded is the 503 of a server at its limit of connections or of
// request body bytes in flight.
func Overloaded() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "overloaded", RetryAfter: RetryAfter,
		Message: "the server is at its limit of connections or of request bytes in flight; retry shortly"}
}

// maxReadChunk is the most one read of a body asks for: a buffer grows by
// at most this much ahead of the bytes that arrived.
const maxReadChunk = 64 << 10

// ReadBody appends the body r gives to dst, within limit bytes, taking
// what it reads from h. declared is the body's Content-Length (-1 when
// unknown): a declared size over limit is refused before anything is read,
// and otherwise not trusted, so dst grows as bytes arrive, never ahead of
// them by more than 64 KiB or the bytes already read. Errors: 413 over
// limit, 503 over the budget, 408 for a body that did not arrive in time,
// ErrBadBody for a malformed or cut-off one.
func ReadBody(dst []byte, r io.Reader, declared, limit int64, h *Hold) ([]byte, error) {
	if declared > limit {
		return dst, BodyTooLarge(limit)
	}
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, min(max(len(dst), 512), maxReadChunk))
		}
		room := dst[len(dst):cap(dst)]
		if left := limit + 1 - int64(len(dst)); int64(len(room)) > left {
			room = room[:left]
		}
		n, err := r.Read(room)
		if n > 0 {
			if terr := h.Take(n); terr != nil {
				return dst, terr
			}
			dst = dst[:len(dst)+n]
			if int64(len(dst)) > limit {
				return dst, BodyTooLarge(limit)
			}
		}
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			return dst, bodyError(err)
		}
	}
}

// bodyError is the error of a failed read of a request body: the limit's
// and the budget's errors as they are, a timeout as 408, anything else the
// client's broken or cut-off body (ErrBadBody).
func bodyError(err error) error {
	var e *Error
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &e), errors.As(err, &mbe):
		return err
	case errors.As(err, &ne) && ne.Timeout():
		return Errorf(http.StatusRequestTimeout, "timeout", "the request did not arrive in time")
	}
	return fmt.Errorf("%w: %w", ErrBadBody, err)
}

// ReadRequestBody appends r's body to dst (see ReadBody), within limit
// bytes and the body budget of the server that serves r.
func ReadRequestBody(dst []byte, r *http.Request, limit int64) ([]byte, error) {
	return ReadBody(dst, r.Body, r.ContentLength, limit, holdOf(r))
}

// LimitBody caps r's body at n bytes and the body budget of the server
// that serves r, for a handler that streams it: reading past n fails with
// *http.MaxBytesError (413), past the budget with Overloaded's 503, and a
// malformed or cut-off body with ErrBadBody (400).
func LimitBody(w http.ResponseWriter, r *http.Request, n int64) {
	r.Body = &limitedBody{rc: http.MaxBytesReader(w, r.Body, n), h: holdOf(r)}
}

type limitedBody struct {
	rc io.ReadCloser
	h  *Hold
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if terr := b.h.Take(n); terr != nil {
		return 0, terr
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = bodyError(err)
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// holdOf returns the body budget share of r (set by Middleware on a
// Server), or nil.
func holdOf(r *http.Request) *Hold {
	if s := stateOf(r.Context()); s != nil {
		return &s.hold
	}
	return nil
}
