// Package httpx holds what every mlserve HTTP role shares: the JSON error
// envelope, body limits, admin authorisation, panic recovery, request ids and
// access logs, health routes and graceful serving.
package httpx

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Error is an API error: an HTTP status, a stable code, a message for
// people and, for bad input, the offending fields.
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// RetryAfter, when set, becomes a Retry-After header (seconds).
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// DiskFull is the answer to a write the database refused because its disk
// is full (store.ErrDiskFull): a 503 that says so and what to do, without
// a path.
func DiskFull() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "disk_full", RetryAfter: RetryAfter,
		Message: "disk full: the database cannot store anything more until space is freed on its disk; nothing was written"}
}

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(unencodable)
	} else {
		data = append(data, '\n')
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

// WriteError writes err in the error envelope, as Classify maps it, and
// logs it as Report does.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	e := Report(r.Context(), logger, err, RequestID(r), "method", r.Method, "path", r.URL.Path)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	WriteJSON(w, e.Status, map[string]any{"error": e})
}

// BodyTooLarge is the 413 of a request body over limit bytes.
func BodyTooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "payload_too_large", "request body is over the limit of %d bytes; split it into smaller requests", limit)
}

type ctxKey struct{}

// reqState is what Middleware keeps of a request: its id and what the
// handler noted for the observer.
type reqState struct {
	id      string
	model   string
	version int
	rows    int
	hold    Hold // the request's share of the server's body budget
}

func stateOf(ctx context.Context) *reqState {
	s, _ := ctx.Value(ctxKey{}).(*reqState)
	return s
}

// RequestID returns the request's id (set by Middleware).
func RequestID(r *http.Request) string { return ContextRequestID(r.Context()) }

// ContextRequestID returns the id of the request whose context ctx is, or
// "".
func ContextRequestID(ctx context.Context) string {
	if s := stateOf(ctx); s != nil {
		return s.id
	}
	return ""
}

// NoteModel records that the request is answered by version of model, for
// the observer's labels. model must be a configured pipeline's name, never
// a value taken from the request unchecked.
func NoteModel(r *http.Request, model string, version int) {
	if s := stateOf(r.Context()); s != nil {
		s.model, s.version = model, version
	}
}

// NotePredictions records that the request's answer holds rows
// predictions.
func NotePredictions(r *http.Request, rows int) {
	if s := stateOf(r.Context()); s != nil {
		s.rows = rows
	}
}

// Noted returns what the handler noted with NoteModel and NotePredictions.
func Noted(r *http.Request) (model string, version, rows int) {
	if s := stateOf(r.Context()); s != nil {
		return s.model, s.version, s.rows
	}
	return "", 0, 0
}

// LogHandler wraps h so that a record logged with a request's context
// (logger.InfoContext(r.Context(), …)) carries the request's request_id.
func LogHandler(h slog.Handler) slog.Handler { return idHandler{h} }

type idHandler struct{ slog.Handler }

func (h idHandler) Handle(ctx context.Context, r slog.Record) error {
	if s := stateOf(ctx); s != nil {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", s.id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h idHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return idHandler{h.Handler.WithAttrs(attrs)}
}

func (h idHandler) WithGroup(name string) slog.Handler { return idHandler{h.Handler.WithGroup(name)} }

// newID returns 16 random hex digits. A request id only has to be unique
// enough to find a request in the logs, not secret: math/rand/v2's
// generator (ChaCha8, seeded from the OS) is plenty and costs a few
// nanoseconds.
func newID() string {
	var h [16]byte
	return string(AppendNewID(h[:0]))
}

// AppendNewID appends a new request id (16 random hex digits) to dst.
func AppendNewID(dst []byte) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	return hex.AppendEncode(dst, b[:])
}

// SaneID reports whether a client's X-Request-Id can be kept (and echoed):
// 1 to 64 visible ASCII characters, no double quote.
func SaneID[T string | []byte](id T) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '"' {
			return false
		}
	}
	return true
}

