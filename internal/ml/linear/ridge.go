package linear

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/mlserve/mlserve/internal/ml"
)

const linearName = "linear"

// Linear is ridge regression, scikit-learn's Ridge: it minimises
//
//	‖y − Xw − b‖² + alpha·‖w‖²   (intercept b not penalised)
//
// in closed form. Params: alpha ≥ 0, default 1.
var Linear ml.Algorithm = linearAlgorithm{}

type linearAlgorithm struct{}

func (linearAlgorithm) Name() string               { return linearName }
func (linearAlgorithm) Input() ml.Input            { return ml.OneHot }
func (linearAlgorithm) Supports(task ml.Task) bool { return task == ml.Regression }

func (linearAlgorithm) DecodeModel(data []byte) (ml.Model, error) {
	m, err := decodeModel(linearName, data)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (linearAlgorithm) NewTrainer(task ml.Task, params ml.Params, _ int64) (ml.Trainer, ml.Params, error) {
	if task != ml.Regression {
		return nil, nil, fmt.Errorf("linear: task %q not supported; use it for regression (logistic classifies)", task)
	}
	r := ml.NewReader(params)
	alpha := r.Float("alpha", 1, 0, math.MaxFloat64)
	if err := r.Check(); err != nil {
		return nil, nil, fmt.Errorf("linear: %w", err)
	}
	return &ridgeTrainer{alpha: alpha}, ml.Params{"alpha": alpha}, nil
}

type ridgeTrainer struct {
	alpha float64
}

// Fit solves the ridge normal equations on the centred data,
// (XcᵀXc + alpha·I)·w = Xcᵀyc, by Cholesky, falling back to the
// minimum-norm least-squares solution when that matrix is singular (alpha
// 0 and collinear features); then b = ȳ − x̄·w.
func (t *ridgeTrainer) Fit(ctx context.Context, d *ml.Dataset, _ ml.Progress) (ml.Model, error) {
	if _, err := checkDataset(d, ml.Regression); err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	n, p := d.X.Rows, d.X.Cols
	xMean := make([]float64, p)
	var yMean float64
	for i := range n {
		for j, v := range d.X.Row(i) {
			xMean[j] += v
		}
		yMean += d.Y[i]
	}
	for j := range xMean {
		xMean[j] /= float64(n)
	}
	yMean /= float64(n)

	xc := mat.NewDense(n, p, nil)
	yc := mat.NewVecDense(n, nil)
	for i := range n {
		row := d.X.Row(i)
		for j := range p {
			xc.Set(i, j, row[j]-xMean[j])
		}
		yc.SetVec(i, d.Y[i]-yMean)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var gram mat.SymDense
	gram.SymOuterK(1, xc.T())
	for j := range p {
		gram.SetSym(j, j, gram.At(j, j)+t.alpha)
	}
	var xty mat.VecDense
	xty.MulVec(xc.T(), yc)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	w := mat.NewVecDense(p, nil)
	var chol mat.Cholesky
	if !chol.Factorize(&gram) || chol.Cond() > 1e12 || chol.SolveVecTo(w, &xty) != nil {
		if err := minNormSolve(w, &gram, &xty); err != nil {
			return nil, fmt.Errorf("linear: %w", err)
		}
	}

	m := &Model{
		algorithm:  linearName,
		task:       ml.Regression,
		classes:    1,
		features:   featureNames(d),
		p:          p,
		weights:    make([]float64, p),
		intercepts: []float64{yMean},
		alpha:      t.alpha,
	}
	for j := range p {
		m.weights[j] = w.AtVec(j)
		m.intercepts[0] -= xMean[j] * m.weights[j]
	}
	for _, v := range m.weights {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("linear: %w", errNotFinite)
		}
	}
	return m, nil
}

// minNormSolve sets w to the minimum-norm solution of a·w = b for a
// symmetric positive semi-definite a, through its SVD with singular values
// below a relative 1e-12 treated as 0.
func minNormSolve(w *mat.VecDense, a *mat.SymDense, b *mat.VecDense) error {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return errors.New("solve normal equations: SVD did not converge")
	}
	vals := svd.Values(nil)
	rank := 0
	for _, v := range vals {
		if v > vals[0]*1e-12 {
			rank++
		}
	}
	if rank == 0 {
		w.Zero()
		return nil
	}
	svd.SolveVecTo(w, b, rank)
	return nil
}
