// Package fasthttpserver serves the api role over HTTP/1.1 with fasthttp: its hot
// routes (the prototype's GET /, the predict routes and the inference
// protocol's infer routes) by handlers that never touch net/http,
// and every other request by the role's net/http handler through fasthttp's
// adaptor, so the routes, middleware, errors and metrics stay the ones the
// net/http server has.
//
// net/http costs a few microseconds per request in allocations, header maps
// and per-request deadlines; on a two-core machine that is a fifth of the
// requests a core can answer. The front keeps net/http's behaviour where a
// client can see it: the same answers and headers (X-Request-Id, JSON error
// envelopes for bad requests, 413 and 431), the same timeouts and a graceful
// drain. Request bodies are read as their bytes arrive (never into a buffer
// of the size a client declares), within the body limit and the server's
// budget of body bytes in flight (httpx.Limits.MaxBodyInFlight), and handed
// to the handlers whole. What it does not do: HTTP/2, and streaming request
// bodies to the handlers, which is why the ingest role stays on net/http.
//
// Hot routes are serving.Routes: the front matches the method and path their
// pattern stands for. Neither kind of handler may keep a request's strings:
// the hot routes' (see serving.Request) and those the adaptor gives the net/http handler (its
// method, path, path values, query and headers) share fasthttp's buffers,
// which the connection's next request overwrites.
package fasthttpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/serving"
)

// route is a hot route as the front matches it: its method and its
// path split at its wildcards, both derived from its pattern.
type route struct {
	serving.Route
	method string
	lits   []string // the path split at its wildcards
}

// headers is a request's headers as a hot route reads them.
type headers struct{ h *fasthttp.RequestHeader }

// Get returns the value of header name, or "".
func (h *headers) Get(name string) string { return unsafeString(h.h.Peek(name)) }

// match reports whether path is rt's, and the segments in it (the others
// empty).
func (rt *route) match(path []byte, segs *[serving.MaxValues][]byte) bool {
	*segs = [serving.MaxValues][]byte{}
	rest := path
	for i, lit := range rt.lits {
		if len(rest) < len(lit) || string(rest[:len(lit)]) != lit {
			return false
		}
		rest = rest[len(lit):]
		if i == len(rt.lits)-1 {
			return len(rest) == 0
		}
		end := bytes.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		seg := rest[:end]
		if len(seg) == 0 || bytes.IndexByte(seg, '%') >= 0 {
			return false
		}
		segs[i], rest = seg, rest[end:]
	}
	return false // not reached: lits has at least one element
}

// newRoute derives the method and path r's pattern stands for.
func newRoute(r serving.Route) (route, error) {
	method, path, err := serving.Split(r.Pattern)
	if err != nil {
		return route{}, fmt.Errorf("fast %w", err)
	}
	return route{Route: r, method: method, lits: strings.Split(path, "{}")}, nil
}

// Observer receives every request a hot route finished: the route's
// pattern, what its handler noted, the status and the duration. Requests
// the net/http handler serves are observed by its own middleware. model is
// a configured model's name or "", never request bytes (see Request).
type Observer func(route, model string, version, status, rows int, d time.Duration)

// Options configure a Server.
type Options struct {
	Logger  *slog.Logger
	Observe Observer // may be nil
	Limits  httpx.Limits
	// MaxBody caps request bodies: a longer one is answered 413 before any
	// handler runs. 0 means config.DefaultMaxBody.
	MaxBody int64
	// ErrorBody, when set, may write the answer to a request the server
	// could not read (too large, malformed, late) in the error form of
	// the protocol its path belongs to: it returns the body for e, or nil
	// to leave the path to the JSON error envelope. path is empty when the
	// request line could not be read.
	ErrorBody func(path []byte, e *httpx.Error) []byte
}

// Server is the api role's fasthttp server.
type Server struct {
	srv *fasthttp.Server
	ln  *httpx.SweptListener
	f   *front
}

