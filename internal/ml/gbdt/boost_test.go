package gbdt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

// synthData makes n rows of 6 features: four numeric (x0 with 10 % NaN),
// a 6-level categorical, and a numeric noise column. The target follows
// x0, x1, x2·x3 and whether the category is in {1, 4}.
func synthData(n int, task ml.Task, seed uint64) *ml.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	const nf = 6
	d := &ml.Dataset{
		X: ml.NewMatrix(n, nf),
		Y: make([]float64, n),
		Features: []ml.Feature{
			{Name: "x0"}, {Name: "x1"}, {Name: "x2"}, {Name: "x3"},
			{Name: "c", Categorical: true, Levels: 6}, {Name: "noise"},
		},
		Task:    task,
		Classes: map[ml.Task]int{ml.Binary: 2, ml.Multiclass: 3, ml.Regression: 1}[task],
	}
	for i := range n {
		x := d.X.Row(i)
		for j := range 4 {
			x[j] = rng.NormFloat64()
		}
		x[4] = float64(rng.IntN(6))
		x[5] = rng.NormFloat64()
		f := x[0] - 0.8*x[1] + 0.6*x[2]*x[3]
		if c := int(x[4]); c == 1 || c == 4 {
			f += 1.2
		}
		if rng.IntN(10) == 0 {
			x[0] = math.NaN()
			f -= 1 // missingness carries signal
		}
		switch task {
		case ml.Binary:
			if rng.Float64() < sigmoid(f) {
				d.Y[i] = 1
			}
		case ml.Multiclass:
			f += rng.NormFloat64() * 0.5
			switch {
			case f < -0.5:
				d.Y[i] = 0
			case f < 0.7:
				d.Y[i] = 1
			default:
				d.Y[i] = 2
			}
		default:
			d.Y[i] = 3*f + rng.NormFloat64()
		}
	}
	return d
}

func fit(t testing.TB, d *ml.Dataset, p ml.Params, seed int64, threads int) *Model {
	t.Helper()
	tr, _, err := Algorithm.NewTrainer(d.Task, p, seed)
	if err != nil {
		t.Fatal(err)
	}
	tr.(*Trainer).threads = threads
	m, err := tr.Fit(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*Model)
}

