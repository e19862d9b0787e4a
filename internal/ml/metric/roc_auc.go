package metric

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ROCAUCScore is the area under the ROC curve of score for the binary
// targets y (class 1 positive), as scikit-learn's roc_auc_score: rows with
// equal scores form one step of the curve, so a tied positive/negative
// pair counts one half. It returns ErrUndefined when y holds one class.
func ROCAUCScore(y, score []float64) (float64, error) {
	if len(score) != len(y) {
		return 0, fmt.Errorf("roc_auc: have %d scores for %d rows", len(score), len(y))
	}
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	return binaryAUC(idx, func(i int) bool { return y[i] == 1 }, score)
}

// ROCAUCOvR is the one-vs-rest macro ROC AUC of proba (classes values a
// row): the mean over classes of the binary AUC of class k against the
// rest, scored by column k (scikit-learn's roc_auc_score with
// multi_class="ovr", average="macro"). Unlike scikit-learn, which then
// raises, a class absent from y is left out of the mean; ErrUndefined when
// fewer than two classes occur in y.
func ROCAUCOvR(y, proba []float64, classes int) (float64, error) {
	if err := checkClassification(y, proba, classes); err != nil {
		return 0, fmt.Errorf("roc_auc: %w", err)
	}
	idx := make([]int, len(y))
	score := make([]float64, len(y))
	var sum float64
	n := 0
	for k := range classes {
		for i := range idx {
			idx[i] = i
			score[i] = proba[i*classes+k]
		}
		auc, err := binaryAUC(idx, func(i int) bool { return int(y[i]) == k }, score)
		if errors.Is(err, ErrUndefined) {
			continue // class k absent from y, or the only class in it
		}
		if err != nil {
			return 0, err
		}
		sum += auc
		n++
	}
	if n < 2 {
		return 0, fmt.Errorf("roc_auc: %w: fewer than two classes in y", ErrUndefined)
	}
	return sum / float64(n), nil
}

// binaryAUC sorts idx by descending score and integrates the ROC curve with
// the trapezoid rule over groups of equal scores, in integer counts so the
// result does not depend on the order of tied rows.
func binaryAUC(idx []int, positive func(int) bool, score []float64) (float64, error) {
	for _, i := range idx {
		if math.IsNaN(score[i]) {
			return 0, fmt.Errorf("roc_auc: score of row %d is NaN", i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
	var tp, fp, area float64 // area in units of (1 negative × 1 positive) / 2
	for start := 0; start < len(idx); {
		s := score[idx[start]]
		var dtp, dfp float64
		end := start
		for ; end < len(idx) && score[idx[end]] == s; end++ {
			if positive(idx[end]) {
				dtp++
			} else {
				dfp++
			}
		}
		area += dfp * (2*tp + dtp)
		tp += dtp
		fp += dfp
		start = end
	}
	if tp == 0 || fp == 0 {
		return 0, fmt.Errorf("roc_auc: %w: y holds one class", ErrUndefined)
	}
	return area / (2 * tp * fp), nil
}