// Listen binds addr (":0" picks a free port) and prepares to serve: a
// request that matches a route's method and path, without an Origin header
// (CORS answers are the net/http handler's), by the route; anything else by
// next.
func Listen(addr string, next http.Handler, hot []serving.Route, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = config.DefaultMaxBody
	}
	routes := make([]route, len(hot))
	for i, r := range hot {
		var err error
		if routes[i], err = newRoute(r); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	lim := o.Limits
	f := &front{routes: routes, next: fasthttpadaptor.NewFastHTTPHandler(liveContext(next)), o: o, budget: httpx.NewBudget(lim.MaxBodyInFlight)}
	srv := &fasthttp.Server{
		Handler:      f.serve,
		ErrorHandler: f.fail,
		// The header must arrive within ReadHeader of the request's first
		// byte; once it has, the body has Read from then on (net/http
		// counts Read from the first byte: this allows up to ReadHeader
		// more).
		ReadTimeout: lim.ReadHeader,
		HeaderReceived: func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			h.DelBytes(headerOverLimit)
			if int64(h.ContentLength()) > o.MaxBody {
				// Refused before a byte of the body is read (fasthttp would
				// wait for the first 8 KiB): serve answers 413 and the
				// connection closes, its body unread.
				h.SetContentLength(0)
				h.SetConnectionClose()
				h.SetBytesKV(headerOverLimit, []byte("1"))
			}
			return fasthttp.RequestConfig{ReadTimeout: lim.Read}
		},
		WriteTimeout:       lim.Write,
		IdleTimeout:        lim.Idle,
		ReadBufferSize:     lim.MaxHeaderBytes,
		MaxRequestBodySize: int(min(o.MaxBody, math.MaxInt)),
		// Bodies come to the handler as a stream after an 8 KiB prefetch,
		// which front reads as it arrives (readBody): without it, fasthttp
		// allocates a body's declared length before its bytes arrive.
		StreamRequestBody:            true,
		NoDefaultServerHeader:        true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return &Server{srv: srv, ln: httpx.NewSweptListener(ln, lim), f: f}, nil
}

// liveContext gives next's requests a context that the server's stop does
// not cancel: fasthttp's request context ends when Shutdown begins, which
// would fail the work of requests in flight (a registry read, say) that
// the drain is meant to let finish. net/http's Shutdown leaves them alone
// too.
func liveContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	})
}

// Handler is the server's request handler, for benchmarks that drive it
// without a connection.
func (s *Server) Handler() fasthttp.RequestHandler { return s.srv.Handler }

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// BodyInFlight returns the request body bytes the server holds now (see
// httpx.Limits.MaxBodyInFlight).
func (s *Server) BodyInFlight() int64 { return s.f.budget.InFlight() }

// Serve serves until ctx is done, then stops taking connections and waits
// up to 15 s for in-flight requests.
func (s *Server) Serve(ctx context.Context) error {
	return httpx.ServeUntil(ctx, s.ln, s.srv.Serve, s.srv.ShutdownWithContext)
}

// front is the request handler.
type front struct {
	routes []route
	next   fasthttp.RequestHandler
	o      Options // with Logger and MaxBody set
	budget *httpx.Budget
}

var (
	headerRequestID  = []byte("X-Request-Id")
	headerOrigin     = []byte("Origin")
	headerRetryAfter = []byte("Retry-After")
	// headerOverLimit marks a request whose declared body is over the
	// limit (see Listen's HeaderReceived); a client's own is removed.
	headerOverLimit = []byte("X-Mlserve-Body-Over-Limit")
	contentTypeJSON = []byte("application/json")
)

func (f *front) serve(c *fasthttp.RequestCtx) {
	h := &c.Request.Header
	if h.PeekBytes(headerOverLimit) != nil {
		c.SetConnectionClose()
		f.answerError(c, httpx.BodyTooLarge(f.o.MaxBody))
		return
	}
	if method := h.Method(); (string(method) == fasthttp.MethodGet || string(method) == fasthttp.MethodPost) && h.PeekBytes(headerOrigin) == nil {
		// The request target as sent, split at its first '?' as net/http
		// splits it into the path and RawQuery.
		path := h.RequestURI()
		var query []byte
		if i := bytes.IndexByte(path, '?'); i >= 0 {
			path, query = path[:i], path[i+1:]
		}
		var segs [serving.MaxValues][]byte
		for i := range f.routes {
			rt := &f.routes[i]
			if rt.method != string(method) {
				continue
			}
			if rt.match(path, &segs) {
				f.serveRoute(c, rt, &segs, query)
				return
			}
		}
	}
	if err := checkTarget(h.RequestURI()); err != nil {
		f.fail(c, err)
		return
	}
	f.serveNext(c)
}

