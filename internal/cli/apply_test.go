package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApply runs `apply` on an init'ed titanic file: the first apply
// stores spec v1, an unchanged file stores nothing, --diff prints the
// changed field and stores nothing, apply stores v2, --json answers with
// the versions and changes, and a column type change is refused.
func TestApply(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mlserve.yaml")
	must := func(args ...string) string {
		t.Helper()
		code, out, errs := run(t, dir, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	edit := func(old, new string) {
		t.Helper()
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("mlserve.yaml lacks %q", old)
		}
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must("init", "--example", "titanic")
	if out := must("apply"); out != "pipeline titanic: stored as spec v1\n" {
		t.Fatalf("first apply printed %q", out)
	}
	if out := must("apply"); out != "pipeline titanic: spec v1 unchanged\n" {
		t.Fatalf("apply of the same file printed %q", out)
	}
	edit("algorithm: logistic", "algorithm: gbdt")
	want := "pipeline titanic: spec v1 → v2 would change:\n  model.algorithm: logistic → gbdt\n"
	if out := must("apply", "--diff"); out != want {
		t.Fatalf("apply --diff printed %q, want %q", out, want)
	}
	if out := must("apply", "--diff"); out != want {
		t.Fatalf("a second apply --diff printed %q: the first stored something", out)
	}
	var ans struct {
		DryRun    bool `json:"dry_run"`
		Pipelines []struct {
			Pipeline    string `json:"pipeline"`
			FromVersion int    `json:"from_version"`
			ToVersion   int    `json:"to_version"`
			Changed     bool   `json:"changed"`
			Changes     []struct{ Path, Old, New string }
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(must("apply", "--json")), &ans); err != nil {
		t.Fatal(err)
	}
	p := ans.Pipelines
	if ans.DryRun || len(p) != 1 || p[0].FromVersion != 1 || p[0].ToVersion != 2 || !p[0].Changed || len(p[0].Changes) != 1 ||
		p[0].Changes[0].Path != "model.algorithm" || p[0].Changes[0].Old != "logistic" || p[0].Changes[0].New != "gbdt" {
		t.Fatalf("apply --json = %+v, want v1 → v2 with model.algorithm logistic → gbdt", ans)
	}
	edit("{name: age, type: number", "{name: age, type: integer")
	code, _, errs := run(t, dir, "apply")
	if code != ExitFail || !strings.Contains(errs, "schema.columns.age.type number → integer") || !strings.Contains(errs, "new name") {
		t.Fatalf("apply of a column type change: exit %d, stderr %q; want exit 1 naming the column and the way out", code, errs)
	}
	// The refused change stored nothing: the file as it was is still v2.
	edit("{name: age, type: integer", "{name: age, type: number")
	if out := must("apply", "-f", cfg, "--diff"); out != "pipeline titanic: spec v2 unchanged\n" {
		t.Fatalf("apply --diff after a refused apply printed %q", out)
	}
}
