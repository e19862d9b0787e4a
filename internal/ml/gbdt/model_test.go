package gbdt

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

// benchData is 20 features like the synthetic benchmark's: 17 numeric,
// 3 categorical with 5, 10 and 20 levels.
func benchData(n int, seed uint64) *ml.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	d := &ml.Dataset{X: ml.NewMatrix(n, 20), Y: make([]float64, n), Features: make([]ml.Feature, 20), Task: ml.Binary, Classes: 2}
	for j := range 17 {
		d.Features[j].Name = "x"
	}
	for j, l := range []int{5, 10, 20} {
		d.Features[17+j] = ml.Feature{Name: "c", Categorical: true, Levels: l}
	}
	for i := range n {
		x := d.X.Row(i)
		for j := range 17 {
			x[j] = rng.NormFloat64()
		}
		for j, l := range []int{5, 10, 20} {
			x[17+j] = float64(rng.IntN(l))
		}
		f := x[0] - 0.8*x[1] + 0.6*x[2]*x[3] + 0.8*math.Sin(2*x[4]) + 0.5*(x[5]*x[5]-1) + 0.3*float64(int(x[18])%3-1)
		if rng.Float64() < sigmoid(f) {
			d.Y[i] = 1
		}
	}
	return d
}

var (
	benchModelOnce sync.Once
	benchModel     *Model
	benchX         ml.Matrix
)

// depth6Model is 100 trees of depth 6 on benchData, as the XGBoost
// comparison's model.
func depth6Model(t testing.TB) (*Model, ml.Matrix) {
	benchModelOnce.Do(func() {
		d := benchData(50_000, 1)
		benchModel = fit(t, d, ml.Params{"max_depth": 6, "max_leaves": 0, "learning_rate": 0.3, "l2": 1}, 1, 0)
		benchX = benchData(20_000, 2).X
	})
	return benchModel, benchX
}

func TestPredictDoesNotAllocate(t *testing.T) {
	for _, task := range []ml.Task{ml.Binary, ml.Multiclass, ml.Regression} {
		m := fit(t, synthData(1000, task, 30), ml.Params{"n_trees": 10}, 1, 1)
		x := synthData(1, task, 31).X.Row(0)
		out := make([]float64, m.Outputs())
		if a := testing.AllocsPerRun(100, func() { m.Predict(x, out) }); a != 0 {
			t.Errorf("%s: %v allocations per Predict, want 0", task, a)
		}
	}
}

func TestPredictBatchMatchesPredict(t *testing.T) {
	t.Parallel()

	for _, task := range []ml.Task{ml.Binary, ml.Multiclass, ml.Regression} {
		t.Run(string(task), func(t *testing.T) {
			t.Parallel()
			m := fit(t, synthData(2000, task, 32), ml.Params{"n_trees": 15}, 1, 2)
			X := synthData(3*predictChunk+17, task, 33).X
			// Odd values too: NaN, unseen, negative and fractional codes,
			// infinities.
			odd := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, -1, 6, 6.5, 62, 63, 64, 1e300}
			for i := 0; i < X.Rows; i += 5 {
				X.Data[i*X.Cols+i%X.Cols] = odd[i%len(odd)]
			}
			k := m.Outputs()
			for _, threads := range []int{0, 1, 3} {
				got := make([]float64, X.Rows*k)
				m.PredictBatch(X, got, threads)
				want := make([]float64, k)
				for i := range X.Rows {
					m.Predict(X.Row(i), want)
					for c := range k {
						if got[i*k+c] != want[c] {
							t.Fatalf("threads %d, row %d output %d: batch %v, single %v", threads, i, c, got[i*k+c], want[c])
						}
					}
				}
			}
		})
	}
}

func TestDecodeModelRejects(t *testing.T) {
	t.Parallel()

	m := fit(t, synthData(1000, ml.Binary, 34), ml.Params{"n_trees": 2, "max_leaves": 4}, 1, 1)
	good := string(marshal(t, m))
	if _, err := DecodeModel([]byte(good)); err != nil {
		t.Fatalf("good model: %v", err)
	}
	tests := []struct {
		name, from, to string
	}{
		{"Version", `"version":1`, `"version":2`},
		{"Format", `"format":"mlserve-gbdt"`, `"format":"other"`},
		{"UnknownField", `"task":`, `"extra":1,"task":`},
		{"Task", `"task":"binary"`, `"task":"ranking"`},
		{"Classes", `"classes":2`, `"classes":3`},
		{"ChildLoop", `"left":[1,`, `"left":[0,`},
		{"FeatureOutOfRange", `"feature":[`, `"feature":[99,`},
		{"BadFlags", `"flags":[`, `"flags":[9,`},
		{"NotJSON", `{`, `[`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(good, tt.from) {
				t.Fatalf("encoded model has no %s: %s", tt.from, good)
			}
			bad := strings.Replace(good, tt.from, tt.to, 1)
			if _, err := DecodeModel([]byte(bad)); err == nil {
				t.Errorf("decoded a model with %s", tt.to)
			}
		})
	}
}

func BenchmarkPredict(b *testing.B) {
	m, X := depth6Model(b)
	out := make([]float64, 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Predict(X.Row(i), out)
		i++
		if i == X.Rows {
			i = 0
		}
	}
}

func BenchmarkPredictBatch(b *testing.B) {
	m, X := depth6Model(b)
	out := make([]float64, X.Rows*2)
	b.ReportAllocs()
	for b.Loop() {
		m.PredictBatch(X, out, 0)
	}
	b.ReportMetric(float64(X.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
