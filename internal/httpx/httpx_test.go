package httpx_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/testenv"
)

type testBundle struct {
	logs     *testenv.Buffer
	logger   *slog.Logger
	mu       sync.Mutex
	observed []string // "pattern status"
}

// setup returns a mux wrapped in Middleware, logging into the bundle.
func setup(t *testing.T) (*http.ServeMux, http.Handler, *testBundle) {
	t.Helper()
	b := &testBundle{logs: &testenv.Buffer{}}
	b.logger = slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	h := httpx.Middleware(b.logger, func(r *http.Request, pattern string, status int, d time.Duration) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if d < 0 {
			t.Errorf("negative duration %v", d)
		}
		b.observed = append(b.observed, fmt.Sprintf("%s %d", pattern, status))
	}, mux)
	return mux, h, b
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// envelope decodes an error envelope strictly.
func envelope(t *testing.T, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status: got %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q", ct)
	}
	var env map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	if len(env) != 1 || env["error"] == nil {
		t.Fatalf("body %s: want exactly {\"error\": {…}}", rec.Body)
	}
	return env["error"]
}

var hexID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestWriteError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		status     int
		body       string // exact, when set
		retryAfter string
	}{
		{"fields", &httpx.Error{Status: 400, Code: "invalid_input", Message: "invalid input: age", Fields: map[string]string{"age": "must be a number between 0 and 120"}},
			400, `{"error":{"code":"invalid_input","message":"invalid input: age","fields":{"age":"must be a number between 0 and 120"}}}`, ""},
		{"no_fields", httpx.Errorf(404, "not_found", "no model named %q", "x"),
			404, `{"error":{"code":"not_found","message":"no model named \"x\""}}`, ""},
		{"retry_after", &httpx.Error{Status: 503, Code: "unavailable", Message: "later", RetryAfter: 7},
			503, `{"error":{"code":"unavailable","message":"later"}}`, "7"},
		{"wrapped", fmt.Errorf("handler: %w", httpx.Errorf(409, "conflict", "taken")),
			409, `{"error":{"code":"conflict","message":"taken"}}`, ""},
		{"max_bytes", fmt.Errorf("read body: %w", &http.MaxBytesError{Limit: 1234}),
			413, `{"error":{"code":"payload_too_large","message":"request body is over the limit of 1234 bytes; split it into smaller requests"}}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, b := setup(t)
			rec := httptest.NewRecorder()
			httpx.WriteError(rec, httptest.NewRequest("GET", "/", nil), b.logger, tc.err)
			envelope(t, rec, tc.status)
			if got := strings.TrimSpace(rec.Body.String()); got != tc.body {
				t.Errorf("body:\n got %s\nwant %s", got, tc.body)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tc.retryAfter)
			}
			if b.logs.String() != "" {
				t.Errorf("a 4xx or typed error was logged: %s", b.logs)
			}
		})
	}

	t.Run("internal_hidden", func(t *testing.T) {
		t.Parallel()
		mux, h, b := setup(t)
		secret := "dial tcp 10.0.0.5:5432: password authentication failed for user mlserve"
		mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteError(w, r, b.logger, errors.New(secret))
		})
		req := httptest.NewRequest("GET", "/boom", nil)
		req.Header.Set("X-Request-Id", "req-42")
		rec := serve(h, req)
		e := envelope(t, rec, http.StatusInternalServerError)
		if e["code"] != "internal" || len(e) != 2 {
			t.Errorf("error: got %v, want code internal and a message only", e)
		}
		msg, _ := e["message"].(string)
		if !strings.Contains(msg, "req-42") {
			t.Errorf("message %q lacks the request id", msg)
		}
		if strings.Contains(rec.Body.String(), "password") || strings.Contains(rec.Body.String(), "10.0.0.5") {
			t.Errorf("body leaks the internal error: %s", rec.Body)
		}
		logs := b.logs.String()
		if !strings.Contains(logs, "password authentication failed") || !strings.Contains(logs, "request_id=req-42") {
			t.Errorf("log lacks the error or the request id: %s", logs)
		}
	})
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		httpx.WriteJSON(rec, http.StatusAccepted, map[string]int{"a": 1})
		if rec.Code != http.StatusAccepted || rec.Body.String() != "{\"a\":1}\n" || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("got %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
		}
	})

	t.Run("unencodable", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		httpx.WriteJSON(rec, http.StatusOK, map[string]float64{"p": math.NaN()})
		e := envelope(t, rec, http.StatusInternalServerError)
		if e["code"] != "internal" {
			t.Errorf("code: got %v", e["code"])
		}
	})
}

func TestMiddleware(t *testing.T) {
	t.Parallel()

	t.Run("request_id", func(t *testing.T) {
		t.Parallel()
		mux, h, _ := setup(t)
		mux.HandleFunc("GET /id", func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": httpx.RequestID(r)})
		})
		cases := []struct {
			name, sent string
			kept       bool
		}{
			{"absent", "", false},
			{"sane", "abc-123_XYZ.9", true},
			{"uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
			{"max_length", strings.Repeat("a", 64), true},
			{"too_long", strings.Repeat("a", 65), false},
			{"space", "a b", false},
			{"tab", "a\tb", false},
			{"quote", `a"b`, false},
			{"control", "a\x01b", false},
			{"delete", "a\x7fb", false},
			{"non_ascii", "caf\u00e9", false},
		}
		for _, tc := range cases {
			req := httptest.NewRequest("GET", "/id", nil)
			if tc.sent != "" {
				req.Header.Set("X-Request-Id", tc.sent)
			}
			rec := serve(h, req)
			got := rec.Header().Get("X-Request-Id")
			var body map[string]string
			json.Unmarshal(rec.Body.Bytes(), &body)
			if body["id"] != got {
				t.Errorf("%s: RequestID in the handler %q, header %q", tc.name, body["id"], got)
			}
			switch {
			case tc.kept && got != tc.sent:
				t.Errorf("%s: got %q, want %q kept", tc.name, got, tc.sent)
			case !tc.kept && !hexID.MatchString(got):
				t.Errorf("%s: got %q, want a fresh 16-hex-digit id", tc.name, got)
			}
		}
		a := serve(h, httptest.NewRequest("GET", "/id", nil)).Header().Get("X-Request-Id")
		c := serve(h, httptest.NewRequest("GET", "/id", nil)).Header().Get("X-Request-Id")
		if a == c {
			t.Errorf("two requests got the same id %q", a)
		}
		if got := httpx.RequestID(httptest.NewRequest("GET", "/", nil)); got != "" {
			t.Errorf("RequestID outside Middleware: got %q, want empty", got)
		}
	})

	t.Run("panic", func(t *testing.T) {
		t.Parallel()
		mux, h, b := setup(t)
		mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
			var m map[string]int
			//lint:ignore SA5000 the handler panics on purpose
			m["x"] = 1 // assignment to nil map
		})
		req := httptest.NewRequest("GET", "/panic", nil)
		req.Header.Set("X-Request-Id", "p-1")
		rec := serve(h, req)
		e := envelope(t, rec, http.StatusInternalServerError)
		if e["code"] != "internal" || !strings.Contains(e["message"].(string), "p-1") {
			t.Errorf("error: got %v, want internal with the request id", e)
		}
		if strings.Contains(rec.Body.String(), "nil map") || strings.Contains(rec.Body.String(), "goroutine") {
			t.Errorf("body leaks the panic: %s", rec.Body)
		}
		if logs := b.logs.String(); !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, "nil map") || !strings.Contains(logs, "request_id=p-1") {
			t.Errorf("log: %s", logs)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if want := "GET /panic 500"; len(b.observed) != 1 || b.observed[0] != want {
			t.Errorf("observed: got %v, want [%s]", b.observed, want)
		}
	})

	t.Run("panic_after_write", func(t *testing.T) {
		t.Parallel()
		mux, h, _ := setup(t)
		mux.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"partial": "yes"})
			panic("after the answer")
		})
		rec := serve(h, httptest.NewRequest("GET", "/late", nil))
		if rec.Code != http.StatusOK || rec.Body.String() != "{\"partial\":\"yes\"}\n" {
			t.Errorf("got %d %q, want the handler's answer untouched", rec.Code, rec.Body)
		}
	})

	t.Run("abort_handler", func(t *testing.T) {
		t.Parallel()
		mux, h, _ := setup(t)
		mux.HandleFunc("GET /abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler passed on", p)
			}
		}()
		serve(h, httptest.NewRequest("GET", "/abort", nil))
		t.Error("ErrAbortHandler was swallowed")
	})

	t.Run("panic_over_the_wire", func(t *testing.T) {
		t.Parallel()
		mux, h, _ := setup(t)
		mux.HandleFunc("POST /panic", func(w http.ResponseWriter, r *http.Request) { panic(errors.New("kaboom")) })
		srv := httptest.NewServer(h)
		defer srv.Close()
		res, err := http.Post(srv.URL+"/panic", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 500 || !json.Valid(body) || strings.Contains(string(body), "kaboom") {
			t.Errorf("got %d %s", res.StatusCode, body)
		}
		if !strings.Contains(string(body), res.Header.Get("X-Request-Id")) {
			t.Errorf("body %s lacks the request id %q", body, res.Header.Get("X-Request-Id"))
		}
	})

	t.Run("observe", func(t *testing.T) {
		t.Parallel()
		mux, h, b := setup(t)
		mux.HandleFunc("GET /silent", func(w http.ResponseWriter, r *http.Request) {})
		mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteError(w, r, b.logger, httpx.Errorf(404, "not_found", "no item"))
		})
		serve(h, httptest.NewRequest("GET", "/silent", nil))
		serve(h, httptest.NewRequest("GET", "/items/7?q=secret-value", nil))
		b.mu.Lock()
		got := strings.Join(b.observed, ", ")
		b.mu.Unlock()
		if want := "GET /silent 200, GET /items/{id} 404"; got != want {
			t.Errorf("observed: got %s, want %s", got, want)
		}
		if logs := b.logs.String(); strings.Contains(logs, "secret-value") || !strings.Contains(logs, "route=\"GET /items/{id}\"") {
			t.Errorf("debug log must name the route and never query values: %s", logs)
		}
	})
}

