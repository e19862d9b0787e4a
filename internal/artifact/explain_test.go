package artifact_test

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
)

// TestExplainAdditive explains every holdout row of real sample data with
// both algorithm families: base + Σ contributions is the raw score within
// 1e-9, the raw score gives the predicted probabilities (or value), there
// is one contribution per input column, and the JSON says the same.
func TestExplainAdditive(t *testing.T) {
	for _, tc := range []struct{ file, target, algorithm, link string }{
		{"titanic.csv", "survived", "logistic", artifact.LinkLogit},
		{"titanic.csv", "survived", "gbdt", artifact.LinkLogit},
		{"iris.csv", "species", "logistic", artifact.LinkSoftmax},
		{"iris.csv", "species", "gbdt", artifact.LinkSoftmax},
		{"tips.csv", "tip", "linear", artifact.LinkIdentity},
		{"tips.csv", "tip", "gbdt", artifact.LinkIdentity},
	} {
		t.Run(tc.file+"/"+tc.algorithm, func(t *testing.T) {
			f := fitCSV(t, tc.file, tc.target, tc.algorithm, nil)
			m, err := artifact.Load(f.res.Bytes, f.res.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			inputs := 0
			for i := range m.Schema().Len() {
				if col := m.Schema().Column(i); col.Name != tc.target && !col.Ignore {
					inputs++
				}
			}
			out := make([]float64, m.Outputs())
			for r, row := range f.res.HoldoutRows {
				e, err := m.Explain(row, out)
				if err != nil {
					t.Fatal(err)
				}
				if e.Link != tc.link || len(e.Columns) != inputs {
					t.Fatalf("row %d: link %q and %d columns, want %q and %d", r, e.Link, len(e.Columns), tc.link, inputs)
				}
				for s, base := range e.Base {
					sum := base
					for _, c := range e.Contributions[s] {
						sum += c
					}
					if d := math.Abs(sum - e.Raw[s]); d > 1e-9 {
						t.Fatalf("row %d score %d: base + contributions = %v, raw score %v", r, s, sum, e.Raw[s])
					}
				}
				checkLink(t, m.Task(), e.Raw, out)
				checkJSON(t, e)
			}
		})
	}
}

// checkLink checks that the raw scores give the predicted outputs.
func checkLink(t *testing.T, task ml.Task, raw, out []float64) {
	t.Helper()
	var want []float64
	switch task {
	case ml.Binary:
		p := 1 / (1 + math.Exp(-raw[0]))
		want = []float64{1 - p, p}
	case ml.Regression:
		want = raw
	default:
		var sum float64
		for _, z := range raw {
			sum += math.Exp(z)
		}
		for _, z := range raw {
			want = append(want, math.Exp(z)/sum)
		}
	}
	for j := range out {
		if math.Abs(out[j]-want[j]) > 1e-12 {
			t.Fatalf("raw scores %v give %v, the model predicts %v", raw, want, out)
		}
	}
}

// checkJSON decodes the explanation's JSON and checks its shape and sums.
func checkJSON(t *testing.T, e *artifact.Explanation) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if e.Classes == nil {
		var j struct {
			Base          float64            `json:"base"`
			Contributions map[string]float64 `json:"contributions"`
			Link          string             `json:"link"`
		}
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		sum := j.Base
		for _, c := range j.Contributions {
			sum += c
		}
		if len(j.Contributions) != len(e.Columns) || j.Link != e.Link || math.Abs(sum-e.Raw[0]) > 1e-9 {
			t.Fatalf("JSON %s does not add up to raw score %v", b, e.Raw[0])
		}
		return
	}
	var j struct {
		Base          map[string]float64            `json:"base"`
		Contributions map[string]map[string]float64 `json:"contributions"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	for s, class := range e.Classes {
		sum := j.Base[class]
		for _, c := range j.Contributions[class] {
			sum += c
		}
		if len(j.Contributions[class]) != len(e.Columns) || math.Abs(sum-e.Raw[s]) > 1e-9 {
			t.Fatalf("JSON %s: class %s does not add up to raw score %v", b, class, e.Raw[s])
		}
	}
}

// TestExplanationImportance checks the importance stored in a fitted
// artifact: one value per input column, the mean |contribution| over the
// holdout rows, and it survives the artifact's encoding.
func TestExplanationImportance(t *testing.T) {
	for _, tc := range []struct{ file, target, algorithm string }{
		{"titanic.csv", "survived", "gbdt"},
		{"iris.csv", "species", "logistic"},
	} {
		f := fitCSV(t, tc.file, tc.target, tc.algorithm, nil)
		a, err := artifact.Decode(f.res.Bytes, f.res.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		m := f.res.Model
		out := make([]float64, m.Outputs())
		want := map[string]float64{}
		rows := f.res.HoldoutRows[:min(len(f.res.HoldoutRows), artifact.ImportanceRows)]
		for _, row := range rows {
			e, err := m.Explain(row, out)
			if err != nil {
				t.Fatal(err)
			}
			for s := range e.Contributions {
				for j, col := range e.Columns {
					want[col] += math.Abs(e.Contributions[s][j]) / float64(len(rows))
				}
			}
		}
		if len(a.Importance) != len(want) || len(want) == 0 {
			t.Fatalf("%s/%s: importance %v, want %v", tc.file, tc.algorithm, a.Importance, want)
		}
		for col, w := range want {
			if got, ok := a.Importance[col]; !ok || math.Abs(got-w) > 1e-12 {
				t.Errorf("%s/%s: importance of %s is %v, want %v", tc.file, tc.algorithm, col, got, w)
			}
		}
	}
}

// TestExplainTimestampColumn explains a model with a timestamp column:
// its five calendar parts (and the linear encoding's missing indicator)
// come back as one contribution of the column, and the sums hold.
func TestExplainTimestampColumn(t *testing.T) {
	recs := [][]string{{"at", "x", "y"}}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 400 {
		at := start.Add(time.Duration(i*37) * time.Hour)
		y := 2*float64(at.Hour()) + float64(i%7)
		ts := at.Format(time.RFC3339)
		if i%10 == 0 {
			ts = ""
		}
		recs = append(recs, []string{ts, strconv.Itoa(i % 7), strconv.FormatFloat(y, 'f', -1, 64)})
	}
	for _, alg := range []string{"linear", "gbdt"} {
		f := fitRecords(t, "timestamps", recs, "y", alg, nil)
		if f.res.Artifact.Schema.Columns[0].Type != schema.Timestamp {
			t.Fatalf("column at inferred as %s, want timestamp", f.res.Artifact.Schema.Columns[0].Type)
		}
		m := f.res.Model
		out := make([]float64, 1)
		for r, row := range f.res.HoldoutRows {
			e, err := m.Explain(row, out)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(e.Columns, []string{"at", "x"}) {
				t.Fatalf("%s: columns %v, want [at x]", alg, e.Columns)
			}
			if d := math.Abs(e.Base[0] + e.Contributions[0][0] + e.Contributions[0][1] - out[0]); d > 1e-9 {
				t.Fatalf("%s row %d: base + contributions is %v off the prediction %v", alg, r, d, out[0])
			}
		}
	}
}