func marshal(t testing.TB, m ml.Model) []byte {
	t.Helper()
	b, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFitHandCheckedTree(t *testing.T) {
	t.Parallel()

	// One tree with learning rate 1 and no regularisation predicts the
	// mean target of each leaf; the split points are those worked out in
	// TestGrowHandChecked.
	d := &ml.Dataset{X: ml.NewMatrix(80, 1), Y: make([]float64, 80), Features: []ml.Feature{{Name: "x"}}, Task: ml.Regression, Classes: 1}
	y := []float64{1, 1, 1, 1, 5, 5, 9, 9}
	for i := range 80 {
		d.X.Data[i], d.Y[i] = float64(i%8), y[i%8]
	}
	m := fit(t, d, ml.Params{"n_trees": 1, "learning_rate": 1, "l2": 0, "min_samples_leaf": 1, "max_depth": 2, "max_leaves": 0}, 1, 1)
	out := make([]float64, 1)
	for _, tc := range []struct{ x, want float64 }{{0, 1}, {3.5, 1}, {3.6, 5}, {5.5, 5}, {6, 9}, {100, 9}, {math.NaN(), 1}} {
		m.Predict([]float64{tc.x}, out)
		if math.Abs(out[0]-tc.want) > 1e-12 {
			t.Errorf("predict(%v) = %v, want %v", tc.x, out[0], tc.want)
		}
	}
}

func TestFitDeterministicAcrossThreads(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name string
		task ml.Task
		n    int
		p    ml.Params
	}{
		// Enough rows for the parallel partition and histogram paths.
		{"BinaryDepthWise", ml.Binary, 70_000, ml.Params{"n_trees": 6, "max_depth": 6, "max_leaves": 0}},
		{"BinaryBestFirst", ml.Binary, 70_000, ml.Params{"n_trees": 4}},
		{"MulticlassSampled", ml.Multiclass, 5000, ml.Params{"n_trees": 5, "subsample": 0.7, "colsample": 0.6}},
		{"RegressionEarlyStopping", ml.Regression, 5000, ml.Params{"n_trees": 8, "early_stopping_rounds": 2, "loss": "huber"}},
		// Sampled rows (density 0.8) take the row-tile path. (float64 sums
		// of float32 gradients are mostly exact, whatever their order, so
		// TestHistogramBuild checks the order itself on wider values.)
		{"BinarySampled", ml.Binary, 70_000, ml.Params{"n_trees": 6, "max_depth": 6, "max_leaves": 0, "subsample": 0.8}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := synthData(tc.n, tc.task, 11)
			want := marshal(t, fit(t, d, tc.p, 5, 1))
			for _, threads := range []int{2, 4} {
				if got := marshal(t, fit(t, d, tc.p, 5, threads)); !bytes.Equal(got, want) {
					t.Errorf("%d threads: model bytes differ from 1 thread's", threads)
				}
			}
			if got := marshal(t, fit(t, d, tc.p, 6, 2)); bytes.Equal(got, want) && (tc.p["subsample"] != nil) {
				t.Errorf("another seed gave the same sampled model")
			}
		})
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	t.Parallel()

	for _, task := range []ml.Task{ml.Binary, ml.Multiclass, ml.Regression} {
		t.Run(string(task), func(t *testing.T) {
			t.Parallel()
			d := synthData(3000, task, 12)
			m := fit(t, d, ml.Params{"n_trees": 20}, 1, 2)
			b := marshal(t, m)
			dm, err := Algorithm.DecodeModel(b)
			if err != nil {
				t.Fatal(err)
			}
			if again := marshal(t, dm); !bytes.Equal(again, b) {
				t.Errorf("re-encoding the decoded model gives other bytes")
			}
			probe := synthData(500, task, 13).X
			// Unseen categories and NaN everywhere, too.
			for i := 0; i < probe.Rows; i += 7 {
				probe.Data[i*probe.Cols+4] = float64(6 + i%3)
				probe.Data[i*probe.Cols+(i%6)] = math.NaN()
			}
			a, c := ml.PredictAll(m, probe), ml.PredictAll(dm, probe)
			for i := range a {
				if a[i] != c[i] {
					t.Fatalf("output %d: %v before encoding, %v after", i, a[i], c[i])
				}
			}
		})
	}
}

func TestFitQualityOnSynthetic(t *testing.T) {
	t.Parallel()

	// Held-out quality on data with a known signal: the model must beat
	// the constant baseline by a wide margin.
	for _, task := range []ml.Task{ml.Binary, ml.Multiclass, ml.Regression} {
		t.Run(string(task), func(t *testing.T) {
			t.Parallel()
			train, test := synthData(8000, task, 14), synthData(2000, task, 15)
			m := fit(t, train, nil, 1, 2)
			out := ml.PredictAll(m, test.X)
			k := m.Outputs()
			switch task {
			case ml.Regression:
				var mean, sse, sst float64
				for _, v := range test.Y {
					mean += v / float64(len(test.Y))
				}
				for i, v := range test.Y {
					sse += (out[i] - v) * (out[i] - v)
					sst += (mean - v) * (mean - v)
				}
				if r2 := 1 - sse/sst; r2 < 0.7 {
					t.Errorf("R² %v, want >= 0.7", r2)
				}
			default:
				correct := 0
				for i, v := range test.Y {
					row := out[i*k : (i+1)*k]
					var s float64
					best := 0
					for c, p := range row {
						s += p
						if p > row[best] {
							best = c
						}
					}
					if math.Abs(s-1) > 1e-9 {
						t.Fatalf("row %d: probabilities sum to %v", i, s)
					}
					if best == int(v) {
						correct++
					}
				}
				if acc := float64(correct) / float64(len(test.Y)); acc < 0.7 {
					t.Errorf("accuracy %v, want >= 0.7", acc)
				}
			}
		})
	}
}

func TestFitImportance(t *testing.T) {
	t.Parallel()

	m := fit(t, synthData(5000, ml.Regression, 16), nil, 1, 2)
	imp := m.Importance()
	var sum float64
	for _, v := range imp {
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("importance sums to %v, want 1", sum)
	}
	// x0 carries the most signal, the noise column the least.
	if imp[0] <= imp[5] || imp[4] <= imp[5] {
		t.Errorf("importance %v: want x0 and the category above the noise column", imp)
	}
	if !bytes.Contains(marshal(t, m), []byte(`"importance":[`)) {
		t.Errorf("encoded model has no importance")
	}
}

