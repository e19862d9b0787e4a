package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/spec"
)

// TestRolesFollowAppliedSpec serves the api and ingest roles from one App
// and applies a new spec (a required column fare) through another, as
// `mlserve apply` in another process does. Without a restart the api must
// show the new schema and ingest must validate with it (a row without fare
// is rejected naming fare), within 5 s; on PostgreSQL through NOTIFY, on
// SQLite through the periodic check.
func TestRolesFollowAppliedSpec(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) config.Env{
		"sqlite": func(t *testing.T) config.Env {
			dir := t.TempDir()
			return config.Env{DatabaseURL: "sqlite://" + dir + "/mlserve.db", ArtifactsURL: "file://" + dir + "/artifacts"}
		},
		"postgres": func(t *testing.T) config.Env { return prodEnv(t) },
	}
	for name, envOf := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := envOf(t)
			ctx := context.Background()
			served, err := Open(ctx, Options{File: titanicFile(t), Env: env, Apply: true})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { served.Close() })
			if c, _ := served.Specs.Get("titanic"); c == nil || c.Version != 1 {
				t.Fatalf("after Open with Apply the spec is %+v, want v1", c)
			}
			base := serve(t, served, ServeOptions{Roles: Roles{API: true, Ingest: true}})

			other := openApp(t, env, titanicFile(t))
			next := titanicFile(t)
			next.Pipelines[0].Schema.Columns = append(next.Pipelines[0].Schema.Columns, schema.Column{Name: "fare", Type: schema.Number})
			res, err := spec.Apply(ctx, &spec.ApplyParams{Store: other.Store, File: next, Source: "test"})
			if err != nil || len(res) != 1 || res[0].To != 2 {
				t.Fatalf("Apply: %v, %v; want spec v2", res, err)
			}
			applied := time.Now()

			deadline := applied.Add(5 * time.Second)
			for {
				if hasColumn(t, base+"/v1/models/titanic", "fare") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("GET /v1/models/titanic does not show the applied column fare within 5 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("the api showed spec v2 %.2f s after apply", time.Since(applied).Seconds())
			resp, err := http.Post(base+"/v1/datasets/titanic/rows", "text/csv", strings.NewReader("survived,class,sex,age,embarked\n1,1,female,22,S\n"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"fare"`) {
				t.Fatalf("ingest of rows without the new required column: %d %s, want 400 naming fare", resp.StatusCode, body)
			}
			ans := postCSV(t, base+"/v1/datasets/titanic/rows", []byte("survived,class,sex,age,embarked,fare\n1,1,female,22,S,7.25\n"))
			if ans.Accepted != 1 {
				t.Fatalf("ingest of a row with fare: %+v, want it accepted", ans)
			}
		})
	}
}

// hasColumn reports whether GET url's schema lists column.
func hasColumn(t *testing.T, url, column string) bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var mi struct {
		Schema struct {
			Columns []struct{ Name string } `json:"columns"`
		} `json:"schema"`
	}
	if err := json.Unmarshal(b, &mi); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
	for _, c := range mi.Schema.Columns {
		if c.Name == column {
			return true
		}
	}
	return false
}

// TestOpenWithoutFile opens with a pipeline file that does not exist: on a
// fresh embedded data dir it fails saying so and makes no database; on a
// database that holds specs it runs the stored pipelines (production roles
// need no file).
func TestOpenWithoutFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := config.Env{DatabaseURL: "sqlite://" + dir + "/data/mlserve.db", ArtifactsURL: "file://" + dir + "/data/artifacts"}
	missing := filepath.Join(dir, "mlserve.yaml")
	_, err := Open(context.Background(), Options{ConfigPath: missing, Env: env, Apply: true})
	if err == nil || !strings.Contains(err.Error(), "no pipeline file at "+missing) {
		t.Fatalf("Open without a file on a fresh data dir: err = %v, want it to name the missing file", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open without a file made the data dir (stat: %v)", err)
	}
	first, err := Open(context.Background(), Options{File: titanicFile(t), Env: env, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	a, err := Open(context.Background(), Options{ConfigPath: missing, Env: env})
	if err != nil {
		t.Fatalf("Open without a file on a database with specs: %v", err)
	}
	defer a.Close()
	if c, ok := a.Specs.Get("titanic"); !ok || c.Version != 1 {
		t.Fatalf("pipelines run without a file: %v, want titanic at spec v1", a.File.Names())
	}
}
