package linear

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

// synthetic makes a classification dataset of n rows, p standard normal
// features and a linear-softmax target over classes.
func synthetic(n, p, classes int, seed uint64) *ml.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	task := ml.Binary
	if classes > 2 {
		task = ml.Multiclass
	}
	d := &ml.Dataset{X: ml.NewMatrix(n, p), Y: make([]float64, n), Task: task, Classes: classes}
	for j := range p {
		d.Features = append(d.Features, ml.Feature{Name: string(rune('a' + j%26))})
	}
	w := make([]float64, classes*p)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	z := make([]float64, classes)
	for i := range n {
		x := d.X.Row(i)
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		for k := range classes {
			z[k] = dot(w[k*p:(k+1)*p], x) + rng.NormFloat64()
		}
		d.Y[i] = float64(argmax(z))
	}
	return d
}

func argmax(v []float64) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

func TestLogisticParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		task    ml.Task
		params  ml.Params
		want    ml.Params
		wantErr bool
	}{
		{name: "defaults", task: ml.Binary, want: ml.Params{"C": 1.0, "max_iter": 1000, "tol": 1e-8, "cv": 0}},
		{name: "given", task: ml.Multiclass, params: ml.Params{"C": "0.5", "max_iter": 50, "tol": 1e-6},
			want: ml.Params{"C": 0.5, "max_iter": 50, "tol": 1e-6, "cv": 0}},
		{name: "cv default grid", task: ml.Binary, params: ml.Params{"cv": 5},
			want: ml.Params{"max_iter": 1000, "tol": 1e-8, "cv": 5, "cv_metric": "accuracy", "Cs": logspace(-4, 4, 10)}},
		{name: "cv grid size", task: ml.Binary, params: ml.Params{"cv": 3, "Cs": 3, "cv_metric": "roc_auc"},
			want: ml.Params{"max_iter": 1000, "tol": 1e-8, "cv": 3, "cv_metric": "roc_auc", "Cs": []float64{1e-4, 1, 1e4}}},
		{name: "cv grid size as text", task: ml.Binary, params: ml.Params{"cv": "3", "Cs": "3"},
			want: ml.Params{"max_iter": 1000, "tol": 1e-8, "cv": 3, "cv_metric": "accuracy", "Cs": []float64{1e-4, 1, 1e4}}},
		{name: "cv grid list", task: ml.Binary, params: ml.Params{"cv": 3, "Cs": []any{0.1, 1, 10.0}},
			want: ml.Params{"max_iter": 1000, "tol": 1e-8, "cv": 3, "cv_metric": "accuracy", "Cs": []float64{0.1, 1, 10}}},
		{name: "cv grid list as text", task: ml.Binary, params: ml.Params{"cv": 3, "Cs": "0.1, 1,10"},
			want: ml.Params{"max_iter": 1000, "tol": 1e-8, "cv": 3, "cv_metric": "accuracy", "Cs": []float64{0.1, 1, 10}}},
		{name: "one-value list", task: ml.Binary, params: ml.Params{"cv": 3, "Cs": []any{10}},
			want: ml.Params{"max_iter": 1000, "tol": 1e-8, "cv": 3, "cv_metric": "accuracy", "Cs": []float64{10}}},
		{name: "unknown param", task: ml.Binary, params: ml.Params{"penalty": "l1"}, wantErr: true},
		{name: "C zero", task: ml.Binary, params: ml.Params{"C": 0}, wantErr: true},
		{name: "C not a number", task: ml.Binary, params: ml.Params{"C": "big"}, wantErr: true},
		{name: "cv 1", task: ml.Binary, params: ml.Params{"cv": 1}, wantErr: true},
		{name: "C with cv", task: ml.Binary, params: ml.Params{"cv": 5, "C": 1}, wantErr: true},
		{name: "Cs without cv", task: ml.Binary, params: ml.Params{"Cs": 5}, wantErr: true},
		{name: "cv_metric without cv", task: ml.Binary, params: ml.Params{"cv_metric": "roc_auc"}, wantErr: true},
		{name: "bad cv_metric", task: ml.Binary, params: ml.Params{"cv": 5, "cv_metric": "f1"}, wantErr: true},
		{name: "fractional grid size", task: ml.Binary, params: ml.Params{"cv": 5, "Cs": 2.5}, wantErr: true},
		{name: "negative grid value", task: ml.Binary, params: ml.Params{"cv": 5, "Cs": []any{1, -1}}, wantErr: true},
		{name: "empty grid", task: ml.Binary, params: ml.Params{"cv": 5, "Cs": []any{}}, wantErr: true},
		{name: "regression", task: ml.Regression, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, got, err := Logistic.NewTrainer(tt.task, tt.params, 1)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error; resolved %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkParams(t, got, tt.want)
		})
	}
}

