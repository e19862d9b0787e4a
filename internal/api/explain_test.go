package api_test

import (
	"math"
	"net/http"
	"testing"

	"github.com/mlserve/mlserve/internal/schema"
)

// explained is a predict answer with explanations (titanic: binary).
type explained struct {
	Model       string `json:"model"`
	Version     int    `json:"version"`
	Predictions []struct {
		Label         string             `json:"label"`
		Probabilities map[string]float64 `json:"probabilities"`
		Explanation   struct {
			Base          float64            `json:"base"`
			Contributions map[string]float64 `json:"contributions"`
			Link          string             `json:"link"`
		} `json:"explanation"`
	} `json:"predictions"`
}

// checkExplained checks each prediction's explanation against the fitted
// model's own for the hand-built rows: the same base and contributions,
// one per input column, and base + Σ contributions is the log-odds of the
// answer's P(second class).
func checkExplained(t *testing.T, b *testBundle, r *response, rows ...schema.Row) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	ans := decodeStrict[explained](t, r.body, "model", "version", "predictions")
	if len(ans.Predictions) != len(rows) {
		t.Fatalf("%d predictions, want %d: %s", len(ans.Predictions), len(rows), r.body)
	}
	m := b.fit.fits[0].Model
	out := make([]float64, m.Outputs())
	for i, row := range rows {
		p := ans.Predictions[i]
		want, err := m.Explain(row, out)
		if err != nil {
			t.Fatal(err)
		}
		e := p.Explanation
		if e.Link != "logit" || e.Base != want.Base[0] || len(e.Contributions) != len(want.Columns) {
			t.Fatalf("prediction %d: explanation %+v, want base %v, link logit, columns %v", i, e, want.Base[0], want.Columns)
		}
		sum := e.Base
		for j, col := range want.Columns {
			c, ok := e.Contributions[col]
			if !ok || c != want.Contributions[0][j] {
				t.Fatalf("prediction %d: %s contributes %v, want %v", i, col, c, want.Contributions[0][j])
			}
			sum += c
		}
		p1 := p.Probabilities[m.Classes()[1]]
		if d := math.Abs(sum - math.Log(p1/(1-p1))); d > 1e-9 {
			t.Fatalf("prediction %d: base + contributions %v, log-odds of the answer %v", i, sum, math.Log(p1/(1-p1)))
		}
	}
}

// TestPredictExplain asks the predict route for explanations on GET,
// POST of one instance and of a batch, and checks that a bad explain
// value and explain on CSV are 400s naming the field.
func TestPredictExplain(t *testing.T) {
	t.Parallel()
	const path = "/v1/models/titanic/predict"
	_, b := setup(t)
	checkExplained(t, b, b.get(t, path+"?class=1&sex=F&age=22&embarked=S&explain=true"), titanicRow(1, true, 22, "S"))
	checkExplained(t, b, b.get(t, path+"?explain=1&class=3&sex=male"), titanicRow(3, false, -1, ""))
	checkExplained(t, b, b.post(t, path+"?explain=true", `{"class": 2, "sex": "male", "age": null}`), titanicRow(2, false, -1, ""))
	checkExplained(t, b, b.post(t, path+"?explain=true", `{"instances": [
		{"class": 1, "sex": "F", "age": 22, "embarked": "S"},
		{"class": 3, "sex": "M", "age": 40, "embarked": "Q"},
		{"class": 2, "sex": "female"}]}`),
		titanicRow(1, true, 22, "S"), titanicRow(3, false, 40, "Q"), titanicRow(2, true, -1, ""))

	// Without explain (or explain=false) the answer has no explanation.
	for _, r := range []*response{b.get(t, path+"?class=1&sex=F"), b.get(t, path+"?class=1&sex=F&explain=false")} {
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		hasKeys(t, r.body, []string{"model", "version", "predictions"}, nil)
		ans := decodeStrict[predictResponse](t, r.body, "model", "version", "predictions")
		if len(ans.Predictions) != 1 {
			t.Fatalf("%s", r.body)
		}
	}

	for _, r := range []*response{
		b.get(t, path+"?class=1&sex=F&explain=yes"),
		b.post(t, path+"?explain=maybe", `{"class": 1, "sex": "F"}`),
		b.do(t, http.MethodPost, path+"?explain=true", "text/csv", "class,sex\n1,F\n"),
	} {
		e := errAnswer(t, r, http.StatusBadRequest, "invalid_input")
		if e.Fields["explain"] == "" {
			t.Errorf("error %+v does not name the explain field", e)
		}
	}
}
