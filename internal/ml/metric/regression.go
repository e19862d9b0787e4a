package metric

import "math"

// RootMeanSquaredError is √(mean((y − pred)²)). It is 0 for no rows.
func RootMeanSquaredError(y, pred []float64) float64 {
	if len(y) == 0 {
		return 0
	}
	var sum float64
	for i, v := range y {
		d := v - pred[i]
		sum += d * d
	}
	return math.Sqrt(sum / float64(len(y)))
}

// MeanAbsoluteError is mean(|y − pred|). It is 0 for no rows.
func MeanAbsoluteError(y, pred []float64) float64 {
	if len(y) == 0 {
		return 0
	}
	var sum float64
	for i, v := range y {
		sum += math.Abs(v - pred[i])
	}
	return sum / float64(len(y))
}

// RSquared is the coefficient of determination 1 − Σ(y − pred)² / Σ(y − ȳ)².
// When y is constant it is 1 for a perfect prediction and 0 otherwise, as
// scikit-learn's r2_score (force_finite=True).
func RSquared(y, pred []float64) float64 {
	if len(y) == 0 {
		return 0
	}
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var res, tot float64
	for i, v := range y {
		d := v - pred[i]
		res += d * d
		t := v - mean
		tot += t * t
	}
	switch {
	case tot != 0:
		return 1 - res/tot
	case res == 0:
		return 1
	}
	return 0
}
