package metric

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWeightedMatchesEvaluate: a resample's counts scored by weighted give
// what Evaluate gives on the resample's rows written out, for every metric
// of every task (ties in the scores included).
func TestWeightedMatchesEvaluate(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 120
	side := func(task string, classes int) Side {
		y := make([]float64, n)
		pred := make([]float64, n*width(task, classes))
		for i := range y {
			if task == TaskRegression {
				y[i] = rng.NormFloat64()
				pred[i] = y[i] + rng.NormFloat64()
				continue
			}
			y[i] = float64(rng.IntN(classes))
			var sum float64
			for j := range classes {
				v := math.Round(4*rng.Float64()) + 0.1 // few distinct values: ties
				if j == int(y[i]) {
					v += 2
				}
				pred[i*classes+j] = v
				sum += v
			}
			for j := range classes {
				pred[i*classes+j] /= sum
			}
		}
		return Side{Y: y, Pred: pred, Classes: classes}
	}
	for _, tc := range []struct {
		task    string
		classes int
	}{{TaskBinary, 2}, {TaskMulticlass, 4}, {TaskRegression, 1}} {
		s := side(tc.task, tc.classes)
		k := width(tc.task, tc.classes)
		for r := range 20 {
			counts := make([]uint16, n)
			var y, pred []float64
			for range n {
				i := rng.IntN(n)
				counts[i]++
				y = append(y, s.Y[i])
				pred = append(pred, s.Pred[i*k:(i+1)*k]...)
			}
			want, err := Evaluate(tc.task, tc.classes, y, pred)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range Names(tc.task) {
				w, err := newWeighted(tc.task, name, s)
				if err != nil {
					t.Fatal(err)
				}
				got, err := w.score(counts)
				if err != nil {
					t.Fatalf("%s %s resample %d: %v", tc.task, name, r, err)
				}
				if math.Abs(got-want[name]) > 1e-9 {
					t.Errorf("%s %s resample %d: weighted %v, Evaluate %v", tc.task, name, r, got, want[name])
				}
			}
		}
	}
}
