package fasthttpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/serving"
)

// observed is one request a hot route reported.
type observed struct {
	route, model  string
	version, rows int
	status        int
	d             time.Duration
}

type front struct {
	addr string
	mu   sync.Mutex
	seen []observed
	// next counts the requests the net/http handler served.
	next chan string
	// hot receives a hot route's request that waits for the block channel.
	hot chan struct{}
	// stop ends Serve and returns its error; the test's cleanup calls it
	// too.
	stop func() error
}

func (f *front) observations() []observed {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]observed(nil), f.seen...)
}

// start serves, on a loopback port until the test ends: a hot route at /
// that echoes its query (panics on ?panic), and a net/http handler for
// the rest that names the method and path it saw and echoes a body.
func start(t *testing.T, lim httpx.Limits, maxBody int64, block <-chan struct{}) *front {
	t.Helper()
	f := &front{next: make(chan string, 100), hot: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.next <- r.Method + " " + r.URL.Path
		if r.URL.Path == "/block" {
			<-block
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			httpx.WriteError(w, r, slog.New(slog.DiscardHandler), err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"via": "net/http", "path": r.URL.Path, "body": string(body), "id": httpx.RequestID(r),
			"ctx_err": fmt.Sprint(r.Context().Err())})
	})
	echo := func(r *serving.Request, rp *httpx.Reply) {
		switch r.RawQuery {
		case "panic":
			panic("boom")
		case "retry":
			rp.SetError(&httpx.Error{Status: http.StatusServiceUnavailable, Code: "no_model", Message: "later", RetryAfter: 5})
			return
		case "block":
			f.hot <- struct{}{}
			<-block
		}
		rp.Status, rp.Model, rp.Version, rp.Rows = http.StatusOK, "titanic", 3, 1
		b, _ := json.Marshal(map[string]string{"via": "fast", "segment": r.Values[0], "segment2": r.Values[1], "query": r.RawQuery, "body": string(r.Body),
			"ctx_err": fmt.Sprint(r.Context.Err())})
		rp.Body = append(append(rp.Body[:0], b...), '\n')
	}
	routes := []serving.Route{
		{Pattern: "GET /{$}", Serve: echo},
		{Pattern: "GET /items/{name}/echo", Serve: echo},
		{Pattern: "POST /items/{name}/echo", Serve: echo},
		{Pattern: "GET /items/{name}/parts/{part}", Serve: echo},
	}
	o := fasthttpserver.Options{Limits: lim, MaxBody: maxBody, Observe: func(route, model string, version, status, rows int, d time.Duration) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.seen = append(f.seen, observed{route, model, version, rows, status, d})
	}, ErrorBody: func(path []byte, e *httpx.Error) []byte {
		if !bytes.HasPrefix(path, []byte("/proto/")) {
			return nil
		}
		b, _ := json.Marshal(map[string]string{"proto_error": e.Message})
		return b
	}}
	srv, err := fasthttpserver.Listen("127.0.0.1:0", httpx.Middleware(slog.New(slog.DiscardHandler), nil, mux), routes, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	f.stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() {
		if err := f.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	f.addr = srv.Addr()
	return f
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil && req.Method != http.MethodHead {
		t.Fatalf("%s %s: decode the answer: %v", req.Method, req.URL, err)
	}
	return answer{res.StatusCode, res.Header, body}
}

func request(t *testing.T, method, url string, body io.Reader, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

var hexID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// TestRoutes checks which handler answers what: the hot route only a GET
// on its exact path without an Origin header, with a request id, JSON
// content type and a report to the observer; everything else the net/http
// handler, with its middleware.
func TestRoutes(t *testing.T) {
	f := start(t, httpx.DefaultLimits, 0, nil)
	base := "http://" + f.addr

	a := do(t, request(t, "GET", base+"/?class=1&sex=male", nil))
	if a.status != 200 || a.body["via"] != "fast" || a.body["query"] != "class=1&sex=male" {
		t.Fatalf("GET /?…: %d %v, want the hot route's echo of the raw query", a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if id := a.header.Get("X-Request-Id"); !hexID.MatchString(id) {
		t.Errorf("X-Request-Id %q, want 16 hex digits", id)
	}
	if s := a.header.Get("Server"); s != "" {
		t.Errorf("Server header %q, want none", s)
	}
	seen := f.observations()
	if len(seen) != 1 {
		t.Fatalf("observed %d requests, want 1", len(seen))
	}
	if o := seen[0]; o.route != "GET /{$}" || o.model != "titanic" || o.version != 3 || o.rows != 1 || o.status != 200 || o.d <= 0 {
		t.Errorf("observed %+v", o)
	}

	// A client's sane id is kept, a bad one replaced.
	a = do(t, request(t, "GET", base+"/?x=1", nil, "X-Request-Id", "abc-123"))
	if id := a.header.Get("X-Request-Id"); id != "abc-123" {
		t.Errorf("sane client id: X-Request-Id %q, want abc-123", id)
	}
	a = do(t, request(t, "GET", base+"/?x=1", nil, "X-Request-Id", strings.Repeat("a", 65)))
	if id := a.header.Get("X-Request-Id"); !hexID.MatchString(id) {
		t.Errorf("65-byte client id: X-Request-Id %q, want a new one", id)
	}

	// An id with non-ASCII bytes is not echoed (sent raw: Go's client
	// would refuse other bytes; fasthttp itself refuses control characters).
	if c, err := net.Dial("tcp", f.addr); err == nil {
		fmt.Fprintf(c, "GET /?x=1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: caf\xc3\xa9\r\nConnection: close\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		c.Close()
		if id := res.Header.Get("X-Request-Id"); res.StatusCode != 200 || !hexID.MatchString(id) {
			t.Errorf("non-ASCII id: answered %d with X-Request-Id %q, want 200 with a fresh one", res.StatusCode, id)
		}
	} else {
		t.Fatal(err)
	}

	// Routes with a segment: GET with its query, POST with its body.
	a = do(t, request(t, "GET", base+"/items/abc/echo?q=2", nil))
	if a.status != 200 || a.body["via"] != "fast" || a.body["segment"] != "abc" || a.body["query"] != "q=2" {
		t.Errorf("GET /items/abc/echo?q=2: %d %v", a.status, a.body)
	}
	a = do(t, request(t, "POST", base+"/items/xyz/echo", strings.NewReader(`{"instances": []}`)))
	if a.status != 200 || a.body["via"] != "fast" || a.body["segment"] != "xyz" || a.body["body"] != `{"instances": []}` {
		t.Errorf("POST /items/xyz/echo: %d %v", a.status, a.body)
	}
	// Two segments, the second at the path's end.
	a = do(t, request(t, "GET", base+"/items/abc/parts/7?q=3", nil))
	if a.status != 200 || a.body["via"] != "fast" || a.body["segment"] != "abc" || a.body["segment2"] != "7" || a.body["query"] != "q=3" {
		t.Errorf("GET /items/abc/parts/7?q=3: %d %v", a.status, a.body)
	}
	// An error with Retry-After keeps its header.
	a = do(t, request(t, "GET", base+"/?retry", nil))
	if e, _ := a.body["error"].(map[string]any); a.status != 503 || a.header.Get("Retry-After") != "5" || e["code"] != "no_model" {
		t.Errorf("GET /?retry: %d %v Retry-After %q, want 503 no_model with Retry-After 5", a.status, a.body, a.header.Get("Retry-After"))
	}
	nFast := len(f.observations())

	for _, c := range []struct {
		method, path, want string
		header             []string
	}{
		{"GET", "/items/a%62c/echo", "GET /items/abc/echo", nil}, // an escape: net/http decodes it
		{"GET", "/items/a/b/echo", "GET /items/a/b/echo", nil},
		{"PUT", "/items/abc/echo", "PUT /items/abc/echo", nil},
		{"GET", "/items/abc/echo/", "GET /items/abc/echo/", nil},
		{"GET", "/items/abc/parts/", "GET /items/abc/parts/", nil},
		{"GET", "/items/abc/parts/7/", "GET /items/abc/parts/7/", nil},
		{"GET", "/items/abc/parts/7/8", "GET /items/abc/parts/7/8", nil},
		{"GET", "/items//parts/7", "GET /items/parts/7", nil}, // the mux cleans the path (a redirect)
		{"GET", "/items/abc/parts/%37", "GET /items/abc/parts/7", nil},
		{"GET", "/other?x=1", "GET /other", nil},
		{"POST", "/?x=1", "POST /", nil},
		{"HEAD", "/?x=1", "HEAD /", nil},
		{"GET", "/?x=1", "GET /", []string{"Origin", "https://app.example.com"}}, // CORS is the net/http handler's
	} {
		a := do(t, request(t, c.method, base+c.path, strings.NewReader(""), c.header...))
		select {
		case got := <-f.next:
			if got != c.want {
				t.Errorf("%s %s reached the net/http handler as %q, want %q", c.method, c.path, got, c.want)
			}
		default:
			t.Errorf("%s %s (%v): answered %d %v without the net/http handler", c.method, c.path, c.header, a.status, a.body)
			continue
		}
		if id := a.header.Get("X-Request-Id"); !hexID.MatchString(id) {
			t.Errorf("%s %s: X-Request-Id %q, want the middleware's", c.method, c.path, id)
		}
	}
	if n := len(f.observations()); n != nFast {
		t.Errorf("the hot routes observed %d requests, want %d (the others are the middleware's)", n, nFast)
	}

	// Another spelling of the path is not the route's: net/http decides
	// (Go's client would send //?x=1 as http://?x=1, so a raw request).
	for _, target := range []string{"//?x=1", "/./?x=1", "http://" + f.addr + "/?x=1"} {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, f.addr)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		c.Close()
		select {
		case <-f.next:
		default:
		}
		// net/http's mux redirects the unclean paths to / and serves the
		// absolute form.
		if strings.Contains(string(b), `"via":"fast"`) || (res.StatusCode != http.StatusTemporaryRedirect && res.StatusCode != http.StatusOK) {
			t.Errorf("GET %s: answered %d %s, want net/http's answer", target, res.StatusCode, b)
		}
	}

	// A body reaches the net/http handler whole.
	body := strings.Repeat("0123456789", 10_000)
	a = do(t, request(t, "POST", base+"/echo", strings.NewReader(body)))
	<-f.next
	if a.status != 200 || a.body["body"] != body {
		t.Errorf("POST /echo: %d, body of %d bytes came back, want 200 and %d", a.status, len(fmt.Sprint(a.body["body"])), len(body))
	}
}

// TestPanic checks that a panicking hot route answers 500 in the error
// envelope with the request id, is observed, and leaves the server up.
func TestPanic(t *testing.T) {
	f := start(t, httpx.DefaultLimits, 0, nil)
	base := "http://" + f.addr
	a := do(t, request(t, "GET", base+"/?panic", nil))
	id := a.header.Get("X-Request-Id")
	e, _ := a.body["error"].(map[string]any)
	if a.status != 500 || e["code"] != "internal" || !strings.Contains(fmt.Sprint(e["message"]), id) || !hexID.MatchString(id) {
		t.Errorf("panic: %d %v (id %q), want 500 internal naming the request id", a.status, a.body, id)
	}
	if seen := f.observations(); len(seen) != 1 || seen[0].status != 500 {
		t.Errorf("observed %+v, want one 500", seen)
	}
	if a := do(t, request(t, "GET", base+"/?ok", nil)); a.status != 200 {
		t.Errorf("after the panic: %d", a.status)
	}
}

// TestLimits checks, over real connections, the limits the net/http server
// has: a stalled header or body and an idle keep-alive connection are cut
// off in time, a client that reads nothing loses its answer, and an
// oversized header or body gets 431 or 413 in the JSON error envelope.
func TestLimits(t *testing.T) {
	t.Parallel()
	lim := httpx.Limits{
		ReadHeader:     300 * time.Millisecond,
		Read:           900 * time.Millisecond,
		Write:          600 * time.Millisecond,
		Idle:           400 * time.Millisecond,
		MaxHeaderBytes: 4 << 10,
	}
	f := start(t, lim, 64<<10, nil)
	dial := func(t *testing.T) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// cutOff reads until the server closes c, within bound; the server may
	// say 408 first, nothing else.
	cutOff := func(t *testing.T, c net.Conn, r *bufio.Reader, bound time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		c.SetReadDeadline(start.Add(bound))
		if _, err := r.Peek(1); err == nil {
			res, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("the server sent something that is not an answer: %v", err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("the server answered %d, want 408 or the connection closed", res.StatusCode)
			}
		}
		rest, err := io.ReadAll(r)
		took := time.Since(start)
		if err != nil || len(rest) > 0 {
			t.Fatalf("connection still open after %v (%q, %v)", took, rest, err)
		}
		return took
	}
	jsonError := func(t *testing.T, c net.Conn, want int, code string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Error httpx.Error `json:"error"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatalf("status %d: decode: %v", res.StatusCode, err)
		}
		if res.StatusCode != want || body.Error.Code != code || body.Error.Message == "" || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("status %d %+v (%s), want %d %s in the envelope", res.StatusCode, body.Error, res.Header.Get("Content-Type"), want, code)
		}
	}

	t.Run("HeaderStalls", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /?x=1 HTTP/1.1\r\nHost: %s\r\n", f.addr) // and never the blank line
		if took := cutOff(t, c, bufio.NewReader(c), 5*time.Second); took < lim.ReadHeader/2 {
			t.Errorf("cut off after %v, before the header timeout %v", took, lim.ReadHeader)
		}
	})
	t.Run("BodyStalls", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "POST /body HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\n0123456789", f.addr)
		// The body has Read, longer than the header's timeout.
		if took := cutOff(t, c, bufio.NewReader(c), 5*time.Second); took < lim.ReadHeader+100*time.Millisecond {
			t.Errorf("cut off after %v: the body must have the whole-request timeout %v, not the header's %v", took, lim.Read, lim.ReadHeader)
		}
	})
	t.Run("IdleKeepAliveIsClosed", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /?x=1 HTTP/1.1\r\nHost: %s\r\n\r\n", f.addr)
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
		if took := cutOff(t, c, br, 5*time.Second); took < lim.Idle/2 {
			t.Errorf("idle connection closed after %v, before the idle timeout %v", took, lim.Idle)
		}
	})
	t.Run("ReaderStalls", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		body := strings.Repeat("x", 60<<10)
		// Pipelined requests whose answers (~60 KiB each, 30 MiB in all)
		// are far more than the socket buffers hold; the client reads
		// nothing until well past the write timeout.
		var reqs strings.Builder
		for range 500 {
			fmt.Fprintf(&reqs, "POST /echo HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", f.addr, len(body), body)
		}
		go io.WriteString(c, reqs.String())
		time.Sleep(3 * lim.Write)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := io.Copy(io.Discard, c)
		if err != nil {
			t.Fatalf("after %d bytes: %v, want the server to have closed the connection", n, err)
		}
		if n >= 500*(60<<10) {
			t.Errorf("read %d bytes: a client that read nothing for %v got every answer", n, 3*lim.Write)
		}
	})
	t.Run("HeaderTooLarge", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /?x=1 HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", f.addr, strings.Repeat("x", 8<<10))
		jsonError(t, c, http.StatusRequestHeaderFieldsTooLarge, "header_too_large")
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", f.addr, 64<<10+1)
		jsonError(t, c, http.StatusRequestEntityTooLarge, "payload_too_large")
	})
	t.Run("BodyTooLargeInAProtocolsForm", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "POST /proto/x?y=1 HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", f.addr, 64<<10+1)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatalf("status %d: decode: %v", res.StatusCode, err)
		}
		if res.StatusCode != http.StatusRequestEntityTooLarge || len(body) != 1 || !strings.Contains(body["proto_error"], "limit") {
			t.Errorf("status %d %v, want 413 in the path's own error form", res.StatusCode, body)
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /?x=1 HTTP/1.1\r\nHost: %s\r\nContent-Length: nope\r\n\r\n", f.addr)
		jsonError(t, c, http.StatusBadRequest, "bad_request")
	})
}

// TestDrain checks the graceful stop: a request in flight when Serve's
// context ends is answered, the listener takes no new connections, and
// Serve returns once the request is out.
func TestDrain(t *testing.T) {
	block := make(chan struct{})
	f := start(t, httpx.DefaultLimits, 0, block)
	// One request in flight on the net/http handler, one on a hot route.
	get := func(path string, got chan<- answer) {
		res, err := http.Get("http://" + f.addr + path)
		if err != nil {
			got <- answer{status: -1, body: map[string]any{"err": err.Error()}}
			return
		}
		defer res.Body.Close()
		var body map[string]any
		json.NewDecoder(res.Body).Decode(&body)
		got <- answer{status: res.StatusCode, body: body}
	}
	got, gotHot := make(chan answer, 1), make(chan answer, 1)
	go get("/block", got)
	go get("/?block", gotHot)
	if p := <-f.next; p != "GET /block" {
		t.Fatalf("handler saw %q", p)
	}
	<-f.hot
	stopped := make(chan error, 1)
	go func() { stopped <- f.stop() }()
	// The stop has begun once the listener refuses connections.
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", f.addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the stopping server still takes connections after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}
	close(block)
	// Both finish, and their contexts were not cancelled by the stop (work
	// in flight, a registry read say, must not fail during the drain).
	if a := <-got; a.status != http.StatusOK || a.body["path"] != "/block" || a.body["ctx_err"] != "<nil>" {
		t.Errorf("in-flight request during the stop: %d %v, want 200 with its context alive", a.status, a.body)
	}
	if a := <-gotHot; a.status != http.StatusOK || a.body["via"] != "fast" || a.body["ctx_err"] != "<nil>" {
		t.Errorf("in-flight hot request during the stop: %d %v, want 200 with its context alive", a.status, a.body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestBadRoutes checks that Listen refuses routes it could not match.
func TestBadRoutes(t *testing.T) {
	serve := func(*serving.Request, *httpx.Reply) {}
	for _, rt := range []serving.Route{
		{Pattern: "PUT /x", Serve: serve},
		{Pattern: "GET /{a}/{b}/{c}", Serve: serve},
		{Pattern: "GET /a{b}", Serve: serve},
		{Pattern: "GET /{a}b", Serve: serve},
		{Pattern: "GET x/{a}", Serve: serve},
	} {
		if srv, err := fasthttpserver.Listen("127.0.0.1:0", http.NotFoundHandler(), []serving.Route{rt}, fasthttpserver.Options{}); err == nil {
			srv.Serve(canceled())
			t.Errorf("Listen took route %+v", rt)
		}
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestBadTarget checks that a request target net/http refuses (a bad
// %-escape, which keeps a path off the hot routes) is a 400 in the error
// envelope, or in the protocol's error form under a path ErrorBody claims,
// without reaching the net/http handler; fasthttp's adaptor answered 500.
func TestBadTarget(t *testing.T) {
	t.Parallel()
	f := start(t, httpx.DefaultLimits, 0, nil)
	for _, c := range []struct{ target, want string }{
		{"/items/%zz/echo", `"code":"bad_request"`},
		{"/items/a/echo?x=1%", ""}, // a query is not unescaped: the hot route's
		{"/%", `"code":"bad_request"`},
		{"/proto/%zz", `"proto_error":`},
	} {
		conn, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", c.target, f.addr)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		conn.Close()
		if c.want == "" {
			if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"via":"fast"`) {
				t.Errorf("GET %s: %d %s, want the hot route's 200", c.target, res.StatusCode, b)
			}
			continue
		}
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("GET %s: %d %s, want 400 with %s", c.target, res.StatusCode, b, c.want)
		}
	}
	select {
	case got := <-f.next:
		t.Errorf("a bad target reached the net/http handler as %q", got)
	default:
	}
}
