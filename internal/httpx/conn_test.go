package httpx_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/httpx"
)

// observed is what the observer saw of one request.
type observed struct {
	pattern, model string
	version, rows  int
	status         int
}

// liveServer serves h behind Middleware and CacheLiteralRoutes on a real
// httpx.Server and returns its address and what the observer saw.
func liveServer(t *testing.T, mux *http.ServeMux) (string, func() []observed) {
	t.Helper()
	var mu sync.Mutex
	var seen []observed
	observe := func(r *http.Request, pattern string, status int, _ time.Duration) {
		model, version, rows := httpx.Noted(r)
		mu.Lock()
		seen = append(seen, observed{pattern, model, version, rows, status})
		mu.Unlock()
	}
	srv, err := httpx.Listen("127.0.0.1:0", httpx.Middleware(slog.New(slog.DiscardHandler), observe, httpx.CacheLiteralRoutes(mux)), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return srv.Addr(), func() []observed {
		mu.Lock()
		defer mu.Unlock()
		return append([]observed(nil), seen...)
	}
}

// keepAlive sends requests one after another on one connection and
// returns the answers.
func keepAlive(t *testing.T, addr string, reqs ...string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var out []*http.Response
	for _, target := range reqs {
		method, path, _ := strings.Cut(target, " ")
		fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\n\r\n", method, path)
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
	return out
}

// TestConnectionState checks the state Middleware reuses per connection:
// each request on a keep-alive connection gets its own id, and what a
// handler noted is not seen by the next request.
func TestConnectionState(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /noted", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoteModel(r, "titanic", 3)
		httpx.NotePredictions(r, 2)
		fmt.Fprint(w, httpx.RequestID(r))
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		model, version, rows := httpx.Noted(r)
		fmt.Fprintf(w, "%s|%s %d %d", httpx.RequestID(r), model, version, rows)
	})
	mux.HandleFunc("GET /silent", func(w http.ResponseWriter, r *http.Request) {}) // net/http writes the header after the handler
	addr, seen := liveServer(t, mux)
	resps := keepAlive(t, addr, "GET /noted", "GET /plain", "GET /silent", "GET /noted", "GET /plain")
	ids := map[string]bool{}
	for i, resp := range resps {
		id := resp.Header.Get("X-Request-Id")
		if len(id) != 16 || ids[id] {
			t.Errorf("answer %d: X-Request-Id %q, want a fresh 16-digit id", i, id)
		}
		ids[id] = true
		body, _ := io.ReadAll(resp.Body)
		handlerID, noted, _ := strings.Cut(string(body), "|")
		if i != 2 && handlerID != id {
			t.Errorf("answer %d: the handler saw id %q, the header says %q", i, handlerID, id)
		}
		if i == 1 || i == 4 {
			if noted != " 0 0" {
				t.Errorf("answer %d: the handler found %q noted, left by the request before it", i, noted)
			}
		}
	}
	want := []observed{
		{"GET /noted", "titanic", 3, 2, 200}, {"GET /plain", "", 0, 0, 200}, {"GET /silent", "", 0, 0, 200},
		{"GET /noted", "titanic", 3, 2, 200}, {"GET /plain", "", 0, 0, 200},
	}
	got := seen()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observed\n%v\nwant\n%v", got, want)
	}
}

// TestCacheLiteralRoutes checks that remembered routes answer as ServeMux does.
func TestCacheLiteralRoutes(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	for _, p := range []string{"GET /{$}", "GET /metrics", "GET /v1/models/{name}", "POST /v1/models/{name}/predict", "GET /files/"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s name=%s", r.Pattern, r.PathValue("name"))
		})
	}
	httpx.Fallback(mux)
	addr, seen := liveServer(t, mux)
	cases := []struct{ req, status, body string }{
		{"GET /", "200", "GET /{$} name="},
		{"GET /metrics", "200", "GET /metrics name="},
		{"GET /v1/models/titanic", "200", "GET /v1/models/{name} name=titanic"},
		{"GET /v1/models/iris", "200", "GET /v1/models/{name} name=iris"},
		{"GET /files/", "200", "GET /files/ name="},
		{"GET /files/a/b", "200", "GET /files/ name="},
		{"GET /metrics/", "404", ""},
		{"GET /nothing", "404", ""},
		{"POST /metrics", "405", ""},
		{"HEAD /metrics", "200", ""},
		{"GET /v1/models/titanic/predict", "405", ""},
	}
	// Twice over: the first pass learns the literal routes, the second is
	// served from them.
	for pass := range 2 {
		var reqs []string
		for _, c := range cases {
			reqs = append(reqs, c.req)
		}
		resps := keepAlive(t, addr, reqs...)
		for i, c := range cases {
			resp := resps[i]
			body, _ := io.ReadAll(resp.Body)
			if fmt.Sprint(resp.StatusCode) != c.status || (c.body != "" && string(body) != c.body) {
				t.Errorf("pass %d, %s: %d %q, want %s %q", pass, c.req, resp.StatusCode, body, c.status, c.body)
			}
		}
	}
	got := seen()
	for i, o := range got[len(cases):] {
		if first := got[i]; o.pattern != first.pattern || o.status != first.status {
			t.Errorf("%s: the second pass observed pattern %q status %d, the first %q %d", cases[i].req, o.pattern, o.status, first.pattern, first.status)
		}
	}
}
