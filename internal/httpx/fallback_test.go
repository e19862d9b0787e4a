package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/httpx"
)

func TestFallback(t *testing.T) {
	t.Parallel()
	mux, h, _ := setup(t)
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	mux.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { httpx.WriteJSON(w, http.StatusOK, "root") })
	mux.HandleFunc("OPTIONS /items", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	httpx.Fallback(mux)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	do := func(t *testing.T, method, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}

	tests := []struct {
		name, method, path string
		status             int
		allow, code        string
	}{
		{name: "unknown path", method: "GET", path: "/nope/at/all", status: 404, code: "not_found"},
		{name: "unknown path POST", method: "POST", path: "/v9", status: 404, code: "not_found"},
		{name: "wrong method on item", method: "POST", path: "/items/7", status: 405, allow: "GET, HEAD, DELETE", code: "method_not_allowed"},
		{name: "wrong method on collection", method: "GET", path: "/items", status: 405, allow: "POST, OPTIONS", code: "method_not_allowed"},
		{name: "wrong method on root", method: "PUT", path: "/", status: 405, allow: "GET, HEAD", code: "method_not_allowed"},
		{name: "extra segment", method: "GET", path: "/items/7/x", status: 404, code: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := do(t, tt.method, tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d; body %s", res.StatusCode, tt.status, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", ct)
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow: got %q, want %q", got, tt.allow)
			}
			want := `{"error":{"code":"` + tt.code + `","message":"`
			if !strings.HasPrefix(body, want) || !strings.Contains(body, tt.path) {
				t.Errorf("body %s: want the envelope with code %s naming %s", body, tt.code, tt.path)
			}
		})
	}

	t.Run("routes still answer", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			method, path string
			status       int
		}{
			{"GET", "/items/7", 200}, {"HEAD", "/items/7", 200}, {"DELETE", "/items/7", 204}, {"POST", "/items", 201}, {"GET", "/", 200},
		} {
			if res, body := do(t, c.method, c.path); res.StatusCode != c.status {
				t.Errorf("%s %s: got %d, want %d (%s)", c.method, c.path, res.StatusCode, c.status, body)
			}
		}
	})
}
