package metric

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// The "sklearn" values below were computed once with scikit-learn 1.2.1
// (Debian 12's python3-sklearn), e.g. roc_auc_score(y, s); log_loss always
// with eps=1e-15.

var (
	binY     = []float64{0, 0, 1, 1, 1, 0, 1, 0}
	binScore = []float64{0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9, 0.2}

	mcY     = []float64{0, 1, 2, 2, 1, 0, 2}
	mcProba = []float64{
		0.7, 0.2, 0.1,
		0.2, 0.5, 0.3,
		0.1, 0.3, 0.6,
		0.3, 0.4, 0.3,
		0.25, 0.25, 0.5,
		0.6, 0.3, 0.1,
		0.1, 0.1, 0.8,
	}
)

func binProba(score []float64) []float64 {
	out := make([]float64, 0, 2*len(score))
	for _, p := range score {
		out = append(out, 1-p, p)
	}
	return out
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestROCAUCScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		y, s  []float64
		want  float64
		undef bool
	}{
		// 13 of 16 pairs ranked right, counting the two 0.4/0.4 ties as ½.
		{name: "ties", y: binY, s: binScore, want: 0.8125},
		{name: "all tied", y: []float64{1, 0, 1, 0}, s: []float64{0.5, 0.5, 0.5, 0.5}, want: 0.5},
		{name: "perfect", y: []float64{0, 0, 1}, s: []float64{0.1, 0.2, 0.3}, want: 1},
		{name: "reversed", y: []float64{1, 1, 0}, s: []float64{0.1, 0.2, 0.3}, want: 0},
		{name: "one class", y: []float64{1, 1}, s: []float64{0.1, 0.2}, undef: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ROCAUCScore(tt.y, tt.s)
			if tt.undef {
				if !errors.Is(err, ErrUndefined) {
					t.Fatalf("err = %v, want ErrUndefined", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want, 1e-15) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("NaN score", func(t *testing.T) {
		t.Parallel()
		_, err := ROCAUCScore([]float64{0, 1}, []float64{math.NaN(), 1})
		if err == nil || errors.Is(err, ErrUndefined) {
			t.Errorf("err = %v, want a NaN error", err)
		}
	})
}

func TestROCAUCOvR(t *testing.T) {
	t.Parallel()
	t.Run("sklearn", func(t *testing.T) {
		t.Parallel()
		got, err := ROCAUCOvR(mcY, mcProba, 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := 0.8583333333333334; !near(got, want, 1e-15) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("class absent from y", func(t *testing.T) {
		t.Parallel()
		// Class 2 never occurs: the mean is over classes 0 and 1, each
		// perfectly ranked by its own column.
		y := []float64{0, 1, 0, 1}
		p := []float64{0.8, 0.1, 0.1, 0.1, 0.7, 0.2, 0.6, 0.3, 0.1, 0.2, 0.5, 0.3}
		got, err := ROCAUCOvR(y, p, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got != 1 {
			t.Errorf("got %v, want 1", got)
		}
	})
	t.Run("one class", func(t *testing.T) {
		t.Parallel()
		_, err := ROCAUCOvR([]float64{2, 2}, []float64{0.1, 0.1, 0.8, 0.2, 0.2, 0.6}, 3)
		if !errors.Is(err, ErrUndefined) {
			t.Errorf("err = %v, want ErrUndefined", err)
		}
	})
}

func TestClassification(t *testing.T) {
	t.Parallel()
	binPred := Argmax(binProba(binScore), 2) // [0 0 0 1 0 0 1 0]: 0.4 is below 0.5
	mcPred := Argmax(mcProba, 3)             // [0 1 2 1 2 0 2]
	tests := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{name: "accuracy binary", got: AccuracyScore(binY, binPred), want: 0.75},
		{name: "accuracy multiclass", got: AccuracyScore(mcY, mcPred), want: 5.0 / 7},
		// tp=2, fp=0, fn=2: 4/6.
		{name: "f1", got: F1Score(binY, binPred), want: 2.0 / 3},
		{name: "f1 no positives", got: F1Score([]float64{0, 0}, []int{0, 0}), want: 0},
		// Per class 1, 0.5, 2/3 (sklearn 0.7222222222222222).
		{name: "macro f1", got: MacroF1Score(mcY, mcPred, 3), want: 0.7222222222222222, tol: 1e-15},
		// Class 2 occurs in neither y nor pred: mean of 2/3 and 0.8 (sklearn 0.7333333333333334).
		{name: "macro f1 absent class", got: MacroF1Score([]float64{0, 0, 1, 1}, []int{0, 1, 1, 1}, 3), want: 0.7333333333333334, tol: 1e-15},
		{name: "log loss binary sklearn", got: LogLossScore(binY, binProba(binScore), 2), want: 0.45559652973111076, tol: 1e-15},
		{name: "log loss multiclass sklearn", got: LogLossScore(mcY, mcProba, 3), want: 0.6978405841129565, tol: 1e-15},
		// Clipped: a certain wrong answer costs -log(1e-15), a certain right one -log(1-1e-15).
		{name: "log loss clip wrong", got: LogLossScore([]float64{1, 0}, []float64{1, 0, 0, 1}, 2), want: 34.538776394910684, tol: 1e-12},
		{name: "log loss clip right", got: LogLossScore([]float64{0, 1}, []float64{1, 0, 0, 1}, 2), want: 9.992007221626415e-16, tol: 1e-30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !near(tt.got, tt.want, tt.tol) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestRegression(t *testing.T) {
	t.Parallel()
	y := []float64{3, -0.5, 2, 7}
	p := []float64{2.5, 0, 2, 8}
	tests := []struct {
		name      string
		got, want float64
	}{
		// sklearn: 0.6123724356957945, 0.5, 0.9486081370449679.
		{name: "rmse", got: RootMeanSquaredError(y, p), want: math.Sqrt(1.5 / 4)},
		{name: "mae", got: MeanAbsoluteError(y, p), want: 0.5},
		{name: "r2", got: RSquared(y, p), want: 0.9486081370449679},
		{name: "r2 constant perfect", got: RSquared([]float64{2, 2, 2}, []float64{2, 2, 2}), want: 1},
		{name: "r2 constant imperfect", got: RSquared([]float64{2, 2, 2}, []float64{1, 2, 2}), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !near(tt.got, tt.want, 1e-15) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	t.Run("binary", func(t *testing.T) {
		t.Parallel()
		m, err := Evaluate(TaskBinary, 2, binY, binProba(binScore))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{Accuracy: 0.75, ROCAUC: 0.8125, LogLoss: 0.45559652973111076, F1: 2.0 / 3}
		checkMap(t, m, want)
	})
	t.Run("multiclass", func(t *testing.T) {
		t.Parallel()
		m, err := Evaluate(TaskMulticlass, 3, mcY, mcProba)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{Accuracy: 5.0 / 7, ROCAUC: 0.8583333333333334, LogLoss: 0.6978405841129565, MacroF1: 0.7222222222222222}
		checkMap(t, m, want)
	})
	t.Run("regression", func(t *testing.T) {
		t.Parallel()
		m, err := Evaluate(TaskRegression, 0, []float64{3, -0.5, 2, 7}, []float64{2.5, 0, 2, 8})
		if err != nil {
			t.Fatal(err)
		}
		checkMap(t, m, map[string]float64{RMSE: 0.6123724356957945, MAE: 0.5, R2: 0.9486081370449679})
	})
	t.Run("undefined auc left out", func(t *testing.T) {
		t.Parallel()
		m, err := Evaluate(TaskBinary, 2, []float64{1, 1}, []float64{0.2, 0.8, 0.6, 0.4})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m[ROCAUC]; ok {
			t.Errorf("roc_auc present: %v", m)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Errorf("marshal: %v", err)
		}
	})
	errCases := []struct {
		name    string
		task    string
		classes int
		y, pred []float64
	}{
		{name: "no rows", task: TaskBinary, classes: 2},
		{name: "unknown task", task: "ranking", classes: 2, y: []float64{0}, pred: []float64{1, 0}},
		{name: "binary with 3 classes", task: TaskBinary, classes: 3, y: []float64{0}, pred: []float64{1, 0, 0}},
		{name: "multiclass with 2 classes", task: TaskMulticlass, classes: 2, y: []float64{0}, pred: []float64{1, 0}},
		{name: "short pred", task: TaskBinary, classes: 2, y: []float64{0, 1}, pred: []float64{1, 0}},
		{name: "bad class index", task: TaskBinary, classes: 2, y: []float64{2}, pred: []float64{1, 0}},
		{name: "fractional class", task: TaskBinary, classes: 2, y: []float64{0.5}, pred: []float64{1, 0}},
		{name: "regression lengths", task: TaskRegression, y: []float64{1, 2}, pred: []float64{1}},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Evaluate(tt.task, tt.classes, tt.y, tt.pred); err == nil {
				t.Error("no error")
			}
		})
	}
}

func checkMap(t *testing.T, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !near(g, w, 1e-15) {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for _, task := range []string{TaskBinary, TaskMulticlass, TaskRegression} {
		for _, n := range Names(task) {
			if !Known(n) {
				t.Errorf("%s: %s not Known", task, n)
			}
		}
	}
	lower := map[string]bool{LogLoss: true, RMSE: true, MAE: true}
	for _, n := range []string{Accuracy, ROCAUC, LogLoss, F1, MacroF1, RMSE, MAE, R2} {
		if got := HigherIsBetter(n); got == lower[n] {
			t.Errorf("HigherIsBetter(%s) = %v", n, got)
		}
	}
}
