package cli

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/mlserve/mlserve/internal/sampledata"
)

// TestPredictExplain trains the titanic example and asks `mlserve
// predict --explain`: the answer carries one contribution per input
// column, and base + Σ contributions is the log-odds of its P(1).
func TestPredictExplain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init"},
		{"ingest-file", "titanic", sampledata.Path(sampledata.SeedTitanic)},
		{"train", "titanic", "--wait"},
	} {
		if code, _, stderr := run(t, dir, args...); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	code, stdout, stderr := run(t, dir, "predict", "titanic", "class=1", "sex=female", "age=22", "--explain")
	if code != ExitOK {
		t.Fatalf("predict --explain: exit %d: %s", code, stderr)
	}
	var ans struct {
		Predictions []struct {
			Probabilities map[string]float64 `json:"probabilities"`
			Explanation   *struct {
				Base          float64            `json:"base"`
				Contributions map[string]float64 `json:"contributions"`
				Link          string             `json:"link"`
			} `json:"explanation"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(stdout), &ans); err != nil || len(ans.Predictions) != 1 || ans.Predictions[0].Explanation == nil {
		t.Fatalf("predict --explain answered %s (%v), want one prediction with an explanation", stdout, err)
	}
	p := ans.Predictions[0]
	e := p.Explanation
	sum := e.Base
	for _, c := range e.Contributions {
		sum += c
	}
	p1 := p.Probabilities["1"]
	if len(e.Contributions) != 4 || e.Link != "logit" || math.Abs(sum-math.Log(p1/(1-p1))) > 1e-9 {
		t.Fatalf("explanation %+v: want 4 columns, link logit, summing to the log-odds %v", e, math.Log(p1/(1-p1)))
	}
}
