package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

func TestLossGradients(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(8, 8))
	const n = 50
	cases := []struct {
		name    string
		task    ml.Task
		classes int
		loss    string
		// hessian is checked against the second derivative
		hessian bool
	}{
		{"LogLoss", ml.Binary, 2, LossLog, true},
		{"Softmax", ml.Multiclass, 4, LossLog, true},
		{"Squared", ml.Regression, 1, LossSquared, true},
		{"Absolute", ml.Regression, 1, LossAbsolute, false},
		{"Huber", ml.Regression, 1, LossHuber, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := newLoss(tc.task, tc.classes, tc.loss)
			if err != nil {
				t.Fatal(err)
			}
			k := l.scores()
			y := make([]float64, n)
			raw := make([]float64, n*k)
			for i := range y {
				if tc.task == ml.Regression {
					y[i] = rng.NormFloat64() * 3
				} else {
					y[i] = float64(rng.IntN(tc.classes))
				}
			}
			for i := range raw {
				raw[i] = rng.NormFloat64()
			}
			l.prepare(y, raw)
			if h, ok := l.(*huberLoss); ok {
				// Check against the loss with this round's delta.
				h.evalDelta = h.delta
			}
			gh := make([][]gradPair, k)
			for c := range gh {
				gh[c] = make([]gradPair, n)
			}
			l.gradients(y, raw, gh, 0, n)
			// Per-row loss as a function of one raw score, by finite differences.
			rowLoss := func(i int, r []float64) float64 {
				return l.eval(y[i:i+1], r[i*k:(i+1)*k])
			}
			const eps = 1e-5
			for i := range n {
				for c := range k {
					r := slices.Clone(raw)
					f0 := rowLoss(i, r)
					r[i*k+c] += eps
					fp := rowLoss(i, r)
					r[i*k+c] -= 2 * eps
					fm := rowLoss(i, r)
					g := (fp - fm) / (2 * eps)
					if got := float64(gh[c][i].g); math.Abs(got-g) > 1e-4 {
						t.Fatalf("row %d score %d: gradient %v, finite difference %v", i, c, got, g)
					}
					if tc.hessian {
						h := (fp - 2*f0 + fm) / (eps * eps)
						if got := float64(gh[c][i].h); math.Abs(got-h) > 1e-3*max(1, h) {
							t.Fatalf("row %d score %d: hessian %v, finite difference %v", i, c, got, h)
						}
					}
				}
			}
		})
	}
}

func TestLossBaseline(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(9, 9))
	for _, tc := range []struct {
		name    string
		task    ml.Task
		classes int
		loss    string
	}{
		{"LogLoss", ml.Binary, 2, LossLog},
		{"Softmax", ml.Multiclass, 3, LossLog},
		{"Squared", ml.Regression, 1, LossSquared},
		{"Absolute", ml.Regression, 1, LossAbsolute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, _ := newLoss(tc.task, tc.classes, tc.loss)
			y := make([]float64, 101)
			for i := range y {
				if tc.task == ml.Regression {
					y[i] = math.Exp(rng.NormFloat64())
				} else {
					y[i] = float64(rng.IntN(tc.classes*2) % tc.classes) // uneven classes
				}
			}
			base := l.baseline(y)
			k := l.scores()
			fill := func(b []float64) []float64 {
				raw := make([]float64, len(y)*k)
				for i := range raw {
					raw[i] = b[i%k]
				}
				return raw
			}
			best := l.eval(y, fill(base))
			for c := range k {
				for _, d := range []float64{-0.01, 0.01} {
					b := slices.Clone(base)
					b[c] += d
					if got := l.eval(y, fill(b)); got < best-1e-12 {
						t.Errorf("score %d moved by %v: loss %v below the baseline's %v", c, d, got, best)
					}
				}
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	if got := quantile([]float64{4, 1, 3, 2}, 0.5); got != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", got)
	}
	if got := quantile([]float64{0, 10}, 0.9); got != 9 {
		t.Errorf("0.9-quantile of {0, 10} = %v, want 9", got)
	}
}
