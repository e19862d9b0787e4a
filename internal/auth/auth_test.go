package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/auth"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
)

// TestDecisionsLoggedWithoutToken decides allowed and refused requests on
// a real SQLite store and checks the log: a debug line per allowed
// request, a warn line per refused one, each naming the route, and never
// the token or its hash.
func TestDecisionsLoggedWithoutToken(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, &sqlite.Config{Path: filepath.Join(t.TempDir(), "mlserve.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const tok = "mls_secret_value_for_the_log_test"
	if _, err := db.TokenCreate(ctx, &store.TokenCreateParams{ID: "tok_log", Hash: auth.Hash(tok), Role: "ingest", Pipeline: "titanic"}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := &auth.Authorizer{Mode: config.AuthAll, Bootstrap: "boot_secret", Tokens: auth.NewCache(db, time.Minute),
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	cases := []struct {
		req  auth.Request
		want int // 0: allowed
	}{
		{auth.Request{Pattern: "POST /v1/datasets/{name}/rows", Pipeline: "titanic", Authorization: "Bearer " + tok}, 0},
		{auth.Request{Pattern: "POST /v1/datasets/{name}/rows", Pipeline: "iris", Authorization: "Bearer " + tok}, http.StatusForbidden},
		{auth.Request{Pattern: "POST /v1/pipelines/{name}/runs", Pipeline: "titanic", Authorization: "bearer  " + tok + " "}, http.StatusForbidden},
		{auth.Request{Pattern: "GET /v1/models", Authorization: "Bearer " + tok + "x"}, http.StatusUnauthorized},
		{auth.Request{Pattern: "GET /v1/models", Authorization: "Bearer boot_secret"}, 0},
		{auth.Request{Pattern: "GET /healthz"}, 0},
	}
	for _, c := range cases {
		e := a.Decide(ctx, c.req)
		got := 0
		if e != nil {
			got = e.Status
		}
		if got != c.want {
			t.Errorf("Decide(%+v) = %d (%v), want %d", c.req, got, e, c.want)
		}
	}
	text := logs.String()
	for _, secret := range []string{tok, auth.Hash(tok), "boot_secret"} {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds a token or its hash %q:\n%s", secret, text)
		}
	}
	if n := strings.Count(text, `"level":"WARN"`); n != 3 {
		t.Errorf("%d warn lines, want 3 (one per refusal):\n%s", n, text)
	}
	if n := strings.Count(text, `"level":"DEBUG"`); n != 2 {
		t.Errorf("%d debug lines, want 2 (token and bootstrap allowed; health needs no decision):\n%s", n, text)
	}
	if !strings.Contains(text, `"token_id":"tok_log"`) || !strings.Contains(text, `"route":"POST /v1/pipelines/{name}/runs"`) {
		t.Errorf("the log does not name the token id and the route:\n%s", text)
	}
}
