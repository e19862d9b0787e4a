package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNothingHidden runs the real binary on the titanic example through
// the commands that show what mlserve keeps: the quarantine and its
// replay, version details, the promotion log and model export.
func TestNothingHidden(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flags := []string{"--config", "mlserve.yaml", "--data-dir", "data"}
	run := func(args ...string) *result { t.Helper(); return mustRun(t, dir, append(args, flags...)...) }
	runJSON := func(v any, args ...string) { t.Helper(); mustJSON(t, v, dir, append(args, flags...)...) }
	editConfig := func(old, new string) {
		t.Helper()
		path := filepath.Join(dir, "mlserve.yaml")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("mlserve.yaml has no %q", old)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	mustRun(t, dir, "init", "--example", "titanic")
	seed, err := filepath.Abs(filepath.Join(dataDir, "seed_titanic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	run("ingest-file", "titanic", seed)
	// Line 2 is too old for the schema, line 3 has no such sex, line 4 is fine.
	bad := "survived,class,sex,age,embarked\n1,1,female,150,S\n0,3,X,30,C\n1,2,male,40,Q\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.csv"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	run("ingest-file", "titanic", "bad.csv")

	type quarantined struct {
		Rows []struct {
			BatchID         int64             `json:"batch_id"`
			Line            int               `json:"line"`
			Raw             string            `json:"raw"`
			Reasons         map[string]string `json:"reasons"`
			ReplayedBatchID *int64            `json:"replayed_batch_id"`
		} `json:"rows"`
		NextCursor string `json:"next_cursor"`
	}
	var q quarantined
	runJSON(&q, "quarantine", "titanic", "--json")
	if len(q.Rows) != 2 || q.Rows[0].Line != 3 || q.Rows[0].Raw != "0,3,X,30,C" || q.Rows[0].Reasons["sex"] == "" ||
		q.Rows[1].Line != 2 || q.Rows[1].Reasons["age"] == "" || q.NextCursor != "" {
		t.Fatalf("quarantine --json: %+v, want lines 3 then 2 with raw rows and reasons", q)
	}
	runJSON(&q, "quarantine", "titanic", "--json", "--limit", "1")
	if len(q.Rows) != 1 || q.NextCursor == "" {
		t.Errorf("quarantine --limit 1: %+v, want one row and a next cursor", q)
	}
	if out := run("quarantine", "titanic").stdout; !strings.Contains(out, "LINE") || !strings.Contains(out, "0,3,X,30,C") {
		t.Errorf("quarantine titanic:\n%s\nwant a table with the lines and raw rows", out)
	}

	type replayed struct {
		BatchID       int64 `json:"batch_id"`
		Replayed      int64 `json:"replayed"`
		StillRejected int64 `json:"still_rejected"`
	}
	var rp replayed
	runJSON(&rp, "quarantine", "replay", "titanic", "--json")
	if rp.Replayed != 0 || rp.StillRejected != 2 {
		t.Fatalf("replay under the same schema: %+v, want nothing moved", rp)
	}

	// v1: logistic on the seed and line 4.
	runJSON(&struct{}{}, "train", "titanic", "--wait", "--json")

	// The schema now takes ages up to 200: line 2 passes, once.
	editConfig("max: 120", "max: 200")
	runJSON(&rp, "quarantine", "replay", "titanic", "--json")
	if rp.Replayed != 1 || rp.StillRejected != 1 || rp.BatchID == 0 {
		t.Fatalf("replay under the wider schema: %+v, want 1 moved into a batch, 1 still rejected", rp)
	}
	first := rp.BatchID
	runJSON(&rp, "quarantine", "replay", "titanic", "--json")
	if rp.Replayed != 0 || rp.StillRejected != 1 {
		t.Fatalf("second replay: %+v, want nothing moved", rp)
	}
	runJSON(&q, "quarantine", "titanic", "--json")
	if len(q.Rows) != 2 || q.Rows[1].ReplayedBatchID == nil || *q.Rows[1].ReplayedBatchID != first || q.Rows[0].ReplayedBatchID != nil {
		t.Fatalf("quarantine after replay: %+v, want both rows kept, line 2 marked with batch %d", q, first)
	}

	// v2: gbdt on the new data.
	editConfig("algorithm: logistic", "algorithm: gbdt")
	runJSON(&struct{}{}, "train", "titanic", "--wait", "--json")

	type detail struct {
		Version           int                `json:"version"`
		State             string             `json:"state"`
		Algorithm         string             `json:"algorithm"`
		ArtifactSHA256    string             `json:"artifact_sha256"`
		Params            map[string]any     `json:"params"`
		TrainingStats     []any              `json:"training_stats"`
		FeatureImportance map[string]float64 `json:"feature_importance"`
		Coefficients      []struct {
			Class     string             `json:"class"`
			Intercept float64            `json:"intercept"`
			Weights   map[string]float64 `json:"weights"`
		} `json:"coefficients"`
	}
	var v1, v2 detail
	runJSON(&v1, "models", "titanic", "--version", "1", "--json")
	runJSON(&v2, "models", "titanic", "--version", "2", "--json")
	if v1.Version != 1 || v1.Algorithm != "logistic" || len(v1.Params) == 0 || len(v1.TrainingStats) == 0 ||
		len(v1.Coefficients) != 1 || v1.Coefficients[0].Class != "1" || v1.Coefficients[0].Weights["age"] == 0 || v1.FeatureImportance != nil {
		t.Errorf("models --version 1: %+v, want logistic with params, statistics and one block of coefficients", v1)
	}
	if v2.Version != 2 || v2.Algorithm != "gbdt" || len(v2.Params) == 0 || len(v2.TrainingStats) == 0 ||
		v2.FeatureImportance["sex"] <= 0 || v2.Coefficients != nil {
		t.Errorf("models --version 2: %+v, want gbdt with params, statistics and feature importances", v2)
	}
	if out := run("models", "titanic", "--version", "1").stdout; !strings.Contains(out, "logistic") || !strings.Contains(out, "age") {
		t.Errorf("models titanic --version 1:\n%s\nwant the algorithm and the coefficients", out)
	}
	var list struct {
		Versions []struct {
			Version   int    `json:"version"`
			Algorithm string `json:"algorithm"`
		} `json:"versions"`
	}
	runJSON(&list, "models", "titanic", "--json")
	if len(list.Versions) != 2 || list.Versions[0].Algorithm != "gbdt" || list.Versions[1].Algorithm != "logistic" {
		t.Errorf("models --json: %+v, want v2 gbdt and v1 logistic", list)
	}

	// Export: the file's sha256 is the version's artifact hash.
	run("export", "titanic", "1", "-o", "v1.json")
	data, err := os.ReadFile(filepath.Join(dir, "v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != v1.ArtifactSHA256 {
		t.Errorf("exported v1 hashes to %x, want the version's artifact_sha256 %s", sum, v1.ArtifactSHA256)
	}
	if r := mlserve(t, dir, append([]string{"export", "titanic", "9", "-o", "v9.json"}, flags...)...); r.code != 1 {
		t.Errorf("export of a missing version: %s, want exit 1", r)
	}

	// Promotion log: make v2 production by hand if the gate did not, then
	// roll back; the rollback keeps the reason of the promotion it undoes.
	var cur detail
	runJSON(&cur, "models", "titanic", "--version", "2", "--json")
	if cur.State != "production" {
		run("promote", "titanic", "2", "--reason", "try gbdt")
	}
	run("rollback", "titanic", "--reason", "too slow")
	var log struct {
		Promotions []struct {
			FromVersion int    `json:"from_version"`
			ToVersion   int    `json:"to_version"`
			Action      string `json:"action"`
			Reason      string `json:"reason"`
		} `json:"promotions"`
	}
	runJSON(&log, "promotions", "titanic", "--json")
	if len(log.Promotions) != 3 {
		t.Fatalf("promotions --json: %+v, want 3 entries", log)
	}
	rb, undone := log.Promotions[0], log.Promotions[1]
	if rb.Action != "rollback" || rb.FromVersion != 2 || rb.ToVersion != 1 ||
		!strings.Contains(rb.Reason, "too slow") || !strings.Contains(rb.Reason, undone.Reason) {
		t.Errorf("rollback entry %+v, want 2 -> 1 with its reason and the undone promotion's %q", rb, undone.Reason)
	}
	if out := run("promotions", "titanic").stdout; !strings.Contains(out, "rollback") || !strings.Contains(out, "too slow") {
		t.Errorf("promotions titanic:\n%s\nwant the rollback and its reason", out)
	}
}
