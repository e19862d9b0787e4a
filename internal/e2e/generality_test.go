package e2e

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// TestGenerality takes two datasets mlserve was not written for from CSV to
// prediction with the CLI alone and no hand edits: init --csv infers the
// pipeline, ingest-file loads it, train --wait makes v1, predict answers for
// a real row; fit tries the same CSV without any store.
func TestGenerality(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, target string
		check              func(t *testing.T, p prediction, row map[string]string)
		checkFit           func(t *testing.T, m map[string]float64)
	}{
		{
			name: "iris", file: "iris.csv", target: "species",
			check: func(t *testing.T, p prediction, row map[string]string) {
				species := []string{"setosa", "versicolor", "virginica"}
				if !slices.Contains(species, p.Label) {
					t.Errorf("label %q, want one of %v", p.Label, species)
				}
				if len(p.Probabilities) != 3 || diff(sum(p.Probabilities), 1) > 1e-9 {
					t.Errorf("probabilities %v, want one per species summing to 1", p.Probabilities)
				}
				for _, s := range species {
					if q, ok := p.Probabilities[s]; !ok || q < 0 || q > 1 {
						t.Errorf("probability of %s: %v (present %v), want in [0, 1]", s, q, ok)
					}
				}
				// The first row is a setosa, which the features separate from
				// the others cleanly.
				if p.Label != row["species"] {
					t.Errorf("label %q for a %s row", p.Label, row["species"])
				}
			},
			checkFit: func(t *testing.T, m map[string]float64) {
				if m["accuracy"] < 0.85 || m["accuracy"] > 1 {
					t.Errorf("fit accuracy %v, want >= 0.85", m["accuracy"])
				}
			},
		},
		{
			name: "tips", file: "tips.csv", target: "tip",
			check: func(t *testing.T, p prediction, row map[string]string) {
				if p.Value == nil || math.IsNaN(*p.Value) || math.IsInf(*p.Value, 0) {
					t.Fatalf("prediction %+v, want a numeric value", p)
				}
				if v := *p.Value; v <= 0 || v > 20 {
					t.Errorf("predicted tip %v for a bill of %s, want a plausible tip in (0, 20]", v, row["total_bill"])
				}
				if p.Label != "" || p.Probabilities != nil {
					t.Errorf("regression prediction %+v has a label or probabilities", p)
				}
			},
			checkFit: func(t *testing.T, m map[string]float64) {
				if m["r2"] <= 0 || m["r2"] > 1 {
					t.Errorf("fit r2 %v, want > 0", m["r2"])
				}
				if m["rmse"] <= 0 || m["mae"] <= 0 {
					t.Errorf("fit metrics %v, want rmse and mae too", m)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			csvPath, err := filepath.Abs(filepath.Join(dataDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			header, recs := readCSV(t, tt.file)
			flags := []string{"--config", tt.name + ".yaml", "--data-dir", "data"}

			mustRun(t, dir, append([]string{"init", "--csv", csvPath, "--target", tt.target, "--name", tt.name}, flags[:2]...)...)

			var a ingestAnswer
			mustJSON(t, &a, dir, append([]string{"ingest-file", tt.name, csvPath, "--json"}, flags...)...)
			if a.Accepted != int64(len(recs)) || a.Rejected != 0 || len(a.Errors) != 0 {
				t.Fatalf("ingest-file: %+v, want all %d rows accepted", a, len(recs))
			}

			var r run
			mustJSON(t, &r, dir, append([]string{"train", tt.name, "--wait", "--json"}, flags...)...)
			if r.State != "succeeded" || r.Version != 1 || r.Pipeline != tt.name || r.Error != "" {
				t.Fatalf("train --wait: %+v, want succeeded with version 1", r)
			}

			row := map[string]string{}
			args := []string{"predict", tt.name}
			for i, h := range header {
				row[h] = recs[0][i]
				if h != tt.target {
					args = append(args, h+"="+recs[0][i])
				}
			}
			var pr predictAnswer
			mustJSON(t, &pr, dir, append(args, flags...)...)
			if pr.Model != tt.name || pr.Version != 1 || len(pr.Predictions) != 1 {
				t.Fatalf("predict: %+v, want one prediction of %s v1", pr, tt.name)
			}
			tt.check(t, pr.Predictions[0], row)

			var raw map[string]json.RawMessage
			res := mustJSON(t, &raw, dir, "fit", csvPath, "--target", tt.target, "--json")
			hasKeys(t, "fit --json", anyMap(raw), []string{"metrics", "fit_seconds", "train_rows", "holdout_rows", "algorithm", "params"})
			var fit struct {
				Metrics     map[string]float64 `json:"metrics"`
				FitSeconds  float64            `json:"fit_seconds"`
				TrainRows   int                `json:"train_rows"`
				HoldoutRows int                `json:"holdout_rows"`
				Algorithm   string             `json:"algorithm"`
				Params      map[string]any     `json:"params"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &fit); err != nil {
				t.Fatalf("fit --json: %v\n%s", err, res.stdout)
			}
			if fit.FitSeconds <= 0 || fit.TrainRows <= 0 || fit.HoldoutRows <= 0 || fit.TrainRows+fit.HoldoutRows != len(recs) ||
				fit.Algorithm == "" || fit.Params == nil {
				t.Errorf("fit --json: %s\nwant fit_seconds > 0, train_rows + holdout_rows = %d, an algorithm and its params", res.stdout, len(recs))
			}
			tt.checkFit(t, fit.Metrics)
			t.Logf("fit: %s in %.4f s on %d rows, holdout metrics %v", fit.Algorithm, fit.FitSeconds, fit.TrainRows, fit.Metrics)
		})
	}
}

func anyMap(m map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