func checkParams(t *testing.T, got, want ml.Params) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, w := range want {
		g, ok := got[k]
		if ws, isSlice := w.([]float64); isSlice {
			gs, _ := g.([]float64)
			if !slices.EqualFunc(gs, ws, func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*b }) {
				t.Errorf("%s = %v, want %v", k, g, w)
			}
			continue
		}
		if !ok || g != w {
			t.Errorf("%s = %v (%T), want %v (%T)", k, g, g, w, w)
		}
	}
}

func TestLogspace(t *testing.T) {
	t.Parallel()
	// numpy.logspace(-4, 4, 10).
	want := []float64{9.999999999999999e-05, 0.000774263682681127, 0.005994842503189409, 0.046415888336127774,
		0.3593813663804626, 2.782559402207126, 21.54434690031882, 166.81005372000556, 1291.5496650148827, 10000.0}
	got := logspace(-4, 4, 10)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-14*want[i] {
			t.Errorf("value %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if got := logspace(-4, 4, 1); len(got) != 1 || got[0] != 1e-4 {
		t.Errorf("n=1: got %v", got)
	}
}

func TestLogisticAlgorithm(t *testing.T) {
	t.Parallel()
	if Logistic.Name() != "logistic" || Logistic.Input() != ml.OneHot {
		t.Errorf("name %q input %q", Logistic.Name(), Logistic.Input())
	}
	for task, want := range map[ml.Task]bool{ml.Binary: true, ml.Multiclass: true, ml.Regression: false} {
		if got := Logistic.Supports(task); got != want {
			t.Errorf("Supports(%s) = %v", task, got)
		}
	}
}

func fitLogistic(t testing.TB, d *ml.Dataset, params ml.Params, seed int64) (*Model, ml.Params) {
	t.Helper()
	tr, resolved, err := Logistic.NewTrainer(d.Task, params, seed)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tr.Fit(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*Model), resolved
}

func TestLogisticFitErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		task   ml.Task
		params ml.Params
		mod    func(d *ml.Dataset)
	}{
		{name: "task mismatch", task: ml.Multiclass, mod: func(*ml.Dataset) {}},
		{name: "NaN feature", task: ml.Binary, mod: func(d *ml.Dataset) { d.X.Data[7] = math.NaN() }},
		{name: "one class", task: ml.Binary, mod: func(d *ml.Dataset) { clear(d.Y) }},
		{name: "invalid dataset", task: ml.Binary, mod: func(d *ml.Dataset) { d.Y = d.Y[1:] }},
		{name: "too few rows of a class for cv", task: ml.Binary, params: ml.Params{"cv": 5},
			mod: func(d *ml.Dataset) {
				clear(d.Y)
				d.Y[0], d.Y[1] = 1, 1
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := synthetic(100, 3, 2, 1)
			tt.mod(d)
			tr, _, err := Logistic.NewTrainer(tt.task, tt.params, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Fit(context.Background(), d, nil); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestLogisticCancel(t *testing.T) {
	t.Parallel()
	d := synthetic(3000, 20, 3, 2)
	for _, params := range []ml.Params{{"tol": 0}, {"cv": 3, "tol": 0}} {
		tr, _, err := Logistic.NewTrainer(d.Task, params, 1)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := tr.Fit(ctx, d, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("%v: err = %v, want context.Canceled", params, err)
		}
	}
}

// TestObjectiveChunking checks that the objective, summed over chunks,
// does not depend on the number of workers.
func TestObjectiveChunking(t *testing.T) {
	t.Parallel()
	for _, classes := range []int{2, 4} {
		d := synthetic(3*chunkRows+17, 6, classes, 3)
		y, err := checkDataset(d, d.Task)
		if err != nil {
			t.Fatal(err)
		}
		blocks := 1
		if classes > 2 {
			blocks = classes
		}
		theta := make([]float64, blocks*(d.X.Cols+1))
		for i := range theta {
			theta[i] = 0.1 * float64(i%5-2)
		}
		var fs []float64
		var grads [][]float64
		for _, workers := range []int{1, 2, 3, 8} {
			o := newObjective(d.X, y, allRows(d.X.Rows), blocks, 0.7, workers)
			g := make([]float64, len(theta))
			fs = append(fs, o.Func(theta))
			o.Grad(g, theta)
			grads = append(grads, g)
		}
		for i := 1; i < len(fs); i++ {
			if fs[i] != fs[0] || !slices.Equal(grads[i], grads[0]) {
				t.Errorf("classes %d: workers run %d differs: f %v vs %v", classes, i, fs[i], fs[0])
			}
		}
	}
}

// TestObjectiveGradient checks the analytic gradient against central
// differences.
func TestObjectiveGradient(t *testing.T) {
	t.Parallel()
	for _, classes := range []int{2, 3} {
		d := synthetic(200, 4, classes, 4)
		y, _ := checkDataset(d, d.Task)
		blocks := 1
		if classes > 2 {
			blocks = classes
		}
		o := newObjective(d.X, y, allRows(d.X.Rows), blocks, 0.3, 1)
		theta := make([]float64, o.dim())
		for i := range theta {
			theta[i] = 0.2 * float64(i%3-1)
		}
		g := make([]float64, len(theta))
		o.Grad(g, theta)
		for i := range theta {
			const h = 1e-6
			tp, tm := slices.Clone(theta), slices.Clone(theta)
			tp[i] += h
			tm[i] -= h
			num := (o.Func(tp) - o.Func(tm)) / (2 * h)
			if math.Abs(num-g[i]) > 1e-7 {
				t.Errorf("classes %d, component %d: analytic %v, numeric %v", classes, i, g[i], num)
			}
		}
	}
}

// TestLogisticDeterministic fits with cross-validation under different
// GOMAXPROCS and requires identical model bytes. Not parallel: it sets
// GOMAXPROCS.
func TestLogisticDeterministic(t *testing.T) {
	d := synthetic(5000, 8, 3, 5)
	params := ml.Params{"cv": 4, "Cs": 4}
	var encoded [][]byte
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		m, resolved := fitLogistic(t, d, params, 7)
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, b)
		if resolved["C_chosen"] != m.C() {
			t.Errorf("C_chosen %v, model C %v", resolved["C_chosen"], m.C())
		}
	}
	for i := 1; i < len(encoded); i++ {
		if string(encoded[i]) != string(encoded[0]) {
			t.Errorf("model %d differs:\n%s\n%s", i, encoded[i], encoded[0])
		}
	}
}

func TestLogisticProgress(t *testing.T) {
	t.Parallel()
	d := synthetic(400, 3, 2, 6)
	tr, _, err := Logistic.NewTrainer(d.Task, ml.Params{"cv": 3, "Cs": 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var cv []int
	var fit int
	_, err = tr.Fit(context.Background(), d, func(stage string, done, total int) {
		switch stage {
		case "cv":
			if total != 12 {
				t.Errorf("cv total %d, want 12", total)
			}
			cv = append(cv, done)
		case "fit":
			fit++
		default:
			t.Errorf("stage %q", stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if !slices.Equal(cv, want) || fit != 2 {
		t.Errorf("cv progress %v, fit reports %d", cv, fit)
	}
}
