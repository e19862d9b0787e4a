package metric_test

import (
	"math/rand/v2"
	"testing"

	"github.com/mlserve/mlserve/internal/ml/metric"
)

// binarySide builds n rows of binary targets and probabilities whose
// positive-class score is the target plus noise of the given size.
func binarySide(y []float64, noise float64, rng *rand.Rand) metric.Side {
	pred := make([]float64, 2*len(y))
	for i, v := range y {
		p := min(1, max(0, 0.25+0.5*v+noise*(rng.Float64()-0.5)))
		pred[2*i], pred[2*i+1] = 1-p, p
	}
	return metric.Side{Y: y, Pred: pred, Classes: 2}
}

func TestPairedBootstrap(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 300)
	for i := range y {
		y[i] = float64(rng.IntN(2))
	}
	good, bad := binarySide(y, 0.6, rng), binarySide(y, 1.6, rng)
	run := func(a, b metric.Side, name string) *metric.Paired {
		t.Helper()
		p, err := metric.PairedBootstrap(&metric.PairedParams{Task: metric.TaskBinary, Metric: name, A: a, B: b, Resamples: 500, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("SameModelNeverWins", func(t *testing.T) {
		t.Parallel()
		p := run(good, good, metric.ROCAUC)
		if p.A != p.B || p.WinShare != 0 || p.DiffMean != 0 || p.DiffP05 != 0 || p.DiffP95 != 0 || p.Resamples != 500 {
			t.Fatalf("same model: %+v, want no difference and no wins", *p)
		}
	})
	t.Run("BetterWinsBothWays", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{metric.ROCAUC, metric.LogLoss} {
			p := run(good, bad, name)
			if p.WinShare < 0.99 || p.DiffP05 <= 0 || !(p.DiffP05 <= p.DiffMean && p.DiffMean <= p.DiffP95) {
				t.Errorf("%s: better model: %+v, want it to win nearly every resample with a positive interval", name, *p)
			}
			if q := run(bad, good, name); q.WinShare > 0.01 || q.DiffP95 >= 0 {
				t.Errorf("%s: worse model: %+v, want it to lose nearly every resample", name, *q)
			}
		}
	})
	t.Run("DeterministicForASeed", func(t *testing.T) {
		t.Parallel()
		if a, b := run(good, bad, metric.Accuracy), run(good, bad, metric.Accuracy); *a != *b {
			t.Fatalf("same seed: %+v then %+v", *a, *b)
		}
	})
	t.Run("MismatchedRows", func(t *testing.T) {
		t.Parallel()
		short := metric.Side{Y: y[:10], Pred: good.Pred[:20], Classes: 2}
		if _, err := metric.PairedBootstrap(&metric.PairedParams{Task: metric.TaskBinary, Metric: metric.ROCAUC, A: good, B: short, Resamples: 10}); err == nil {
			t.Fatal("rows of different lengths: no error")
		}
	})
}

func TestResamplesFor(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]int{0: 0, 178: 1000, 20_000: 1000, 40_000: 500, 1_000_000: 200} {
		if got := metric.ResamplesFor(n); got != want {
			t.Errorf("ResamplesFor(%d) = %d, want %d", n, got, want)
		}
	}
}