func TestAdmin(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpx.WriteJSON(w, 200, "ok") })
	h := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name, token, remote, auth string
		status                    int
		code                      string
		host, listen              string // host: the request's Host (default localhost:1234)
		header                    map[string]string
		tls                       bool
	}{
		{name: "token_right", token: "t0k", remote: "203.0.113.9:1", auth: "Bearer t0k", status: 200},
		{name: "token_right_loopback", token: "t0k", remote: "127.0.0.1:1", auth: "Bearer t0k", status: 200},
		{name: "token_scheme_lower", token: "t0k", remote: "203.0.113.9:1", auth: "bearer t0k", status: 200},
		{name: "token_spaces", token: "t0k", remote: "203.0.113.9:1", auth: "  BeArEr \t  t0k  ", status: 200},
		{name: "token_any_host_origin", token: "t0k", remote: "203.0.113.9:1", auth: "Bearer t0k", status: 200, host: "evil.example", header: h("Origin", "https://evil.example", "X-Forwarded-For", "1.2.3.4")},
		{name: "token_missing", token: "t0k", remote: "127.0.0.1:1", status: 401, code: "unauthorized"},
		{name: "token_wrong", token: "t0k", remote: "203.0.113.9:1", auth: "Bearer nope", status: 401, code: "unauthorized"},
		{name: "token_prefix", token: "t0k", remote: "203.0.113.9:1", auth: "Bearer t0", status: 401, code: "unauthorized"},
		{name: "token_longer", token: "t0k", remote: "203.0.113.9:1", auth: "Bearer t0kk", status: 401, code: "unauthorized"},
		{name: "token_inner_space", token: "t0k", remote: "203.0.113.9:1", auth: "Bearer t0 k", status: 401, code: "unauthorized"},
		{name: "token_glued", token: "t0k", remote: "203.0.113.9:1", auth: "Bearert0k", status: 401, code: "unauthorized"},
		{name: "token_no_scheme", token: "t0k", remote: "203.0.113.9:1", auth: "t0k", status: 401, code: "unauthorized"},
		{name: "token_basic", token: "t0k", remote: "203.0.113.9:1", auth: "Basic dDBr", status: 401, code: "unauthorized"},
		{name: "open_loopback_v4", remote: "127.0.0.1:5555", status: 200},
		{name: "open_loopback_v4_other", remote: "127.9.9.9:5555", status: 200},
		{name: "open_loopback_v6", remote: "[::1]:5555", status: 200},
		{name: "open_host_ip", remote: "127.0.0.1:5555", host: "127.0.0.1:1234", status: 200},
		{name: "open_host_v6", remote: "127.0.0.1:5555", host: "[::1]:1234", status: 200},
		{name: "open_host_listen_name", remote: "127.0.0.1:5555", host: "MLServe.lan:1234", listen: "mlserve.lan:1234", status: 200},
		{name: "open_host_not_listen_name", remote: "127.0.0.1:5555", host: "other.lan:1234", listen: "mlserve.lan:1234", status: 403, code: "forbidden"},
		{name: "open_host_rebind", remote: "127.0.0.1:5555", host: "rebind.evil.example:1234", status: 403, code: "forbidden"},
		{name: "open_host_empty", remote: "127.0.0.1:5555", host: "-", status: 403, code: "forbidden"},
		{name: "open_same_origin", remote: "127.0.0.1:5555", header: h("Origin", "http://localhost:1234", "Sec-Fetch-Site", "same-origin"), status: 200},
		{name: "open_same_origin_default_port", remote: "127.0.0.1:5555", host: "localhost", header: h("Origin", "http://localhost:80"), status: 200},
		{name: "open_same_origin_tls", remote: "127.0.0.1:5555", tls: true, host: "localhost", header: h("Origin", "https://localhost"), status: 200},
		{name: "open_origin_plain_on_tls", remote: "127.0.0.1:5555", tls: true, host: "localhost", header: h("Origin", "http://localhost"), status: 403, code: "forbidden"},
		{name: "open_origin_other_port", remote: "127.0.0.1:5555", header: h("Origin", "http://localhost:3000"), status: 403, code: "forbidden"},
		{name: "open_origin_other_site", remote: "127.0.0.1:5555", header: h("Origin", "https://evil.example"), status: 403, code: "forbidden"},
		{name: "open_origin_null", remote: "127.0.0.1:5555", header: h("Origin", "null"), status: 403, code: "forbidden"},
		{name: "open_fetch_none", remote: "127.0.0.1:5555", header: h("Sec-Fetch-Site", "none"), status: 200},
		{name: "open_fetch_same_site", remote: "127.0.0.1:5555", header: h("Sec-Fetch-Site", "same-site"), status: 403, code: "forbidden"},
		{name: "open_fetch_cross_site", remote: "127.0.0.1:5555", header: h("Sec-Fetch-Site", "cross-site"), status: 403, code: "forbidden"},
		{name: "open_forwarded", remote: "127.0.0.1:5555", header: h("Forwarded", "for=203.0.113.9"), status: 403, code: "forbidden"},
		{name: "open_x_forwarded_for", remote: "127.0.0.1:5555", header: h("X-Forwarded-For", "127.0.0.1"), status: 403, code: "forbidden"},
		{name: "open_x_forwarded_empty", remote: "127.0.0.1:5555", header: h("X-Forwarded-For", ""), status: 403, code: "forbidden"},
		{name: "open_remote", remote: "203.0.113.9:5555", status: 403, code: "forbidden"},
		{name: "open_remote_v6", remote: "[2001:db8::2]:5555", auth: "Bearer x", status: 403, code: "forbidden"},
		{name: "open_private", remote: "192.168.1.2:5555", status: 403, code: "forbidden"},
		{name: "open_mapped_v4", remote: "[::ffff:10.1.2.3]:80", status: 403, code: "forbidden"},
		{name: "open_garbage", remote: "not-an-address", status: 403, code: "forbidden"},
		{name: "open_empty", remote: "", status: 403, code: "forbidden"},
		{name: "open_localhost_name", remote: "localhost:80", status: 403, code: "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, b := setup(t)
			req := httptest.NewRequest("POST", "/admin", nil)
			req.RemoteAddr = tc.remote
			switch tc.host {
			case "":
				req.Host = "localhost:1234"
			case "-":
				req.Host = ""
			default:
				req.Host = tc.host
			}
			if !tc.tls {
				req.TLS = nil
			} else if req.TLS == nil {
				req.TLS = &tls.ConnectionState{}
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := serve(httpx.Guard{Token: tc.token, Listen: tc.listen, Logger: b.logger}.Wrap(ok), req)
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Errorf("status: got %d, want 200: %s", rec.Code, rec.Body)
				}
				return
			}
			e := envelope(t, rec, tc.status)
			if e["code"] != tc.code {
				t.Errorf("code: got %v, want %s", e["code"], tc.code)
			}
			if tc.token != "" && strings.Contains(rec.Body.String(), tc.token) {
				t.Errorf("body leaks the token: %s", rec.Body)
			}
			if tc.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestLimitBody(t *testing.T) {
	t.Parallel()
	_, _, b := setup(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.LimitBody(w, r, 10)
		data, err := io.ReadAll(r.Body)
		if err != nil {
			httpx.WriteError(w, r, b.logger, err)
			return
		}
		httpx.WriteJSON(w, 200, len(data))
	})
	rec := serve(h, httptest.NewRequest("POST", "/", strings.NewReader("0123456789")))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "10" {
		t.Errorf("at the limit: got %d %s", rec.Code, rec.Body)
	}
	rec = serve(h, httptest.NewRequest("POST", "/", strings.NewReader("0123456789A")))
	if e := envelope(t, rec, http.StatusRequestEntityTooLarge); e["code"] != "payload_too_large" || !strings.Contains(e["message"].(string), "10 bytes") {
		t.Errorf("over the limit: got %v", e)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	dbErr := errors.New("database is unreachable")
	sawDeadline := false
	mux := http.NewServeMux()
	httpx.Health(mux, map[string]httpx.Check{
		"database": func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			_, sawDeadline = ctx.Deadline()
			return dbErr
		},
		"models": func(context.Context) error { return nil },
	})
	get := func(path string) (int, string) {
		rec := serve(mux, httptest.NewRequest("GET", path, nil))
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	if code, body := get("/healthz"); code != 200 || body != `{"status":"ok"}` {
		t.Errorf("/healthz: got %d %s", code, body)
	}
	if code, body := get("/readyz"); code != 503 || body != `{"checks":{"database":"database is unreachable"},"status":"not ready"}` {
		t.Errorf("/readyz failing: got %d %s", code, body)
	}
	mu.Lock()
	dbErr = nil
	deadline := sawDeadline
	mu.Unlock()
	if !deadline {
		t.Error("checks ran without a deadline")
	}
	if code, body := get("/readyz"); code != 200 || body != `{"status":"ready"}` {
		t.Errorf("/readyz passing: got %d %s", code, body)
	}
}

func TestServer(t *testing.T) {
	t.Parallel()
	_, _, b := setup(t)
	if _, err := httpx.Listen("256.0.0.1:99999", http.NotFoundHandler(), b.logger); err == nil {
		t.Error("Listen on a bad address: got nil error")
	}

	started := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		httpx.WriteJSON(w, 200, "done")
	})
	srv, err := httpx.Listen("127.0.0.1:0", mux, b.logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + srv.Addr() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		got <- result{status: res.StatusCode, body: strings.TrimSpace(string(data))}
	}()
	<-started
	cancel() // shut down with a request in flight
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	default:
	}
	close(release)
	r := <-got
	if r.err != nil || r.status != 200 || r.body != `"done"` {
		t.Errorf("in-flight request: got %+v, want 200 \"done\"", r)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := http.Get("http://" + srv.Addr() + "/slow"); err == nil {
		t.Error("the server still accepts requests after shutdown")
	}
}

func TestReadinessDegraded(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	modelsErr := error(nil)
	mux := http.NewServeMux()
	httpx.Readiness(mux,
		map[string]httpx.Check{"models": func(context.Context) error { mu.Lock(); defer mu.Unlock(); return modelsErr }},
		map[string]httpx.Check{
			"database":     func(context.Context) error { return errors.New("database unavailable") },
			"object_store": func(context.Context) error { return nil },
		})
	get := func() (int, string) {
		rec := serve(mux, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	if code, body := get(); code != 200 || body != `{"degraded":{"database":"database unavailable"},"status":"ready"}` {
		t.Errorf("soft check failing: got %d %s", code, body)
	}
	mu.Lock()
	modelsErr = errors.New("pipeline titanic has a production version that is not loaded")
	mu.Unlock()
	if code, body := get(); code != 503 || body != `{"checks":{"models":"pipeline titanic has a production version that is not loaded"},"degraded":{"database":"database unavailable"},"status":"not ready"}` {
		t.Errorf("required check failing: got %d %s", code, body)
	}
}
