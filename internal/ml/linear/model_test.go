package linear

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

type fitted struct {
	m    *Model
	alg  ml.Algorithm
	data *ml.Dataset
}

// models fits one model of each kind: binary, multinomial (with CV), ridge.
func models(t testing.TB) map[string]fitted {
	t.Helper()
	out := map[string]fitted{}
	bin := loadGolden(t, "seed_titanic").dataset()
	m, _ := fitLogistic(t, bin, nil, 1)
	out["binary"] = fitted{m, Logistic, bin}
	iris := loadGolden(t, "iris").dataset()
	m, _ = fitLogistic(t, iris, ml.Params{"cv": 3, "Cs": 3}, 1)
	out["multiclass"] = fitted{m, Logistic, iris}
	tips := loadGolden(t, "tips").dataset()
	tr, _, err := Linear.NewTrainer(ml.Regression, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := tr.Fit(context.Background(), tips, nil)
	if err != nil {
		t.Fatal(err)
	}
	out["regression"] = fitted{rm.(*Model), Linear, tips}
	return out
}

func TestModelJSON(t *testing.T) {
	t.Parallel()
	for name, tc := range models(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := tc.m.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			dm, err := tc.alg.DecodeModel(b)
			if err != nil {
				t.Fatal(err)
			}
			b2, err := dm.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Errorf("re-encoded model differs:\n%s\n%s", b, b2)
			}
			got, want := ml.PredictAll(dm, tc.data.X), ml.PredictAll(tc.m, tc.data.X)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("prediction %d: decoded %v, fitted %v", i, got[i], want[i])
				}
			}
			if !strings.Contains(string(b), `"format":"mlserve.linear","version":1,"algorithm":"`+tc.alg.Name()+`"`) {
				t.Errorf("header: %.120s", b)
			}
		})
	}
}

func TestDecodeModelErrors(t *testing.T) {
	t.Parallel()
	good := `{"format":"mlserve.linear","version":1,"algorithm":"logistic","task":"binary","classes":2,` +
		`"features":["a","b"],"weights":[[1,2]],"intercepts":[0.5],"C":1}`
	if _, err := Logistic.DecodeModel([]byte(good)); err != nil {
		t.Fatalf("good model: %v", err)
	}
	tests := []struct {
		name string
		alg  ml.Algorithm
		data string
	}{
		{name: "not JSON", alg: Logistic, data: `{`},
		{name: "wrong algorithm", alg: Linear, data: good},
		{name: "version", alg: Logistic, data: strings.Replace(good, `"version":1`, `"version":2`, 1)},
		{name: "format", alg: Logistic, data: strings.Replace(good, `mlserve.linear`, `other`, 1)},
		{name: "unknown field", alg: Logistic, data: strings.Replace(good, `"C":1`, `"C":1,"extra":true`, 1)},
		{name: "weight length", alg: Logistic, data: strings.Replace(good, `[[1,2]]`, `[[1]]`, 1)},
		{name: "weight rows", alg: Logistic, data: strings.Replace(good, `[[1,2]]`, `[[1,2],[3,4]]`, 1)},
		{name: "classes", alg: Logistic, data: strings.Replace(good, `"classes":2`, `"classes":3`, 1)},
		{name: "task", alg: Logistic, data: strings.Replace(good, `"binary"`, `"regression"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.alg.DecodeModel([]byte(tt.data))
			if err == nil {
				t.Error("no error")
			}
			if m != nil {
				t.Errorf("model %v with error", m)
			}
		})
	}
}

func TestPredict(t *testing.T) {
	t.Parallel()
	for name, tc := range models(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, d := tc.m, tc.data
			k := m.Outputs()
			if want := ml.Outputs(d.Task, d.Classes); k != want {
				t.Fatalf("Outputs %d, want %d", k, want)
			}
			out := make([]float64, k)
			batch := make([]float64, d.X.Rows*k)
			m.PredictBatch(d.X, batch, 0)
			for i := range d.X.Rows {
				m.Predict(d.X.Row(i), out)
				for j := range out {
					if out[j] != batch[i*k+j] {
						t.Fatalf("row %d: Predict %v, PredictBatch %v", i, out, batch[i*k:(i+1)*k])
					}
				}
				if d.Task != ml.Regression {
					var sum float64
					for _, p := range out {
						sum += p
					}
					if math.Abs(sum-1) > 1e-12 {
						t.Fatalf("row %d: probabilities %v sum to %v", i, out, sum)
					}
				}
			}
		})
	}
}

// TestPredictAllocs is not parallel: AllocsPerRun must not be.
func TestPredictAllocs(t *testing.T) {
	for name, tc := range models(t) {
		out := make([]float64, tc.m.Outputs())
		x := tc.data.X.Row(3)
		if allocs := testing.AllocsPerRun(100, func() { tc.m.Predict(x, out) }); allocs != 0 {
			t.Errorf("%s: Predict allocates %v times", name, allocs)
		}
	}
}

func TestPredictBatchLarge(t *testing.T) {
	t.Parallel()
	d := synthetic(3*batchChunk+5, 4, 3, 9)
	m, _ := fitLogistic(t, d, nil, 1)
	for _, threads := range []int{0, 1, 3} {
		batch := make([]float64, d.X.Rows*3)
		m.PredictBatch(d.X, batch, threads)
		out := make([]float64, 3)
		for i := range d.X.Rows {
			m.Predict(d.X.Row(i), out)
			for j := range out {
				if out[j] != batch[i*3+j] {
					t.Fatalf("threads %d, row %d: Predict %v, PredictBatch %v", threads, i, out, batch[i*3:i*3+3])
				}
			}
		}
	}
	for _, tc := range []struct{ threads, chunks, want int }{{1, 4, 1}, {3, 4, 3}, {8, 4, 4}, {0, 1, 1}} {
		if got := batchWorkers(tc.threads, tc.chunks); got != tc.want {
			t.Errorf("batchWorkers(%d, %d) = %d, want %d", tc.threads, tc.chunks, got, tc.want)
		}
	}
}

func TestPredictExtremes(t *testing.T) {
	t.Parallel()
	m := &Model{algorithm: logisticName, task: ml.Binary, classes: 2, p: 1, weights: []float64{1}, intercepts: []float64{0}}
	out := make([]float64, 2)
	for _, x := range []float64{-1000, -40, 0, 40, 1000} {
		m.Predict([]float64{x}, out)
		if math.IsNaN(out[0]) || math.IsNaN(out[1]) || out[0] < 0 || out[1] < 0 || math.Abs(out[0]+out[1]-1) > 1e-15 {
			t.Errorf("x=%v: %v", x, out)
		}
	}
	mm := &Model{algorithm: logisticName, task: ml.Multiclass, classes: 3, p: 1, weights: []float64{1000, 0, -1000}, intercepts: []float64{0, 0, 0}}
	out = make([]float64, 3)
	mm.Predict([]float64{5}, out)
	if out[0] != 1 || out[1] != 0 || out[2] != 0 {
		t.Errorf("softmax of large logits: %v", out)
	}
}
