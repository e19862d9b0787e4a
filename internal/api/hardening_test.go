package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestHead(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	for _, path := range []string{"/?class=1&sex=F", "/v1/models/titanic/predict?class=1&sex=F"} {
		get := b.get(t, path)
		head := b.do(t, http.MethodHead, path, "", "")
		if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Type") != "application/json" {
			t.Errorf("HEAD %s: got %d %q %q, want 200, no body, application/json", path, head.status, head.body, head.header.Get("Content-Type"))
		}
		if get.status != http.StatusOK || len(get.body) == 0 {
			t.Errorf("GET %s: got %d %s", path, get.status, get.body)
		}
	}
	if r := b.do(t, http.MethodHead, "/v1/models/titanic/predict?class=9", "", ""); r.status != http.StatusBadRequest {
		t.Errorf("HEAD with bad input: status %d, want 400 as GET", r.status)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const path = "/v1/models/titanic/predict"
	send := func(b *testBundle, method, path, origin string) *response {
		t.Helper()
		var body *strings.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{"class": 1, "sex": "F"}`)
		}
		req, err := http.NewRequest(method, b.url+path, nil)
		if body != nil {
			req, err = http.NewRequest(method, b.url+path, body)
		}
		if err != nil {
			t.Fatal(err)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		return b.send(t, req)
	}

	t.Run("off_by_default", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		r := send(b, http.MethodGet, path+"?class=1&sex=F", "https://app.example.com")
		if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET: got %d with Access-Control-Allow-Origin %q, want 200 without", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
		for _, p := range []string{"/", path} {
			if r := send(b, http.MethodOptions, p, "https://app.example.com"); r.status != http.StatusMethodNotAllowed || r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("OPTIONS %s: got %d %v, want 405 without CORS headers", p, r.status, r.header)
			}
		}
	})

	t.Run("configured", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1, promote: true, cors: []string{"https://app.example.com"}})
		for _, tc := range []struct{ method, path string }{
			{http.MethodGet, "/?class=1&sex=F"}, {http.MethodGet, path + "?class=1&sex=F"}, {http.MethodPost, path},
		} {
			r := send(b, tc.method, tc.path, "https://app.example.com")
			if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.header.Get("Vary") != "Origin" {
				t.Errorf("%s %s: got %d %v, want 200 allowing the origin", tc.method, tc.path, r.status, r.header)
			}
			r = send(b, tc.method, tc.path, "https://evil.example.com")
			if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s from another origin: got %d %v, want 200 without CORS headers", tc.method, tc.path, r.status, r.header)
			}
		}
		r := send(b, http.MethodOptions, path, "https://app.example.com")
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			r.header.Get("Access-Control-Allow-Methods") != "GET, HEAD, POST" || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Content-Type") ||
			r.header.Get("Access-Control-Max-Age") == "" {
			t.Errorf("preflight: got %d %v", r.status, r.header)
		}
		if r := send(b, http.MethodOptions, "/", "https://app.example.com"); r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
			t.Errorf("preflight of /: got %d %v", r.status, r.header)
		}
		e := errAnswer(t, send(b, http.MethodOptions, path, "https://evil.example.com"), http.StatusForbidden, "origin_not_allowed")
		if !strings.Contains(e.Message, "MLSERVE_CORS_ORIGINS") {
			t.Errorf("message %q does not say how to allow an origin", e.Message)
		}
		// the other routes stay without CORS
		if r := send(b, http.MethodGet, "/v1/models", "https://app.example.com"); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET /v1/models: CORS header %q", r.header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("any_origin", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1, promote: true, cors: []string{"*"}})
		r := send(b, http.MethodPost, path, "https://anything.example.org")
		if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Vary") != "" {
			t.Errorf("POST: got %d %v, want 200 with Access-Control-Allow-Origin *", r.status, r.header)
		}
	})
}
