package oip

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAppendResponse checks that the hand-written encoder writes exactly
// what encoding/json writes, and refuses what it cannot encode.
func TestAppendResponse(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "a", "survived", "<b>&amp;</b>", "é\u2028x", "quote\"back\\slash", "ctl\x01\x1f", "\xff", "日本"}
	text := func() string { return texts[rng.IntN(len(texts))] }
	floats := []float64{0, 1, -1, 0.5, 1e-7, 1e21, 123456789.125, math.SmallestNonzeroFloat64, math.MaxFloat64, -0.0}
	for i := range 2000 {
		res := &InferResponse{ModelName: text(), ModelVersion: text(), ID: text()}
		if i%17 != 0 {
			for range rng.IntN(4) {
				o := ResponseOutput{Name: text(), Datatype: text()}
				if rng.IntN(5) > 0 {
					o.Shape = []int{rng.IntN(1000), rng.IntN(3)}[:1+rng.IntN(2)]
				}
				if rng.IntN(2) == 0 {
					o.Parameters = map[string]any{}
					for range rng.IntN(3) {
						o.Parameters[text()] = text()
					}
				}
				switch rng.IntN(5) {
				case 0:
					o.Data = []float64(nil)
				case 1, 2:
					d := make([]float64, rng.IntN(6))
					for j := range d {
						d[j] = floats[rng.IntN(len(floats))] * (rng.Float64()*0.5 + 0.25)
					}
					o.Data = d
				case 3:
					d := make([]string, rng.IntN(4))
					for j := range d {
						d[j] = text()
					}
					o.Data = d
				default:
					o.Data = []string(nil)
				}
				res.Outputs = append(res.Outputs, o)
			}
		}
		want, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendResponse(nil, res)
		if !ok || string(got) != string(want) {
			t.Fatalf("case %d: ok=%v\n got %s\nwant %s", i, ok, got, want)
		}
	}
	for name, res := range map[string]*InferResponse{
		"NaN":         {Outputs: []ResponseOutput{{Data: []float64{math.NaN()}}}},
		"Inf":         {Outputs: []ResponseOutput{{Data: []float64{math.Inf(1)}}}},
		"other data":  {Outputs: []ResponseOutput{{Data: []int{1}}}},
		"other param": {Outputs: []ResponseOutput{{Parameters: map[string]any{"n": 1}, Data: []string{}}}},
	} {
		if _, ok := appendResponse(nil, res); ok {
			t.Errorf("%s: encoded, want refused", name)
		}
	}
}
