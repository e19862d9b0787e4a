package oip

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// referenceResponse builds the InferResponse an answer stands for, as the
// infer route built it before appendAnswer (encoding/json wrote it then).
func referenceResponse(a *answer) *InferResponse {
	n, k := len(a.preds)/a.k, a.k
	res := &InferResponse{ModelName: a.model, ModelVersion: strconv.Itoa(a.version), ID: a.id, Outputs: []ResponseOutput{}}
	for _, name := range a.outputs {
		switch name {
		case OutputValue:
			res.Outputs = append(res.Outputs, ResponseOutput{Name: name, Datatype: FP64, Shape: []int{n}, Data: a.preds})
		case OutputProbabilities:
			classes, _ := json.Marshal(a.classes)
			res.Outputs = append(res.Outputs, ResponseOutput{Name: name, Datatype: FP64, Shape: []int{n, k}, Data: a.preds,
				Parameters: map[string]any{"classes": string(classes)}})
		case OutputLabel:
			labels := make([]string, n)
			for i := range n {
				row := a.preds[i*k : (i+1)*k]
				best := 0
				for j := range row {
					if row[j] > row[best] {
						best = j
					}
				}
				labels[i] = a.classes[best]
			}
			res.Outputs = append(res.Outputs, ResponseOutput{Name: name, Datatype: BYTES, Shape: []int{n}, Data: labels})
		}
	}
	return res
}

// TestAppendAnswer checks that the hand-written encoder writes exactly
// what encoding/json writes for the response, and refuses NaN and
// infinities.
func TestAppendAnswer(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "a", "survived", "<b>&amp;</b>", "é\u2028x", "quote\"back\\slash", "ctl\x01\x1f", "\xff", "日本"}
	text := func() string { return texts[rng.IntN(len(texts))] }
	floats := []float64{0, 1, -1, 0.5, 1e-7, 1e21, 123456789.125, math.SmallestNonzeroFloat64, math.MaxFloat64, math.Copysign(0, -1)}
	var tmp []byte
	for i := range 3000 {
		a := &answer{model: text(), version: rng.IntN(2_000_000), id: text()}
		n := 1 + rng.IntN(5)
		if rng.IntN(3) == 0 {
			a.k, a.outputs = 1, regressorOutputs
		} else {
			a.k = 2 + rng.IntN(3)
			for range a.k {
				a.classes = append(a.classes, text())
			}
			a.outputs = [][]string{classifierOutputs, {OutputProbabilities, OutputLabel}, {OutputLabel}, {OutputProbabilities}}[rng.IntN(4)]
		}
		a.preds = make([]float64, n*a.k)
		for j := range a.preds {
			a.preds[j] = floats[rng.IntN(len(floats))] * (rng.Float64()*0.5 + 0.25)
		}
		want, err := json.Marshal(referenceResponse(a))
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		var ok bool
		got, tmp, ok = appendAnswer(nil, a, tmp)
		if !ok || string(got) != string(want) {
			t.Fatalf("case %d: ok=%v\n got %s\nwant %s", i, ok, got, want)
		}
	}
	for name, f := range map[string]float64{"NaN": math.NaN(), "+Inf": math.Inf(1), "-Inf": math.Inf(-1)} {
		a := &answer{model: "m", version: 1, outputs: regressorOutputs, preds: []float64{1, f}, k: 1}
		if _, _, ok := appendAnswer(nil, a, nil); ok {
			t.Errorf("%s: encoded, want refused", name)
		}
	}
}
