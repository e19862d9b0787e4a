package linear

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/ml"
)

const logisticName = "logistic"

// Logistic is L2-regularised logistic regression fitted by L-BFGS, with
// scikit-learn's LogisticRegression(solver="lbfgs") objective
//
//	C·Σᵢ logloss(yᵢ, xᵢ) + ½‖W‖²   (intercepts not penalised)
//
// binary with one weight vector (class 1 against class 0), multiclass
// multinomial (softmax over one weight vector per class). Params:
//
//   - C: inverse regularisation strength, default 1.
//   - max_iter: L-BFGS iteration limit, default 1000.
//   - tol: stop when every component of the gradient of the objective
//     divided by C·n is below tol, default 1e-8.
//   - cv: 0 (default) fits C; k ≥ 2 chooses C from the Cs grid by
//     stratified k-fold cross-validation (folds shuffled with the seed),
//     then refits on all rows with the best C, as LogisticRegressionCV.
//     Fit then adds the chosen C to the resolved params as C_chosen.
//   - Cs: with cv, the grid: a count n for n values spaced evenly on a log
//     scale from 1e-4 to 1e4 (default 10), or a list of values.
//   - cv_metric: with cv, the score to maximise: accuracy (default),
//     roc_auc, or log_loss (minimised).
var Logistic ml.Algorithm = logisticAlgorithm{}

type logisticAlgorithm struct{}

func (logisticAlgorithm) Name() string    { return logisticName }
func (logisticAlgorithm) Input() ml.Input { return ml.OneHot }

func (logisticAlgorithm) Supports(task ml.Task) bool {
	return task == ml.Binary || task == ml.Multiclass
}

