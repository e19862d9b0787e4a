// Package ml holds the types that training algorithms share: the dense
// matrix they read, the task they solve, and the Trainer and Model interfaces
// every algorithm implements. It is a leaf package.
package ml

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Task is the kind of problem a model solves.
type Task string

// Tasks.
const (
	Binary     Task = "binary"
	Multiclass Task = "multiclass"
	Regression Task = "regression"
)

// Matrix is a dense row-major matrix of float64. A missing value is NaN.
type Matrix struct {
	Rows, Cols int
	Data       []float64 // len Rows*Cols
}

// NewMatrix allocates a zeroed rows × cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// Row returns row i as a slice aliasing the matrix.
func (m Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols] }

// At returns element (i, j).
func (m Matrix) At(i, j int) float64 { return m.Data[i*m.Cols+j] }

// Feature describes one input column of a Matrix.
type Feature struct {
	// Name of the feature (a schema column, or column=level for one-hot).
	Name string `json:"name"`
	// Categorical is true when the values are category codes 0..Levels-1
	// (NaN for missing) that an algorithm may split natively.
	Categorical bool `json:"categorical,omitempty"`
	// Levels is the number of category codes of a categorical feature.
	Levels int `json:"levels,omitempty"`
}

// Dataset is what a Trainer fits: features, targets and their meaning.
type Dataset struct {
	X        Matrix
	Y        []float64 // class index (0..Classes-1) or regression target
	Features []Feature // len X.Cols
	Task     Task
	Classes  int // number of classes for classification, 1 for regression
}

// Validate checks that the dataset's parts agree.
func (d *Dataset) Validate() error {
	switch {
	case d.X.Rows == 0:
		return errors.New("dataset has no rows")
	case len(d.X.Data) != d.X.Rows*d.X.Cols:
		return fmt.Errorf("matrix data has %d values, want %d×%d", len(d.X.Data), d.X.Rows, d.X.Cols)
	case len(d.Y) != d.X.Rows:
		return fmt.Errorf("have %d targets for %d rows", len(d.Y), d.X.Rows)
	case len(d.Features) != d.X.Cols:
		return fmt.Errorf("have %d feature descriptions for %d columns", len(d.Features), d.X.Cols)
	}
	switch d.Task {
	case Binary:
		if d.Classes != 2 {
			return fmt.Errorf("binary task with %d classes", d.Classes)
		}
	case Multiclass:
		if d.Classes < 3 {
			return fmt.Errorf("multiclass task with %d classes", d.Classes)
		}
	case Regression:
	default:
		return fmt.Errorf("unknown task %q", d.Task)
	}
	for i, y := range d.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return fmt.Errorf("target of row %d is not a finite number", i)
		}
		if d.Task != Regression && (y < 0 || int(y) >= d.Classes || y != math.Trunc(y)) {
			return fmt.Errorf("target of row %d is %v, not a class index below %d", i, y, d.Classes)
		}
	}
	return nil
}

// Outputs is the length of a model's output for a task: the class
// probabilities for classification, one value for regression.
func Outputs(task Task, classes int) int {
	if task == Regression {
		return 1
	}
	return classes
}

// Model is a fitted model. Implementations are immutable after Fit and safe
// for concurrent use; Predict must not allocate.
type Model interface {
	// Predict writes the model's output for one feature row x into out:
	// class probabilities (summing to 1) or the regression value.
	Predict(x []float64, out []float64)
	// Outputs is the length of out.
	Outputs() int
	// MarshalJSON encodes the model deterministically: the same model gives
	// the same bytes.
	MarshalJSON() ([]byte, error)
}

// BatchPredictor is an optional ability of a Model that predicts many rows
// at once faster than row by row (out has X.Rows*Outputs() values), on up
// to threads goroutines: 0 means every core Go may use, 1 the calling
// goroutine only (for callers that split the rows over cores themselves).
// The answers do not depend on threads.
type BatchPredictor interface {
	PredictBatch(X Matrix, out []float64, threads int)
}

// PredictAll predicts every row of X, through PredictBatch when the model
// has it.
func PredictAll(m Model, X Matrix) []float64 {
	k := m.Outputs()
	out := make([]float64, X.Rows*k)
	if bp, ok := m.(BatchPredictor); ok {
		bp.PredictBatch(X, out, 0)
		return out
	}
	for i := 0; i < X.Rows; i++ {
		m.Predict(X.Row(i), out[i*k:(i+1)*k])
	}
	return out
}

// Progress receives training progress: a stage name and done of total steps.
// It may be nil.
type Progress func(stage string, done, total int)

// Trainer fits a model. A Trainer is configured (params, seed) when made
// and may be used for one Fit at a time.
type Trainer interface {
	// Fit trains on d and returns the model. It stops early with ctx's
	// error when ctx is cancelled.
	Fit(ctx context.Context, d *Dataset, progress Progress) (Model, error)
}

// Input says how an algorithm wants its features encoded.
type Input string

// Inputs.
const (
	// OneHot: missing numbers imputed (plus a missing indicator), categories
	// one-hot with missing and unseen levels, all standardised. For linear
	// models.
	OneHot Input = "onehot"
	// Native: numbers as they are (NaN when missing), categories as codes
	// with Feature.Categorical set. For trees.
	Native Input = "native"
)

// Algorithm is a named training algorithm.
type Algorithm interface {
	// Name is the algorithm's name in pipeline files (logistic, linear, gbdt).
	Name() string
	// Input is the feature encoding the algorithm wants.
	Input() Input
	// Supports reports whether the algorithm can solve task.
	Supports(task Task) bool
	// NewTrainer validates params (unknown names are errors) and returns a
	// trainer and the params as resolved, defaults filled in.
	NewTrainer(task Task, params Params, seed int64) (Trainer, Params, error)
	// DecodeModel decodes a model encoded by its MarshalJSON.
	DecodeModel(data []byte) (Model, error)
}

// ErrUnknownAlgorithm is returned for an algorithm name no package provides.
var ErrUnknownAlgorithm = errors.New("unknown algorithm")

// Explainer is an optional ability of a Model: it splits a row's raw
// scores into a base value and one contribution per feature (SHAP values),
// so that base plus the sum of the contributions is the raw score. A raw
// score is the log-odds of class 1 for binary classification, the
// regression value, or one softmax input per class for multiclass.
type Explainer interface {
	// Scores is the number of raw scores of a row: 1 for binary and
	// regression, the number of classes for multiclass.
	Scores() int
	// Explain writes the base values (Scores() values) and the
	// contributions (Scores() rows of len(x) values, score-major) of row x.
	// It fails when the model lacks what explaining needs (a tree model
	// encoded without node covers).
	Explain(x []float64, base, contrib []float64) error
	// RawScores writes row x's raw scores (Scores() values), summed the
	// way Predict sums them.
	RawScores(x []float64, raw []float64)
}
