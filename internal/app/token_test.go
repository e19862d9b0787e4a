package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// TestTokenChangesReachEveryReplica runs two api servers on one PostgreSQL
// database under MLSERVE_AUTH=all, creates a token through a third
// process's store and then revokes it, and checks that both servers accept
// it, then refuse it with 401, each within 5 s and without restart.
func TestTokenChangesReachEveryReplica(t *testing.T) {
	t.Parallel()
	env := prodEnv(t)
	env.Auth = config.AuthAll
	env.HTTPEngine = config.EngineNetHTTP
	first := openApp(t, env, titanicFile(t))
	second := openApp(t, env, titanicFile(t))
	bases := []string{
		serve(t, first, ServeOptions{Roles: Roles{API: true}}),
		serve(t, second, ServeOptions{Roles: Roles{API: true}}),
	}
	status := func(base, tok string) int {
		req, err := http.NewRequest(http.MethodGet, base+"/v1/models", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	const tok = "mls_replica_test_token"
	for _, b := range bases {
		if got := status(b, tok); got != http.StatusUnauthorized {
			t.Fatalf("GET /v1/models with an unknown token: %d, want 401", got)
		}
	}
	// within waits until every server answers want, at most 5 s, and
	// returns how long the slowest took.
	within := func(what string, want int) time.Duration {
		start := time.Now()
		for _, b := range bases {
			for got := status(b, tok); got != want; got = status(b, tok) {
				if time.Since(start) > 5*time.Second {
					t.Fatalf("%s: %s still answers %d after 5 s, want %d", what, b, got, want)
				}
				time.Sleep(50 * time.Millisecond) // polling the servers, the thing measured
			}
		}
		return time.Since(start)
	}
	admin := openApp(t, env, titanicFile(t))
	ctx := context.Background()
	h := sha256.Sum256([]byte(tok))
	if _, err := admin.Store.TokenCreate(ctx, &store.TokenCreateParams{ID: "tok_replica", Hash: hex.EncodeToString(h[:]), Role: "predict"}); err != nil {
		t.Fatal(err)
	}
	created := within("created token", http.StatusOK)
	if _, err := admin.Store.TokenRevoke(ctx, "tok_replica"); err != nil {
		t.Fatal(err)
	}
	revoked := within("revoked token", http.StatusUnauthorized)
	t.Logf("a created token was accepted by both servers after %v, a revoked one refused after %v", created, revoked)
}
