package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/httpx"
)

// What a handler notes reaches the observer, and lines it logs with the
// request's context carry the request id through LogHandler.
func TestNotesAndLogHandler(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(httpx.LogHandler(slog.NewJSONHandler(&logs, nil)))
	type seen struct {
		pattern, model        string
		version, rows, status int
	}
	var got []seen
	mux := http.NewServeMux()
	mux.HandleFunc("GET /m/{name}", func(w http.ResponseWriter, r *http.Request) {
		httpx.NoteModel(r, "titanic", 4)
		httpx.NotePredictions(r, 12)
		logger.With("part", "handler").InfoContext(r.Context(), "inside")
		logger.Info("no context")
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {})
	h := httpx.Middleware(logger, func(r *http.Request, pattern string, status int, d time.Duration) {
		model, version, rows := httpx.Noted(r)
		got = append(got, seen{pattern, model, version, rows, status})
	}, mux)

	req := httptest.NewRequest("GET", "/m/x", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/plain", nil))

	want := []seen{{"GET /m/{name}", "titanic", 4, 12, 202}, {"GET /plain", "", 0, 0, 200}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("observed %+v, want %+v", got, want)
	}
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line %s: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2: %s", len(lines), logs.String())
	}
	if lines[0]["msg"] != "inside" || lines[0]["request_id"] != "abc-123" || lines[0]["part"] != "handler" {
		t.Errorf("line logged with the request's context: %v, want request_id abc-123 and part", lines[0])
	}
	if _, ok := lines[1]["request_id"]; ok {
		t.Errorf("line logged without a context has a request_id: %v", lines[1])
	}
	// Outside Middleware the notes are no-ops.
	r := httptest.NewRequest("GET", "/", nil)
	httpx.NoteModel(r, "titanic", 1)
	if m, v, n := httpx.Noted(r); m != "" || v != 0 || n != 0 {
		t.Errorf("Noted outside Middleware: %q %d %d", m, v, n)
	}
}
