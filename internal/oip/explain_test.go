package oip_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
)

// TestInferExplain asks infer for explanations (parameters.explain) on a
// binary, a multiclass and a regression model: the contributions output
// has shape [n, columns] ([n, classes, columns] for multiclass), and its
// base plus each row's contributions give the raw scores behind the
// answer's probabilities or values within 1e-9. A non-boolean explain is
// a 400 naming it.
func TestInferExplain(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{MaxBatch: 50})
	recs := []int{0, 1, 2, 3, 4, 5}
	for _, name := range []string{"titanic", "iris", "tips"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := env.Data[name]
			req := map[string]any{"inputs": tensors(t, d, recs), "parameters": map[string]any{"explain": true}}
			a := decode[inferAnswer](t, env.Do(t, "POST", "/v2/models/"+name+"/infer", "application/json", body(t, req)), 200)
			names := outputNames(a)
			if names[len(names)-1] != "contributions" {
				t.Fatalf("outputs %v, want contributions last", names)
			}
			byName := map[string]output{}
			for _, o := range a.Outputs {
				byName[o.Name] = o
			}
			c := byName["contributions"]
			var cols []string
			var base []float64
			if err := json.Unmarshal([]byte(c.Parameters["columns"].(string)), &cols); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(c.Parameters["base"].(string)), &base); err != nil {
				t.Fatal(err)
			}
			n, k := len(recs), len(base)
			wantShape := []int{n, len(cols)}
			if k > 1 {
				wantShape = []int{n, k, len(cols)}
			}
			if !slices.Equal(c.Shape, wantShape) || len(c.Data) != n*k*len(cols) || c.Datatype != "FP64" {
				t.Fatalf("contributions %s shape %v with %d values, want shape %v", c.Datatype, c.Shape, len(c.Data), wantShape)
			}
			for r := range n {
				raw := make([]float64, k)
				for s := range k {
					raw[s] = base[s]
					for j := range cols {
						raw[s] += c.Data[(r*k+s)*len(cols)+j].(float64)
					}
				}
				switch c.Parameters["link"] {
				case "identity":
					if v := byName["value"].Data[r].(float64); math.Abs(raw[0]-v) > 1e-9 {
						t.Errorf("row %d: base + contributions %v, value %v", r, raw[0], v)
					}
				case "logit":
					p1 := byName["probabilities"].Data[r*2+1].(float64)
					if lo := math.Log(p1 / (1 - p1)); math.Abs(raw[0]-lo) > 1e-9 {
						t.Errorf("row %d: base + contributions %v, log-odds %v", r, raw[0], lo)
					}
				case "softmax":
					probs := byName["probabilities"].Data[r*k : (r+1)*k]
					for s := 1; s < k; s++ {
						lo := math.Log(probs[s].(float64) / probs[0].(float64))
						if math.Abs(raw[s]-raw[0]-lo) > 1e-9 {
							t.Errorf("row %d class %d: score difference %v, log ratio %v", r, s, raw[s]-raw[0], lo)
						}
					}
				default:
					t.Fatalf("link %v", c.Parameters["link"])
				}
			}
		})
	}
	t.Run("bad explain", func(t *testing.T) {
		t.Parallel()
		req := map[string]any{"inputs": tensors(t, env.Data["titanic"], recs), "parameters": map[string]any{"explain": "yes"}}
		oipError(t, env.Do(t, "POST", "/v2/models/titanic/infer", "application/json", body(t, req)), 400, "parameters.explain")
	})
}
