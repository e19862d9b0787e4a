package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/store"
)

// TestClassify answers every sentinel a handler may meet through
// WriteError, as every route does: its status, code and Retry-After, what
// the message hides or names, and the level it is logged at (none, debug,
// warn or error; only our own failures at error).
func TestClassify(t *testing.T) {
	t.Parallel()
	retry := strconv.Itoa(httpx.RetryAfter)
	cases := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
		level      string // "" when nothing is logged
		hasID      bool   // the message names the request id
	}{
		{"typed", fmt.Errorf("handler: %w", httpx.Errorf(409, "conflict", "taken")), 409, "conflict", "", "", false},
		{"max_bytes", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, "payload_too_large", "", "", false},
		{"bad_body", fmt.Errorf("read: %w: %w", httpx.ErrBadBody, io.ErrUnexpectedEOF), 400, "bad_body", "", "DEBUG", false},
		{"cancelled", fmt.Errorf("store batch: %w", context.Canceled), 499, "cancelled", "", "DEBUG", false},
		{"idempotency", fmt.Errorf("store batch: %w", store.ErrIdempotencyMismatch), 422, "idempotency_key_reused", "", "DEBUG", false},
		{"not_found", fmt.Errorf("run 7: %w", store.ErrNotFound), 404, "not_found", "", "DEBUG", false},
		{"conflict", fmt.Errorf("promote: %w", store.ErrConflict), 409, "conflict", "", "DEBUG", false},
		{"artifact_unusable", fmt.Errorf("load v2: %w: %w", registry.ErrArtifactUnusable, blob.ErrNotFound), 409, "artifact_unusable", "", "WARN", true},
		{"store_unavailable", fmt.Errorf("read: %w: dial tcp 10.0.0.7:5432", store.ErrUnavailable), 503, "unavailable", retry, "WARN", false},
		{"blob_unavailable", fmt.Errorf("get: %w", blob.ErrUnavailable), 503, "unavailable", retry, "WARN", false},
		{"overloaded", httpx.Overloaded(), 503, "overloaded", retry, "", false},
		{"unknown", errors.New("disk on fire at /var/lib/x"), 500, "internal", "", "ERROR", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mux, h, b := setup(t)
			mux.HandleFunc("POST /x", func(w http.ResponseWriter, r *http.Request) { httpx.WriteError(w, r, b.logger, tc.err) })
			rec := serve(h, httptest.NewRequest("POST", "/x", nil))
			e := envelope(t, rec, tc.status)
			msg, _ := e["message"].(string)
			if e["code"] != tc.code {
				t.Errorf("code: got %v, want %s", e["code"], tc.code)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tc.retryAfter)
			}
			id := rec.Header().Get("X-Request-Id")
			if got := strings.Contains(msg, id); got != tc.hasID {
				t.Errorf("message %q names the request id %s: %v, want %v", msg, id, got, tc.hasID)
			}
			if tc.status >= 500 && (strings.Contains(msg, "10.0.0.7") || strings.Contains(msg, "/var/lib")) {
				t.Errorf("message %q leaks the internal error", msg)
			}
			logs := b.logs.String()
			var lines []string
			for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
				if strings.Contains(line, `msg="request failed"`) {
					lines = append(lines, line)
				}
			}
			switch {
			case tc.level == "" && len(lines) > 0:
				t.Errorf("logged, want nothing: %s", logs)
			case tc.level != "" && (len(lines) != 1 || !strings.Contains(lines[0], "level="+tc.level) || !strings.Contains(lines[0], "request_id="+id)):
				t.Errorf("want one %s line with request_id=%s, got:\n%s", tc.level, id, logs)
			}
		})
	}
}

// TestClassifySameEverywhere checks that Classify is what WriteError
// sends: the inference protocol and the fasthttp server take status, message
// and Retry-After from it.
func TestClassifySameEverywhere(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("read: %w", store.ErrUnavailable)
	e := httpx.Classify(err, "abc")
	_, _, b := setup(t)
	rec := httptest.NewRecorder()
	httpx.WriteError(rec, httptest.NewRequest("GET", "/", nil), b.logger, err)
	if got := envelope(t, rec, e.Status)["message"]; got != e.Message || rec.Header().Get("Retry-After") != strconv.Itoa(e.RetryAfter) {
		t.Errorf("WriteError sent %v Retry-After %q; Classify says %q, %d", got, rec.Header().Get("Retry-After"), e.Message, e.RetryAfter)
	}
}
