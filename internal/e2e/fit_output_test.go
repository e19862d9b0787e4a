package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestFitPrintsParamsAsJSON checks that `fit` prints the resolved params
// as a JSON object a user can paste into a pipeline file's params, not as
// a Go map ("map[l2:1 …]").
func TestFitPrintsParamsAsJSON(t *testing.T) {
	t.Parallel()
	seed, err := filepath.Abs(filepath.Join(dataDir, "seed_titanic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, t.TempDir(), "fit", seed, "--target", "survived", "--algorithm", "gbdt", "--param", "n_trees=5")
	for line := range strings.SplitSeq(r.stdout, "\n") {
		rest, ok := strings.CutPrefix(line, "  params: ")
		if !ok {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(rest), &p); err != nil {
			t.Fatalf("params line %q is not a JSON object: %v", line, err)
		}
		if p["n_trees"] != float64(5) {
			t.Errorf("params %v; want n_trees 5", p)
		}
		return
	}
	t.Fatalf("no params line in:\n%s", r.stdout)
}
