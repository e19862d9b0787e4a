package metric

import "math"

// logLossEps clips probabilities into [eps, 1-eps] before the log, as
// scikit-learn's log_loss did by default before 1.2 (eps=1e-15).
const logLossEps = 1e-15

// Argmax returns the predicted class of each row of proba (classes values
// a row): the index of the largest probability, the first on a tie, as
// numpy's argmax. A binary row [0.5, 0.5] is class 0, as scikit-learn's
// predict (class 1 only when P1 > 0.5).
func Argmax(proba []float64, classes int) []int {
	n := len(proba) / classes
	out := make([]int, n)
	for i := range n {
		row := proba[i*classes : (i+1)*classes]
		best := 0
		for k := 1; k < classes; k++ {
			if row[k] > row[best] {
				best = k
			}
		}
		out[i] = best
	}
	return out
}

// Column returns column j of proba (classes values a row), such as the
// positive-class probabilities of a binary model.
func Column(proba []float64, classes, j int) []float64 {
	n := len(proba) / classes
	out := make([]float64, n)
	for i := range n {
		out[i] = proba[i*classes+j]
	}
	return out
}

// AccuracyScore is the fraction of rows whose predicted class equals the
// target. It is 0 for no rows.
func AccuracyScore(y []float64, pred []int) float64 {
	if len(y) == 0 {
		return 0
	}
	hits := 0
	for i, v := range y {
		if int(v) == pred[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(y))
}

// F1Score is the binary F1 of class 1 (the positive class): 2·tp /
// (2·tp + fp + fn), 0 when there is no positive target or prediction
// (scikit-learn's zero_division result).
func F1Score(y []float64, pred []int) float64 {
	return f1Of(y, pred, 1)
}

func f1Of(y []float64, pred []int, class int) float64 {
	var tp, fp, fn int
	for i, v := range y {
		t, p := int(v) == class, pred[i] == class
		switch {
		case t && p:
			tp++
		case p:
			fp++
		case t:
			fn++
		}
	}
	if tp == 0 {
		return 0
	}
	return float64(2*tp) / float64(2*tp+fp+fn)
}

// MacroF1Score is the unweighted mean of the per-class F1 over the classes
// that occur in y or pred (scikit-learn's f1_score(average="macro") with no
// labels given), classes 0..classes-1.
func MacroF1Score(y []float64, pred []int, classes int) float64 {
	seen := make([]bool, classes)
	for i, v := range y {
		seen[int(v)] = true
		seen[pred[i]] = true
	}
	var sum float64
	n := 0
	for k := range classes {
		if seen[k] {
			sum += f1Of(y, pred, k)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// LogLossScore is the mean negative log-likelihood of the targets under
// proba (classes values a row), scikit-learn's log_loss with eps=1e-15:
// each probability is clipped into [eps, 1-eps] and the row renormalised
// to sum to 1.
func LogLossScore(y []float64, proba []float64, classes int) float64 {
	if len(y) == 0 {
		return 0
	}
	var sum float64
	for i, v := range y {
		row := proba[i*classes : (i+1)*classes]
		var rowSum float64
		for _, p := range row {
			rowSum += clip(p)
		}
		sum -= math.Log(clip(row[int(v)]) / rowSum)
	}
	return sum / float64(len(y))
}

func clip(p float64) float64 {
	return min(max(p, logLossEps), 1-logLossEps)
}