func TestFitEarlyStopping(t *testing.T) {
	t.Parallel()

	// Pure noise: the validation loss stops improving almost at once.
	d := synthData(3000, ml.Regression, 17)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range d.Y {
		d.Y[i] = rng.NormFloat64()
	}
	m := fit(t, d, ml.Params{"n_trees": 200, "early_stopping_rounds": 5, "learning_rate": 0.3}, 1, 2)
	if m.Trees() >= 50 {
		t.Errorf("%d trees on noise, want early stopping well before 200", m.Trees())
	}
}

func TestFitProgressAndCancel(t *testing.T) {
	t.Parallel()

	d := synthData(2000, ml.Binary, 18)
	tr, _, err := Algorithm.NewTrainer(ml.Binary, ml.Params{"n_trees": 10}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var calls []int
	if _, err := tr.Fit(context.Background(), d, func(stage string, done, total int) {
		if stage != "trees" || total != 10 {
			t.Errorf("progress(%q, %d, %d)", stage, done, total)
		}
		calls = append(calls, done)
	}); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 10 || calls[9] != 10 {
		t.Errorf("progress calls %v, want 1..10", calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	_, err = tr.Fit(ctx, d, func(_ string, done, _ int) {
		if done == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestNewTrainerParams(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		_, p, err := Algorithm.NewTrainer(ml.Regression, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]any{"n_trees": 100, "learning_rate": 0.1, "max_leaves": 31, "max_depth": 0, "loss": LossSquared, "early_stopping_rounds": 0} {
			if p[name] != want {
				t.Errorf("%s = %v, want %v", name, p[name], want)
			}
		}
	})

	bad := []struct {
		name string
		task ml.Task
		p    ml.Params
	}{
		{"Unknown", ml.Binary, ml.Params{"n_estimators": 10}},
		{"OneLeaf", ml.Binary, ml.Params{"max_leaves": 1}},
		{"NoLimit", ml.Binary, ml.Params{"max_leaves": 0, "max_depth": 0}},
		{"RegressionLossForClassifier", ml.Binary, ml.Params{"loss": "huber"}},
		{"UnknownLoss", ml.Regression, ml.Params{"loss": "poisson"}},
		{"TooManyBins", ml.Regression, ml.Params{"max_bins": 256}},
		{"ZeroSubsample", ml.Regression, ml.Params{"subsample": 0}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var pe *ml.ParamError
			if _, _, err := Algorithm.NewTrainer(tc.task, tc.p, 1); !errors.As(err, &pe) {
				t.Errorf("got %v, want a ParamError", err)
			}
		})
	}

	t.Run("StringsFromTheCommandLine", func(t *testing.T) {
		t.Parallel()
		_, p, err := Algorithm.NewTrainer(ml.Binary, ml.Params{"n_trees": "7", "learning_rate": "0.3"}, 1)
		if err != nil || p["n_trees"] != 7 || p["learning_rate"] != 0.3 {
			t.Errorf("got %v, %v", p, err)
		}
	})
}

func TestFitRejectsOtherTask(t *testing.T) {
	t.Parallel()
	tr, _, _ := Algorithm.NewTrainer(ml.Regression, nil, 1)
	if _, err := tr.Fit(context.Background(), synthData(100, ml.Binary, 1), nil); !errors.Is(err, errTaskMismatch) {
		t.Errorf("got %v, want errTaskMismatch", err)
	}
}

func BenchmarkFit(b *testing.B) {
	d := synthData(100_000, ml.Binary, 20)
	for _, bc := range []struct {
		name string
		p    ml.Params
	}{
		{"BestFirst31Leaves", ml.Params{"n_trees": 20}},
		{"Depth6", ml.Params{"n_trees": 20, "max_depth": 6, "max_leaves": 0, "learning_rate": 0.3}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				fit(b, d, bc.p, 1, 0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(d.X.Rows*20), "ns/row/tree")
		})
	}
}
