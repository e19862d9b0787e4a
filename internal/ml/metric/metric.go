// Package metric scores predictions the way scikit-learn does: accuracy,
// roc_auc, log_loss, f1 and macro_f1 for classification, rmse, mae and r2
// for regression. The functions are pure; Evaluate gives the metric set of
// a task by the names pipelines use (DESIGN §3). It is a leaf package.
//
// Targets are float64 as in ml.Dataset: a class index for classification,
// the value for regression. Predictions use ml's flat output layout: per
// row, the class probabilities (Outputs values), or one regression value.
package metric

import (
	"errors"
	"fmt"
)

// Metric names.
const (
	Accuracy = "accuracy"
	ROCAUC   = "roc_auc"
	LogLoss  = "log_loss"
	F1       = "f1"
	MacroF1  = "macro_f1"
	RMSE     = "rmse"
	MAE      = "mae"
	R2       = "r2"
)

// Task names, the values of ml.Task (this package imports no internal
// package, so it takes the task as a string).
const (
	TaskBinary     = "binary"
	TaskMulticlass = "multiclass"
	TaskRegression = "regression"
)

// ErrUndefined is returned when a metric has no value for the data, as
// roc_auc when y holds a single class.
var ErrUndefined = errors.New("metric undefined")

// Names lists the metrics Evaluate returns for task, nil for an unknown
// task.
func Names(task string) []string {
	switch task {
	case TaskBinary:
		return []string{Accuracy, ROCAUC, LogLoss, F1}
	case TaskMulticlass:
		return []string{Accuracy, ROCAUC, LogLoss, MacroF1}
	case TaskRegression:
		return []string{RMSE, MAE, R2}
	}
	return nil
}

// Known reports whether name is a metric this package computes.
func Known(name string) bool {
	switch name {
	case Accuracy, ROCAUC, LogLoss, F1, MacroF1, RMSE, MAE, R2:
		return true
	}
	return false
}

// HigherIsBetter reports whether a larger value of the named metric is a
// better model: false for the losses log_loss, rmse and mae.
func HigherIsBetter(name string) bool {
	switch name {
	case LogLoss, RMSE, MAE:
		return false
	}
	return true
}

// Evaluate returns the metrics of task (see Names) for targets y and
// predictions pred in ml's flat layout: len(y)*classes probabilities for
// classification, len(y) values for regression. classes is ignored for
// regression.
//
// A metric that is undefined for the data (roc_auc when y has one class)
// is left out of the map rather than set to NaN, so the map always
// encodes as JSON. Malformed input (lengths, class indexes, task) is an
// error.
func Evaluate(task string, classes int, y, pred []float64) (map[string]float64, error) {
	if len(y) == 0 {
		return nil, errors.New("evaluate: no rows")
	}
	if task == TaskRegression {
		if len(pred) != len(y) {
			return nil, fmt.Errorf("evaluate: have %d predictions for %d rows", len(pred), len(y))
		}
		return map[string]float64{
			RMSE: RootMeanSquaredError(y, pred),
			MAE:  MeanAbsoluteError(y, pred),
			R2:   RSquared(y, pred),
		}, nil
	}
	switch {
	case task != TaskBinary && task != TaskMulticlass:
		return nil, fmt.Errorf("evaluate: unknown task %q", task)
	case task == TaskBinary && classes != 2:
		return nil, fmt.Errorf("evaluate: binary task with %d classes", classes)
	case task == TaskMulticlass && classes < 3:
		return nil, fmt.Errorf("evaluate: multiclass task with %d classes", classes)
	}
	if err := checkClassification(y, pred, classes); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	labels := Argmax(pred, classes)
	m := map[string]float64{
		Accuracy: AccuracyScore(y, labels),
		LogLoss:  LogLossScore(y, pred, classes),
	}
	var auc float64
	var err error
	if task == TaskBinary {
		m[F1] = F1Score(y, labels)
		auc, err = ROCAUCScore(y, Column(pred, classes, 1))
	} else {
		m[MacroF1] = MacroF1Score(y, labels, classes)
		auc, err = ROCAUCOvR(y, pred, classes)
	}
	switch {
	case err == nil:
		m[ROCAUC] = auc
	case !errors.Is(err, ErrUndefined):
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	return m, nil
}

// checkClassification checks that pred holds classes values per row of y
// and that every target is a class index.
func checkClassification(y, proba []float64, classes int) error {
	if classes < 2 {
		return fmt.Errorf("%d classes", classes)
	}
	if len(proba) != len(y)*classes {
		return fmt.Errorf("have %d probabilities for %d rows of %d classes", len(proba), len(y), classes)
	}
	for i, v := range y {
		if v < 0 || v >= float64(classes) || v != float64(int(v)) {
			return fmt.Errorf("target of row %d is %v, not a class index below %d", i, v, classes)
		}
	}
	return nil
}
