package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck runs the probe against real loopback servers: 2xx passes,
// anything else fails with one line naming the status, no answer in time
// fails, a malformed URL is a usage error.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("{\"checks\":\n {\"database\": \"unreachable\"}}"))
	})
	release := make(chan struct{})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	closed := httptest.NewServer(mux)
	closed.Close()

	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"ready", []string{srv.URL + "/readyz"}, ExitOK, ""},
		{"unready", []string{srv.URL + "/down"}, ExitFail, `503 Service Unavailable: {"checks": {"database": "unreachable"}}`},
		{"not_found", []string{srv.URL + "/nope"}, ExitFail, "404 Not Found"},
		{"refused", []string{closed.URL + "/readyz"}, ExitFail, "connection refused"},
		{"timeout", []string{srv.URL + "/hang", "--timeout", "200ms"}, ExitFail, "Timeout"},
		{"bad_url", []string{"localhost:1234"}, ExitUsage, "want http://host:port/path"},
		{"no_url", nil, ExitUsage, "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, t.TempDir(), append([]string{"healthcheck"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if tc.code == ExitOK {
				if !strings.Contains(stdout, "200 OK") || stderr != "" {
					t.Errorf("stdout %q stderr %q: want the status on stdout only", stdout, stderr)
				}
				return
			}
			if !strings.Contains(stderr, tc.says) {
				t.Errorf("stderr %q: want it to contain %q", stderr, tc.says)
			}
			if tc.code == ExitFail && strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 {
				t.Errorf("stderr should be one line: %q", stderr)
			}
		})
	}
}
