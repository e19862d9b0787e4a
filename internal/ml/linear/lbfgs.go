package linear

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// solve minimises obj from theta0 (which it does not modify) with gonum's
// L-BFGS and returns the minimiser. It stops when the largest gradient
// component is below tol or after maxIter iterations. A line search that
// cannot improve any more ends the run at the best point found, as scipy's
// L-BFGS-B does in scikit-learn; only a non-finite objective or ctx's
// cancellation is an error.
func solve(ctx context.Context, obj *objective, theta0 []float64, tol float64, maxIter int) ([]float64, error) {
	// At the limit of float64 precision gonum's line search may evaluate
	// forever without moving: stop after stallEvals evaluations that do not
	// lower the objective by more than rounding.
	best, stalled, seen := math.Inf(1), 0, 0
	problem := optimize.Problem{
		Func: obj.Func,
		Grad: obj.Grad,
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			if obj.evals == seen {
				return optimize.NotTerminated, nil
			}
			seen = obj.evals
			if f := obj.lastF; f < best-4*epsilon*math.Abs(f) {
				best, stalled = f, 0
			} else if stalled++; stalled >= stallEvals {
				return optimize.Failure, errStalled
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: tol,
		MajorIterations:   maxIter,
		FuncEvaluations:   100 * maxIter, // a backstop; the stall check ends runs long before
		Converger:         optimize.NeverTerminate{},
	}
	method := &optimize.LBFGS{
		Store:             10, // scipy's maxcor
		GradStopThreshold: tol,
		Linesearcher:      &optimize.MoreThuente{},
	}
	res, err := optimize.Minimize(problem, theta0, settings, method)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if res == nil {
		return nil, fmt.Errorf("lbfgs: %w", err)
	}
	if math.IsNaN(res.F) || math.IsInf(res.F, 0) {
		return nil, fmt.Errorf("lbfgs: objective is %v: %w", res.F, errors.Join(err, errNotFinite))
	}
	for _, v := range res.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("lbfgs: %w", errNotFinite)
		}
	}
	return res.X, nil
}

const (
	epsilon    = 0x1p-52
	stallEvals = 30
)

var (
	errNotFinite = errors.New("weights are not finite numbers")
	errStalled   = errors.New("no progress")
)