// serveNext serves c by the net/http handler, its body read first: the
// adaptor would read it whole, whatever its size, before the handler runs.
func (f *front) serveNext(c *fasthttp.RequestCtx) {
	if !c.Request.IsBodyStream() {
		f.next(c)
		return
	}
	b := bodies.Get()
	defer func() {
		b.hold.Release()
		bodies.Put(b)
	}()
	b.hold = httpx.NewHold(f.budget)
	var err error
	if b.b, err = f.readBody(c, b.b[:0], &b.hold); err != nil {
		f.answerError(c, httpx.Report(context.Background(), f.o.Logger, err, "", "method", string(c.Method()), "path", string(c.Path())))
		return
	}
	c.Request.SetBodyRaw(b.b)
	f.next(c)
	c.Request.ResetBody() // b goes back to the pool
}

// body is a request body read by the front and its share of the budget.
type body struct {
	b    []byte
	hold httpx.Hold
}

var bodies = serving.NewPool(func(b *body) bool { return cap(b.b) <= serving.MaxKeep })

// readBody appends c's body to dst as it arrives (httpx.ReadBody).
func (f *front) readBody(c *fasthttp.RequestCtx, dst []byte, h *httpx.Hold) ([]byte, error) {
	rs := c.RequestBodyStream()
	if rs == nil {
		return append(dst, c.Request.Body()...), nil
	}
	return httpx.ReadBody(dst, rs, int64(c.Request.Header.ContentLength()), f.o.MaxBody, h)
}

// checkTarget returns the error net/http's server answers 400 for, for a
// request target fasthttp took (fasthttp's adaptor answers it 500). A path
// without '%' has nothing to refuse: fasthttp has refused control bytes.
func checkTarget(target []byte) error {
	path, _, _ := bytes.Cut(target, []byte("?"))
	if len(target) > 0 && target[0] == '/' && bytes.IndexByte(path, '%') < 0 {
		return nil
	}
	if _, err := url.ParseRequestURI(unsafeString(target)); err != nil {
		return fmt.Errorf("parse request target: %w", err)
	}
	return nil
}

// serveRoute answers a hot route as httpx.Middleware and the net/http
// handler would: request id, panic recovery, Retry-After, metrics, debug
// log.
func (f *front) serveRoute(c *fasthttp.RequestCtx, rt *route, segs *[serving.MaxValues][]byte, query []byte) {
	start := time.Now()
	id := c.Request.Header.PeekBytes(headerRequestID)
	if !httpx.SaneID(id) {
		var buf [16]byte
		c.Response.Header.SetCanonical(headerRequestID, httpx.AppendNewID(buf[:0]))
	} else {
		c.Response.Header.SetCanonical(headerRequestID, id)
	}
	id = c.Response.Header.PeekBytes(headerRequestID) // the header's copy: buf stays on the stack
	x := exchanges.Get()
	rp := &x.rp
	defer func() {
		if p := recover(); p != nil {
			f.o.Logger.Error("panic serving request", "method", rt.method, "route", rt.Pattern, "request_id", string(id), "panic", fmt.Sprint(p))
			rp.SetError(httpx.Errorf(http.StatusInternalServerError, "internal", "internal error (request id %s)", id))
		}
		c.SetStatusCode(rp.Status)
		if rp.ContentType != "" {
			c.Response.Header.SetContentType(rp.ContentType)
		} else {
			c.Response.Header.SetContentTypeBytes(contentTypeJSON)
		}
		if rp.RetryAfter > 0 {
			c.Response.Header.SetCanonical(headerRetryAfter, strconv.AppendInt(nil, int64(rp.RetryAfter), 10))
		}
		if rp.Status == http.StatusUnauthorized {
			c.Response.Header.Set("WWW-Authenticate", httpx.Challenge)
		}
		c.Response.SetBody(rp.Body)
		d := time.Since(start)
		if f.o.Observe != nil {
			f.o.Observe(rt.Pattern, rp.Model, rp.Version, rp.Status, rp.Rows, d)
		}
		if f.o.Logger.Enabled(context.Background(), slog.LevelDebug) {
			f.o.Logger.Debug("request", "method", rt.method, "route", rt.Pattern, "status", rp.Status,
				"duration_ms", float64(d.Microseconds())/1000, "request_id", string(id))
		}
		x.body.hold.Release()
		exchanges.Put(x)
	}()
	x.hdr.h = &c.Request.Header
	x.r = serving.Request{Context: context.Background(), RawQuery: unsafeString(query),
		ID: unsafeString(id), Headers: &x.hdr}
	for i, s := range segs {
		x.r.Values[i] = unsafeString(s)
	}
	if rt.method == fasthttp.MethodPost && !f.readRouteBody(c, x, id) {
		return
	}
	rt.Serve(&x.r, rp)
}

