package e2e

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/sampledata"
)

// TestReadmeFlow runs the README's "Your own data" commands verbatim (no
// --config, no --data-dir: the defaults a new user gets) on three public
// datasets nobody here wrote, then feeds tomorrow's data: a second file
// whose every numeric value lies 10 % of the column's range beyond the
// first file's extremes (above the maximum on even rows, below the minimum
// on odd ones, the regression target too). The inferred schema must accept
// every such row, and the served model must answer for each of them.
func TestReadmeFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, target, name string
	}{
		{sampledata.BreastCancer, "diagnosis", "cancer"},
		{sampledata.Diabetes, "progression", "diabetes"},
		{sampledata.Wine, "cultivar", "wine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			header, recs := readCSV(t, tt.file)
			if err := os.WriteFile(filepath.Join(dir, "data.csv"), sampledata.Bytes(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			tomorrow := beyondRanges(t, header, recs)
			writeCSV(t, filepath.Join(dir, "tomorrow.csv"), header, tomorrow)
			step := steps(t)

			step("init --csv", func(t *testing.T) {
				mustRun(t, dir, "init", "--csv", "data.csv", "--target", tt.target, "--name", tt.name)
			})
			srv := startServer(t, dir, "up")
			step("ingest-file", func(t *testing.T) {
				var a ingestAnswer
				mustJSON(t, &a, dir, "ingest-file", tt.name, "data.csv", "--json")
				if a.Accepted != int64(len(recs)) || a.Rejected != 0 {
					t.Fatalf("ingest-file data.csv: %+v, want all %d rows accepted", a, len(recs))
				}
			})
			step("train --wait", func(t *testing.T) {
				var r run
				mustJSON(t, &r, dir, "train", tt.name, "--wait", "--json")
				if r.State != "succeeded" || r.Version < 1 {
					t.Fatalf("train --wait: %+v, want a succeeded run with a version", r)
				}
			})
			step("models and predict", func(t *testing.T) {
				mustRun(t, dir, "models", tt.name)
				args := []string{"predict", tt.name}
				for i, h := range header {
					if h != tt.target {
						args = append(args, h+"="+recs[0][i])
					}
				}
				var pr predictAnswer
				mustJSON(t, &pr, dir, args...)
				if len(pr.Predictions) != 1 {
					t.Fatalf("predict: %+v, want one prediction", pr)
				}
			})
			step("tomorrow's data is accepted", func(t *testing.T) {
				var a ingestAnswer
				mustJSON(t, &a, dir, "ingest-file", tt.name, "tomorrow.csv", "--json")
				if a.Accepted != int64(len(tomorrow)) || a.Rejected != 0 {
					t.Fatalf("ingest-file tomorrow.csv: accepted %d, rejected %d (first errors %+v), want all %d accepted",
						a.Accepted, a.Rejected, a.Errors[:min(1, len(a.Errors))], len(tomorrow))
				}
			})
			step("tomorrow's rows are served", func(t *testing.T) {
				instances := make([]map[string]any, len(tomorrow))
				for k, rec := range tomorrow {
					inst := map[string]any{}
					for i, h := range header {
						if h == tt.target {
							continue
						}
						if f, err := strconv.ParseFloat(rec[i], 64); err == nil {
							inst[h] = f
						} else {
							inst[h] = rec[i]
						}
					}
					instances[k] = inst
				}
				body, err := json.Marshal(map[string]any{"instances": instances})
				if err != nil {
					t.Fatal(err)
				}
				// train --wait ran in its own process: the server picks the
				// new production version up on its next reload.
				eventually(t, 30*time.Second, 100*time.Millisecond, "the server serves the trained model", func() bool {
					code, _ := srv.get("/v2/models/" + tt.name + "/ready")
					return code == http.StatusOK
				})
				var pr predictAnswer
				srv.postJSON(t, "/v1/models/"+tt.name+"/predict", "application/json", body, http.StatusOK, &pr)
				if len(pr.Predictions) != len(tomorrow) {
					t.Fatalf("%d predictions for %d rows", len(pr.Predictions), len(tomorrow))
				}
				for k, p := range pr.Predictions {
					if p.Label == "" && (p.Value == nil || math.IsNaN(*p.Value) || math.IsInf(*p.Value, 0)) {
						t.Fatalf("prediction %d: %+v, want a label or a finite value", k, p)
					}
				}
			})
		})
	}
}

// beyondRanges returns a copy of recs in which every numeric column's
// value is 10 % of the column's observed range above its maximum (even
// rows) or below its minimum (odd rows). Text columns keep their values.
func beyondRanges(t *testing.T, header []string, recs [][]string) [][]string {
	t.Helper()
	lo := make([]float64, len(header))
	hi := make([]float64, len(header))
	numeric := make([]bool, len(header))
	for i := range header {
		lo[i], hi[i], numeric[i] = math.Inf(1), math.Inf(-1), true
		for _, r := range recs {
			f, err := strconv.ParseFloat(r[i], 64)
			if err != nil {
				numeric[i] = false
				break
			}
			lo[i], hi[i] = min(lo[i], f), max(hi[i], f)
		}
	}
	out := make([][]string, len(recs))
	for k, r := range recs {
		out[k] = append([]string(nil), r...)
		for i := range header {
			if !numeric[i] {
				continue
			}
			d := 0.1 * (hi[i] - lo[i])
			v := hi[i] + d
			if k%2 == 1 {
				v = lo[i] - d
			}
			out[k][i] = strconv.FormatFloat(v, 'g', 6, 64)
		}
	}
	return out
}

func writeCSV(t *testing.T, path string, header []string, recs [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
