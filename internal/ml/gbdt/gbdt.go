package gbdt

import (
	"errors"

	"github.com/mlserve/mlserve/internal/ml"
)

// Algorithm is gradient-boosted trees, the "gbdt" algorithm of pipeline
// files.
var Algorithm ml.Algorithm = algorithm{}

var _ ml.Algorithm = algorithm{}

type algorithm struct{}

func (algorithm) Name() string { return "gbdt" }

func (algorithm) Input() ml.Input { return ml.Native }

func (algorithm) Supports(task ml.Task) bool {
	return task == ml.Binary || task == ml.Multiclass || task == ml.Regression
}

func (a algorithm) NewTrainer(task ml.Task, p ml.Params, seed int64) (ml.Trainer, ml.Params, error) {
	if !a.Supports(task) {
		return nil, nil, &ml.ParamError{Name: "task", Msg: "gbdt does not support task " + string(task)}
	}
	cfg, resolved, err := readParams(task, p)
	if err != nil {
		return nil, nil, err
	}
	return &Trainer{task: task, p: cfg, seed: seed}, resolved, nil
}

func (algorithm) DecodeModel(data []byte) (ml.Model, error) {
	m, err := DecodeModel(data)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// params are the resolved settings of a Trainer.
type params struct {
	nTrees              int
	learningRate        float64
	maxDepth            int
	maxLeaves           int
	minSamplesLeaf      int
	l2                  float64
	maxBins             int
	subsample           float64
	colsample           float64
	earlyStoppingRounds int
	validationFraction  float64
	loss                string
}

// Param defaults. They follow scikit-learn's HistGradientBoosting and
// LightGBM (best-first growth to 31 leaves, depth unlimited, 20 rows per
// leaf, learning rate 0.1), which do well untuned on small and large tables.
const (
	defaultTrees          = 100
	defaultLearningRate   = 0.1
	defaultMaxDepth       = 0
	defaultMaxLeaves      = 31
	defaultMinSamplesLeaf = 20
	defaultL2             = 0.0
	defaultMaxBins        = 255
	defaultValidation     = 0.1
)

// readParams reads and validates params for task; unknown names are errors.
func readParams(task ml.Task, p ml.Params) (params, ml.Params, error) {
	r := ml.NewReader(p)
	c := params{
		nTrees:              r.Int("n_trees", defaultTrees, 1, 100_000),
		learningRate:        r.Float("learning_rate", defaultLearningRate, 1e-6, 1),
		maxDepth:            r.Int("max_depth", defaultMaxDepth, 0, 1000),
		maxLeaves:           r.Int("max_leaves", defaultMaxLeaves, 0, 1<<20),
		minSamplesLeaf:      r.Int("min_samples_leaf", defaultMinSamplesLeaf, 1, 1<<30),
		l2:                  r.Float("l2", defaultL2, 0, 1e9),
		maxBins:             r.Int("max_bins", defaultMaxBins, 2, 255),
		subsample:           r.Float("subsample", 1, 1e-3, 1),
		colsample:           r.Float("colsample", 1, 1e-3, 1),
		earlyStoppingRounds: r.Int("early_stopping_rounds", 0, 0, 100_000),
		validationFraction:  r.Float("validation_fraction", defaultValidation, 0.01, 0.5),
	}
	if task == ml.Regression {
		c.loss = r.String("loss", LossSquared, LossSquared, LossAbsolute, LossHuber)
	} else {
		c.loss = r.String("loss", LossLog, LossLog)
	}
	if err := r.Check(); err != nil {
		return params{}, nil, err
	}
	switch {
	case c.maxLeaves == 1:
		return params{}, nil, &ml.ParamError{Name: "max_leaves", Msg: "must be 0 (no limit) or at least 2"}
	case c.maxLeaves == 0 && c.maxDepth == 0:
		return params{}, nil, &ml.ParamError{Name: "max_leaves", Msg: "max_leaves and max_depth cannot both be 0 (no limit)"}
	}
	resolved := ml.Params{
		"n_trees":               c.nTrees,
		"learning_rate":         c.learningRate,
		"max_depth":             c.maxDepth,
		"max_leaves":            c.maxLeaves,
		"min_samples_leaf":      c.minSamplesLeaf,
		"l2":                    c.l2,
		"max_bins":              c.maxBins,
		"subsample":             c.subsample,
		"colsample":             c.colsample,
		"early_stopping_rounds": c.earlyStoppingRounds,
		"validation_fraction":   c.validationFraction,
		"loss":                  c.loss,
	}
	return c, resolved, nil
}

// errTaskMismatch is returned when a Trainer is given another task's data.
var errTaskMismatch = errors.New("dataset task differs from the trainer's")