// readRouteBody reads the body of a hot route's request into x, or makes
// x's reply the error (in the form of the protocol of the request's path)
// and returns false.
func (f *front) readRouteBody(c *fasthttp.RequestCtx, x *exchange, id []byte) bool {
	x.body.hold = httpx.NewHold(f.budget)
	var err error
	if x.body.b, err = f.readBody(c, x.body.b[:0], &x.body.hold); err != nil {
		e := httpx.Report(context.Background(), f.o.Logger, err, string(id), "method", string(c.Method()), "path", string(c.Path()))
		x.rp.SetError(e)
		if b := f.errorBody(c, e); b != nil {
			x.rp.Body = b
		}
		return false
	}
	x.r.Body = x.body.b
	return true
}

// exchange is a hot route's request, body and reply, pooled.
type exchange struct {
	r    serving.Request
	hdr  headers
	body body
	rp   httpx.Reply
}

var exchanges = serving.NewPool(func(x *exchange) bool {
	x.r, x.hdr = serving.Request{}, headers{} // no request kept alive by the pool
	x.rp.Reset()
	if cap(x.body.b) > serving.MaxKeep {
		x.body.b = nil
	}
	return cap(x.rp.Body) <= serving.MaxKeep
})

// unsafeString is b as a string without a copy: b must not change while
// the string is in use.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// fail answers a request fasthttp could not read, in the JSON error
// envelope: 431 for a header over the limit, 413 for a body over it, 408
// for a request that did not arrive in time, 400 for anything else.
func (f *front) fail(c *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	var e *httpx.Error
	switch {
	case errors.As(err, &small):
		e = httpx.Errorf(http.StatusRequestHeaderFieldsTooLarge, "header_too_large", "request header is over the limit of %d bytes", f.o.Limits.MaxHeaderBytes)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = httpx.BodyTooLarge(f.o.MaxBody)
	case errors.As(err, &ne) && ne.Timeout():
		e = httpx.Errorf(http.StatusRequestTimeout, "timeout", "the request did not arrive in time")
	default:
		e = httpx.Errorf(http.StatusBadRequest, "bad_request", "malformed HTTP request")
	}
	f.answerError(c, e)
}

// answerError answers c with e, in the form of the protocol of c's path.
func (f *front) answerError(c *fasthttp.RequestCtx, e *httpx.Error) {
	var rp httpx.Reply
	rp.SetError(e)
	if b := f.errorBody(c, e); b != nil {
		rp.Body = b
	}
	c.SetStatusCode(rp.Status)
	c.Response.Header.SetContentTypeBytes(contentTypeJSON)
	if rp.RetryAfter > 0 {
		c.Response.Header.SetCanonical(headerRetryAfter, strconv.AppendInt(nil, int64(rp.RetryAfter), 10))
	}
	c.Response.SetBody(rp.Body)
}

// errorBody is Options.ErrorBody's answer for e on c's path, or nil.
func (f *front) errorBody(c *fasthttp.RequestCtx, e *httpx.Error) []byte {
	if f.o.ErrorBody == nil {
		return nil
	}
	path := c.Request.Header.RequestURI()
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return f.o.ErrorBody(path, e)
}
