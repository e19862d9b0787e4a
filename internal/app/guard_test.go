package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/testenv"
)

// TestOpenWriteRoutes serves roles in embedded mode without and with
// MLSERVE_ADMIN_TOKEN: a process whose write routes are open to local
// clients says so in one warning at start-up, however many roles it runs;
// a trainer alone (no write routes) and a process with a token do not. The
// roles' server refuses a write through a DNS-rebound name and takes one
// from a local client (the api alone runs on the fasthttp server).
func TestOpenWriteRoutes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		roles Roles
		token string
		warns int
	}{
		{"up", Roles{API: true, Trainer: true, Ingest: true}, "", 1},
		{"api", Roles{API: true}, "", 1},
		{"ingest", Roles{Ingest: true}, "", 1},
		{"trainer", Roles{Trainer: true}, "", 0},
		{"up with token", Roles{API: true, Trainer: true, Ingest: true}, "tok", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			logs := &testenv.Buffer{}
			a, err := Open(context.Background(), Options{File: titanicFile(t), Logger: slog.New(slog.NewJSONHandler(logs, nil)), Env: config.Env{
				DatabaseURL: "sqlite://" + dir + "/mlserve.db", ArtifactsURL: "file://" + dir + "/artifacts", AdminToken: tc.token,
			}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			base := serve(t, a, ServeOptions{Roles: tc.roles})
			warns := 0
			for line := range strings.Lines(logs.String()) {
				var rec struct{ Level, Msg string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if strings.Contains(rec.Msg, "MLSERVE_ADMIN_TOKEN") {
					if rec.Level != "WARN" {
						t.Errorf("level %s, want WARN: %s", rec.Level, line)
					}
					warns++
				}
			}
			if warns != tc.warns {
				t.Errorf("%d warnings about MLSERVE_ADMIN_TOKEN, want %d; logs:\n%s", warns, tc.warns, logs)
			}

			if !tc.roles.API || tc.token != "" {
				return
			}
			post := func(host string) int {
				req, err := http.NewRequest(http.MethodPost, base+"/v1/models/titanic/rollback", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = host
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if got := post("rebind.evil.example"); got != http.StatusForbidden {
				t.Errorf("rollback through a rebound name: status %d, want 403", got)
			}
			if got := post(strings.TrimPrefix(base, "http://")); got == http.StatusForbidden || got == http.StatusUnauthorized {
				t.Errorf("rollback from a local client: status %d, want the route's answer", got)
			}
		})
	}
}