// request is what Middleware keeps of a request: the context that carries
// the request's state, the status-recording writer and the X-Request-Id
// header value.
//
// A Server gives each connection one request, reused by the requests the
// connection carries (HTTP/1 serves them one at a time). It is the parent
// of every request context on the connection, so Middleware finds it
// without allocating and without copying the *http.Request to add a
// context. Elsewhere (a handler served by another server, HTTP/2)
// Middleware allocates one per request and adds it with WithContext.
type request struct {
	context.Context // the parent context
	state           reqState
	sw              statusWriter
	idHeader        [1]string
	inUse           bool    // a request on the connection is being served
	budget          *Budget // the server's body budget, or nil
}

// Value answers the request's state and defers every other key.
func (c *request) Value(key any) any {
	switch key.(type) {
	case ctxKey:
		return &c.state
	case connKey:
		return c
	}
	return c.Context.Value(key)
}

// connKey finds a connection's reusable request.
type connKey struct{}

// ConnContext is the http.Server ConnContext of a Server: it gives the
// connection the request state Middleware reuses for each of its requests.
// Other servers (and benchmarks) may use it too; the connection is not used.
func ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return &request{Context: ctx}
}

// connContext is ConnContext for a server whose requests' bodies take from
// b.
func connContext(b *Budget) func(context.Context, net.Conn) context.Context {
	return func(ctx context.Context, _ net.Conn) context.Context {
		return &request{Context: ctx, budget: b}
	}
}

// begin returns the request state for r, reusing its connection's when it
// can, and r with a context that carries it.
func begin(w http.ResponseWriter, r *http.Request, id string) (*request, *http.Request) {
	conn, ok := r.Context().Value(connKey{}).(*request)
	if ok && r.ProtoMajor == 1 && !conn.inUse {
		*conn = request{Context: conn.Context, state: reqState{id: id, hold: NewHold(conn.budget)}, sw: statusWriter{ResponseWriter: w},
			idHeader: [1]string{id}, inUse: true, budget: conn.budget}
		return conn, r
	}
	var b *Budget
	if ok {
		b = conn.budget
	}
	c := &request{Context: r.Context(), state: reqState{id: id, hold: NewHold(b)}, sw: statusWriter{ResponseWriter: w}, idHeader: [1]string{id}, budget: b}
	return c, r.WithContext(c)
}

// end releases c for the next request on its connection. The state is
// cleared, so a goroutine that outlived its request finds no id rather
// than another request's. idHeader stays: net/http may write the answer's
// header after the handler returned, and the connection's next request
// only begins once that answer is out.
func (c *request) end() {
	c.state.hold.Release()
	c.state, c.sw, c.inUse = reqState{}, statusWriter{}, false
}

// statusWriter records the status code.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Observer receives every finished request: its route pattern, status and
// duration. It may be nil.
type Observer func(r *http.Request, pattern string, status int, d time.Duration)

// Middleware adds a request id (X-Request-Id, kept when the client sent a
// sane one), recovers panics into a 500 envelope, logs at debug level (never
// bodies or query values) and reports to observe.
func Middleware(logger *slog.Logger, observe Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var id string
		if v := r.Header["X-Request-Id"]; len(v) > 0 { // the key is canonical: no Get, which canonicalises it per request
			id = v[0]
		}
		if !SaneID(id) {
			id = newID()
		}
		c, r := begin(w, r, id)
		ctx := r.Context()
		w.Header()["X-Request-Id"] = c.idHeader[:]
		sw := &c.sw
		defer func() {
			defer c.end()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "request_id", id, "panic", fmt.Sprint(p))
				if sw.status == 0 {
					WriteError(sw, r, logger, Errorf(http.StatusInternalServerError, "internal", "internal error (request id %s)", id))
				}
			}
			d := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			if observe != nil {
				observe(r, r.Pattern, status, d)
			}
			if logger.Enabled(ctx, slog.LevelDebug) {
				logger.Debug("request", "method", r.Method, "route", r.Pattern, "status", status,
					"duration_ms", float64(d.Microseconds())/1000, "request_id", id)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
