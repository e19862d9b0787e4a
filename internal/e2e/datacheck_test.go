package e2e

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/sampledata"
)

// TestDataChecks: titanic trained on the seed data, then a batch where
// embarked is missing in every row. `mlserve check` says the next run
// would fail, and the next run fails with data_check naming embarked and
// missing_rate, making no version; with missing_rate set to warn the run
// records the warning and trains.
func TestDataChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.csv")
	if err := os.WriteFile(seed, sampledata.Bytes("seed_titanic.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(sampledata.Bytes("seed_titanic.csv")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range recs[0] {
		if h == "embarked" {
			col = i
		}
	}
	for _, r := range recs[1:] {
		r[col] = ""
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	noEmbarked := filepath.Join(dir, "no_embarked.csv")
	if err := os.WriteFile(noEmbarked, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	type check struct {
		Column, Check, Severity, Expected, Seen string
		Passed                                  bool
	}
	type run struct {
		ID      int64   `json:"id"`
		State   string  `json:"state"`
		Version int     `json:"version"`
		Error   string  `json:"error"`
		Message string  `json:"message"`
		Checks  []check `json:"checks"`
	}
	failed := func(cs []check, column, name string) *check {
		for i := range cs {
			if cs[i].Column == column && cs[i].Check == name && !cs[i].Passed {
				return &cs[i]
			}
		}
		return nil
	}

	mustRun(t, dir, "init", "--example", "titanic")
	mustRun(t, dir, "ingest-file", "titanic", seed)
	var first run
	mustJSON(t, &first, dir, "train", "titanic", "--wait", "--json")
	if first.State != "succeeded" || first.Version != 1 {
		t.Fatalf("first run: %+v, want v1", first)
	}
	mustRun(t, dir, "ingest-file", "titanic", noEmbarked)

	// check: exit 1, embarked missing_rate failed.
	r := mlserve(t, dir, "check", "titanic", "--json")
	var ans struct {
		Rows     int     `json:"rows"`
		Baseline int     `json:"baseline_version"`
		Blocked  bool    `json:"blocked"`
		Checks   []check `json:"checks"`
	}
	if r.code != 1 || !strings.Contains(r.stderr, "data_check") {
		t.Fatalf("check on the broken batch: want exit 1 naming data_check, got %s", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &ans); err != nil || !ans.Blocked || ans.Rows != 2*891 || ans.Baseline != 1 || failed(ans.Checks, "embarked", "missing_rate") == nil {
		t.Fatalf("check --json = %+v (%v), want blocked on embarked missing_rate, 1782 rows against v1:\n%s", ans, err, r.stdout)
	}

	var blocked run
	mustJSON(t, &blocked, dir, "train", "titanic", "--wait", "--json")
	if blocked.State != "failed" || !strings.HasPrefix(blocked.Error, "data_check: ") || !strings.Contains(blocked.Error, "embarked missing_rate") || blocked.Version != 0 {
		t.Fatalf("run after the broken batch: %+v, want failed with data_check naming embarked missing_rate, no version", blocked)
	}
	if c := failed(blocked.Checks, "embarked", "missing_rate"); c == nil || c.Severity != "block" {
		t.Fatalf("run checks %+v: want a failed block embarked missing_rate", blocked.Checks)
	}
	var list struct {
		Runs []run `json:"runs"`
	}
	mustJSON(t, &list, dir, "runs", "titanic", "--json")
	if len(list.Runs) != 2 || list.Runs[0].ID != blocked.ID || failed(list.Runs[0].Checks, "embarked", "missing_rate") == nil {
		t.Fatalf("runs --json: %+v, want the blocked run first with its checks", list.Runs)
	}
	var models struct {
		Versions []struct{ Version int } `json:"versions"`
	}
	mustJSON(t, &models, dir, "models", "titanic", "--json")
	if len(models.Versions) != 1 {
		t.Fatalf("versions after the blocked run: %+v, want only v1", models.Versions)
	}
	reports, _ := filepath.Glob(filepath.Join(dir, "*", "checks", "titanic", "run-*.json"))
	if len(reports) != 2 {
		t.Errorf("reports in the object store: %v, want one per run", reports)
	}

	// The same data with missing_rate a warning: the run trains and says so.
	cfg := filepath.Join(dir, "mlserve.yaml")
	src, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(src, "    checks:\n      missing_rate: {severity: warn}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	var warned run
	mustJSON(t, &warned, dir, "train", "titanic", "--wait", "--json")
	if warned.State != "succeeded" || warned.Version != 2 || !strings.Contains(warned.Message, "data check warnings: embarked missing_rate") {
		t.Fatalf("run with missing_rate warn: %+v, want v2 with the warning in its message", warned)
	}
	if c := failed(warned.Checks, "embarked", "missing_rate"); c == nil || c.Severity != "warn" {
		t.Fatalf("run checks %+v: want a failed warn embarked missing_rate", warned.Checks)
	}
	var after struct {
		Versions []struct {
			Version int
			Checks  []check `json:"checks"`
		} `json:"versions"`
	}
	mustJSON(t, &after, dir, "models", "titanic", "--json")
	for _, v := range after.Versions {
		if v.Version == 2 {
			if c := failed(v.Checks, "embarked", "missing_rate"); c == nil || c.Severity != "warn" {
				t.Fatalf("v2's checks %+v: want the failed warn embarked missing_rate", v.Checks)
			}
			return
		}
	}
	t.Fatalf("models --json lacks v2: %+v", after.Versions)
}
