package linear

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/metric"
)

// cvResult records how cross-validation chose C. It is part of the model's
// JSON.
type cvResult struct {
	Folds  int       `json:"folds"`
	Metric string    `json:"metric"`
	Seed   int64     `json:"seed"`
	Cs     []float64 `json:"Cs"`
	Scores []float64 `json:"scores"` // mean validation score of each C
}

// stratifiedFolds assigns each row a fold in 0..k-1 so that every class is
// spread evenly over the folds (counts differ by at most one): the rows of
// each class, shuffled with seed, are dealt out in turn, class after class.
func stratifiedFolds(y []int, classes, k int, seed int64) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	byClass := make([][]int, classes)
	for i, c := range y {
		byClass[c] = append(byClass[c], i)
	}
	fold := make([]int, len(y))
	next := 0
	for _, rows := range byClass {
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		for _, r := range rows {
			fold[r] = next
			next = (next + 1) % k
		}
	}
	return fold
}

// splitFold returns the training and validation rows of fold f, each in
// ascending order.
func splitFold(fold []int, f int) (train, val []int) {
	for i, g := range fold {
		if g == f {
			val = append(val, i)
		} else {
			train = append(train, i)
		}
	}
	return train, val
}

// crossValidate scores every C of cfg.cs on cfg.cv stratified folds, the
// folds in parallel, each fold fitting the Cs in order from the previous
// C's solution (as scikit-learn's path). It returns the result, the chosen
// C, whose score summed over folds is best (the first on a tie, as
// LogisticRegressionCV), and the mean over folds of the weights at that C,
// to start the final fit.
func crossValidate(ctx context.Context, d *ml.Dataset, y []int, blocks int, cfg logisticConfig, report ml.Progress) (*cvResult, float64, []float64, error) {
	k := cfg.cv
	counts := make([]int, d.Classes)
	for _, c := range y {
		counts[c]++
	}
	for c, n := range counts {
		if n > 0 && n < k {
			return nil, 0, nil, fmt.Errorf("cv: class %d has %d rows, fewer than the %d folds", c, n, k)
		}
	}
	fold := stratifiedFolds(y, d.Classes, k, cfg.seed)

	// scores[f][i] and thetas[f][i]: fold f, C index i.
	scores := make([][]float64, k)
	thetas := make([][][]float64, k)
	var mu sync.Mutex
	done, total := 0, k*len(cfg.cs)
	report("cv", 0, total)
	step := func() {
		mu.Lock()
		defer mu.Unlock()
		done++
		report("cv", done, total)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for f := range k {
		g.Go(func() error {
			train, val := splitFold(fold, f)
			s, th, err := fitPath(gctx, d, y, train, val, blocks, cfg, step)
			scores[f], thetas[f] = s, th
			return err
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, 0, nil, ctx.Err()
		}
		return nil, 0, nil, fmt.Errorf("cv: %w", err)
	}

	res := &cvResult{Folds: k, Metric: cfg.cvMetric, Seed: cfg.seed, Cs: cfg.cs, Scores: make([]float64, len(cfg.cs))}
	higher := metric.HigherIsBetter(cfg.cvMetric)
	best, bestSum := 0, 0.0
	for i := range cfg.cs {
		var sum float64
		for f := range k {
			sum += scores[f][i]
		}
		res.Scores[i] = sum / float64(k)
		if i == 0 || higher && sum > bestSum || !higher && sum < bestSum {
			best, bestSum = i, sum
		}
	}
	init := make([]float64, len(thetas[0][best]))
	for f := range k {
		for j, v := range thetas[f][best] {
			init[j] += v
		}
	}
	for j := range init {
		init[j] /= float64(k)
	}
	return res, cfg.cs[best], init, nil
}

// fitPath fits the Cs in order on the train rows, each from the previous
// solution, and scores each on the val rows.
func fitPath(ctx context.Context, d *ml.Dataset, y, train, val []int, blocks int, cfg logisticConfig, step func()) ([]float64, [][]float64, error) {
	scores := make([]float64, len(cfg.cs))
	thetas := make([][]float64, len(cfg.cs))
	theta := make([]float64, blocks*(d.X.Cols+1))
	yVal := make([]float64, len(val))
	for i, r := range val {
		yVal[i] = d.Y[r]
	}
	k := d.Classes
	proba := make([]float64, len(val)*k)
	for i, c := range cfg.cs {
		obj := newObjective(d.X, y, train, blocks, c, 1)
		var err error
		theta, err = solve(ctx, obj, theta, cfg.tol, cfg.maxIter)
		if err != nil {
			return nil, nil, fmt.Errorf("fit C=%g: %w", c, err)
		}
		thetas[i] = theta
		m := newLogisticModel(d, blocks, theta, c)
		for j, r := range val {
			m.Predict(d.X.Row(r), proba[j*k:(j+1)*k])
		}
		scores[i], err = score(cfg.cvMetric, yVal, proba, k)
		if err != nil {
			return nil, nil, fmt.Errorf("score C=%g: %w", c, err)
		}
		step()
	}
	return scores, thetas, nil
}

// score computes the named CV metric of proba (k values a row) against y.
func score(name string, y, proba []float64, k int) (float64, error) {
	switch name {
	case metric.Accuracy:
		return metric.AccuracyScore(y, metric.Argmax(proba, k)), nil
	case metric.LogLoss:
		return metric.LogLossScore(y, proba, k), nil
	case metric.ROCAUC:
		if k == 2 {
			return metric.ROCAUCScore(y, metric.Column(proba, 2, 1))
		}
		return metric.ROCAUCOvR(y, proba, k)
	}
	return 0, fmt.Errorf("unknown cv metric %q", name)
}