func (logisticAlgorithm) DecodeModel(data []byte) (ml.Model, error) {
	m, err := decodeModel(logisticName, data)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// logisticConfig is the validated configuration of a logistic fit.
type logisticConfig struct {
	c        float64
	maxIter  int
	tol      float64
	cv       int
	cs       []float64
	cvMetric string
	seed     int64
}

// Defaults.
const (
	defaultC       = 1.0
	defaultMaxIter = 1000
	defaultTol     = 1e-8
	defaultCs      = 10
)

func (logisticAlgorithm) NewTrainer(task ml.Task, params ml.Params, seed int64) (ml.Trainer, ml.Params, error) {
	if task != ml.Binary && task != ml.Multiclass {
		return nil, nil, fmt.Errorf("logistic: task %q not supported; use it for classification", task)
	}
	r := ml.NewReader(params)
	cfg := logisticConfig{
		c:        r.Float("C", defaultC, math.SmallestNonzeroFloat64, math.MaxFloat64),
		maxIter:  r.Int("max_iter", defaultMaxIter, 1, math.MaxInt32),
		tol:      r.Float("tol", defaultTol, 0, 1),
		cv:       r.Int("cv", 0, 0, 1000),
		cvMetric: r.String("cv_metric", "accuracy", "accuracy", "roc_auc", "log_loss"),
		seed:     seed,
	}
	cs := slices.Clone(r.Floats("Cs", nil))
	if err := r.Check(); err != nil {
		return nil, nil, fmt.Errorf("logistic: %w", err)
	}
	_, hasC := params["C"]
	rawCs, hasCs := params["Cs"]
	_, hasMetric := params["cv_metric"]
	switch {
	case cfg.cv == 1:
		return nil, nil, fmt.Errorf("logistic: %w", &ml.ParamError{Name: "cv", Msg: "must be 0 (off) or a fold count of at least 2"})
	case cfg.cv == 0 && (hasCs || hasMetric):
		return nil, nil, fmt.Errorf("logistic: %w", &ml.ParamError{Name: "Cs, cv_metric", Msg: "apply only with cv ≥ 2"})
	case cfg.cv >= 2 && hasC:
		return nil, nil, fmt.Errorf("logistic: %w", &ml.ParamError{Name: "C", Msg: "cv chooses C from Cs; give one or the other"})
	}
	resolved := ml.Params{"max_iter": cfg.maxIter, "tol": cfg.tol, "cv": cfg.cv}
	if cfg.cv == 0 {
		resolved["C"] = cfg.c
		return &logisticTrainer{cfg: cfg, task: task, resolved: resolved}, resolved, nil
	}
	grid, err := resolveCs(rawCs, hasCs, cs)
	if err != nil {
		return nil, nil, fmt.Errorf("logistic: %w", err)
	}
	cfg.cs = grid
	resolved["Cs"] = grid
	resolved["cv_metric"] = cfg.cvMetric
	return &logisticTrainer{cfg: cfg, task: task, resolved: resolved}, resolved, nil
}

// resolveCs turns the Cs param into the grid: a single number n (not a
// list) means n values logspace(-4, 4, n), as scikit-learn.
func resolveCs(raw any, has bool, values []float64) ([]float64, error) {
	list := false
	switch t := raw.(type) {
	case []any, []float64:
		list = true
	case string:
		list = strings.Contains(t, ",")
	}
	if list {
		if len(values) == 0 {
			return nil, &ml.ParamError{Name: "Cs", Msg: "the list is empty"}
		}
		for _, v := range values {
			if !(v > 0) || math.IsInf(v, 0) {
				return nil, &ml.ParamError{Name: "Cs", Msg: fmt.Sprintf("values must be positive numbers, got %v", v)}
			}
		}
		return values, nil
	}
	n := defaultCs
	if has {
		if len(values) != 1 || values[0] != math.Trunc(values[0]) || values[0] < 1 || values[0] > 1000 {
			return nil, &ml.ParamError{Name: "Cs", Msg: fmt.Sprintf("must be a grid size between 1 and 1000 or a list of values, got %v", raw)}
		}
		n = int(values[0])
	}
	return logspace(-4, 4, n), nil
}

// logspace returns n values 10^e for e evenly spaced from lo to hi, as
// numpy.logspace.
func logspace(lo, hi float64, n int) []float64 {
	out := make([]float64, n)
	if n == 1 {
		out[0] = math.Pow(10, lo)
		return out
	}
	step := (hi - lo) / float64(n-1)
	for i := range out {
		e := lo + float64(i)*step
		if i == n-1 {
			e = hi
		}
		out[i] = math.Pow(10, e)
	}
	return out
}

type logisticTrainer struct {
	cfg      logisticConfig
	task     ml.Task
	resolved ml.Params
}

// Fit fits the model on d. With cv it first chooses C by cross-validation,
// reporting progress as stage "cv", and records it in the params map
// NewTrainer returned, as C_chosen.
func (t *logisticTrainer) Fit(ctx context.Context, d *ml.Dataset, progress ml.Progress) (ml.Model, error) {
	y, err := checkDataset(d, t.task)
	if err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	if err := checkClasses(y, d.Classes); err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	report := func(stage string, done, total int) {
		if progress != nil {
			progress(stage, done, total)
		}
	}
	blocks := 1
	if t.task == ml.Multiclass {
		blocks = d.Classes
	}
	c := t.cfg.c
	theta0 := make([]float64, blocks*(d.X.Cols+1))
	var cv *cvResult
	if t.cfg.cv >= 2 {
		var init []float64
		cv, c, init, err = crossValidate(ctx, d, y, blocks, t.cfg, report)
		if err != nil {
			return nil, fmt.Errorf("logistic: %w", err)
		}
		copy(theta0, init)
	}
	report("fit", 0, 1)
	obj := newObjective(d.X, y, allRows(d.X.Rows), blocks, c, runtime.GOMAXPROCS(0))
	theta, err := solve(ctx, obj, theta0, t.cfg.tol, t.cfg.maxIter)
	if err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	report("fit", 1, 1)
	if cv != nil {
		t.resolved["C_chosen"] = c
	}
	m := newLogisticModel(d, blocks, theta, c)
	m.cv = cv
	return m, nil
}

// newLogisticModel makes a model of the parameter vector theta (one block
// of weights then intercept per output).
func newLogisticModel(d *ml.Dataset, blocks int, theta []float64, c float64) *Model {
	p := d.X.Cols
	m := &Model{
		algorithm:  logisticName,
		task:       d.Task,
		classes:    d.Classes,
		features:   featureNames(d),
		p:          p,
		weights:    make([]float64, 0, blocks*p),
		intercepts: make([]float64, 0, blocks),
		c:          c,
	}
	for k := range blocks {
		blk := theta[k*(p+1) : (k+1)*(p+1)]
		m.weights = append(m.weights, blk[:p]...)
		m.intercepts = append(m.intercepts, blk[p])
	}
	return m
}

// checkDataset validates d for task and returns its class indexes (nil for
// regression).
func checkDataset(d *ml.Dataset, task ml.Task) ([]int, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d.Task != task {
		return nil, fmt.Errorf("dataset task is %q, trainer made for %q", d.Task, task)
	}
	for i, v := range d.X.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("feature %s of row %d is %v; linear models need every feature imputed",
				d.Features[i%d.X.Cols].Name, i/d.X.Cols, v)
		}
	}
	if task == ml.Regression {
		return nil, nil
	}
	y := make([]int, len(d.Y))
	for i, v := range d.Y {
		y[i] = int(v)
	}
	return y, nil
}

// checkClasses requires at least two classes to occur in y.
func checkClasses(y []int, classes int) error {
	seen := make([]bool, classes)
	n := 0
	for _, v := range y {
		if !seen[v] {
			seen[v] = true
			n++
		}
	}
	if n < 2 {
		return errors.New("the target has a single class; need rows of at least two")
	}
	return nil
}

func featureNames(d *ml.Dataset) []string {
	out := make([]string, len(d.Features))
	for i, f := range d.Features {
		out[i] = f.Name
	}
	return out
}

func allRows(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
