package linear

import (
	"context"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/metric"
)

func TestStratifiedFolds(t *testing.T) {
	t.Parallel()
	y := make([]int, 103)
	for i := range y {
		y[i] = i % 3
		if i%7 == 0 {
			y[i] = 0
		}
	}
	const k = 5
	fold := stratifiedFolds(y, 3, k, 42)
	if again := stratifiedFolds(y, 3, k, 42); !slices.Equal(fold, again) {
		t.Error("same seed, different folds")
	}
	if other := stratifiedFolds(y, 3, k, 43); slices.Equal(fold, other) {
		t.Error("different seed, same folds")
	}
	size := make([]int, k)
	perClass := make([][]int, 3)
	for c := range perClass {
		perClass[c] = make([]int, k)
	}
	for i, f := range fold {
		size[f]++
		perClass[y[i]][f]++
	}
	spread := func(v []int) int { return slices.Max(v) - slices.Min(v) }
	if spread(size) > 1 {
		t.Errorf("fold sizes %v", size)
	}
	for c, counts := range perClass {
		if spread(counts) > 1 {
			t.Errorf("class %d per fold %v", c, counts)
		}
	}
}

// TestCrossValidatedTitanic is the 5-fold cross-validated quality of the
// logistic model with cv-chosen C on seed_titanic, against scikit-learn's
// LogisticRegressionCV(Cs=10, cv=5) on the same design matrix (the golden
// file's cv_reference, about 0.798 accuracy and 0.848 ROC AUC with
// scikit-learn's own folds).
func TestCrossValidatedTitanic(t *testing.T) {
	t.Parallel()
	g := loadGolden(t, "seed_titanic")
	d := g.dataset()
	y, _ := checkDataset(d, d.Task)
	const k = 5
	fold := stratifiedFolds(y, 2, k, 42)
	var acc, auc float64
	var chosen []float64
	for f := range k {
		train, val := splitFold(fold, f)
		m, resolved := fitLogistic(t, subset(d, train), ml.Params{"cv": 5}, 42)
		chosen = append(chosen, resolved["C_chosen"].(float64))
		vd := subset(d, val)
		proba := ml.PredictAll(m, vd.X)
		scores, err := metric.Evaluate(metric.TaskBinary, 2, vd.Y, proba)
		if err != nil {
			t.Fatal(err)
		}
		acc += scores[metric.Accuracy] / k
		auc += scores[metric.ROCAUC] / k
	}
	t.Logf("5-fold CV: accuracy %.4f, ROC AUC %.4f (chosen C %v); sklearn LogisticRegressionCV: %.4f, %.4f",
		acc, auc, chosen, g.CVReference.Accuracy, g.CVReference.ROCAUC)
	if acc < 0.78 || auc < 0.835 {
		t.Errorf("accuracy %.4f, ROC AUC %.4f; want at least 0.78 and 0.835", acc, auc)
	}
}

func subset(d *ml.Dataset, rows []int) *ml.Dataset {
	out := &ml.Dataset{X: ml.NewMatrix(len(rows), d.X.Cols), Y: make([]float64, len(rows)),
		Features: d.Features, Task: d.Task, Classes: d.Classes}
	for i, r := range rows {
		copy(out.X.Row(i), d.X.Row(r))
		out.Y[i] = d.Y[r]
	}
	return out
}

func TestCrossValidateMetrics(t *testing.T) {
	t.Parallel()
	d := loadGolden(t, "iris").dataset()
	for _, name := range []string{"accuracy", "roc_auc", "log_loss"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr, _, err := Logistic.NewTrainer(d.Task, ml.Params{"cv": 3, "Cs": []any{0.001, 1, 100}, "cv_metric": name}, 3)
			if err != nil {
				t.Fatal(err)
			}
			mod, err := tr.Fit(context.Background(), d, nil)
			if err != nil {
				t.Fatal(err)
			}
			m := mod.(*Model)
			if m.cv == nil || len(m.cv.Scores) != 3 || m.cv.Metric != name {
				t.Fatalf("cv result %+v", m.cv)
			}
			// The smallest C underfits iris badly on every metric.
			if m.C() == 0.001 {
				t.Errorf("chose C=0.001; scores %v", m.cv.Scores)
			}
			best := slices.Index(m.cv.Cs, m.C())
			for i, s := range m.cv.Scores {
				if metric.HigherIsBetter(name) && s > m.cv.Scores[best] || !metric.HigherIsBetter(name) && s < m.cv.Scores[best] {
					t.Errorf("C %v scores %v better than chosen %v", m.cv.Cs[i], s, m.C())
				}
			}
		})
	}
}
