package metric

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// weighted computes one metric of one model's predictions for row weights:
// the counts of a bootstrap resample, so that a resample costs O(rows)
// (the rows are sorted by score once, not per resample). With every weight
// 1 it agrees with Evaluate.
type weighted struct {
	task, name string
	s          Side
	k          int         // values per row
	labels     []int       // predicted class per row (classification)
	order      []*aucOrder // roc_auc: per scored column
}

// aucOrder is one scored column's rows by descending score, with their
// scores and targets laid out in that order, so that a resample's walk
// reads only its weights out of order.
type aucOrder struct {
	rows   []int32
	scores []float64
	ys     []int32
}

func newWeighted(task, name string, s Side) (*weighted, error) {
	w := &weighted{task: task, name: name, s: s, k: width(task, s.Classes)}
	if task == TaskRegression {
		return w, nil
	}
	w.labels = Argmax(s.Pred, s.Classes)
	if name != ROCAUC {
		return w, nil
	}
	cols := []int{1}
	if task == TaskMulticlass {
		cols = make([]int, s.Classes)
		for j := range cols {
			cols[j] = j
		}
	}
	n := len(s.Y)
	for _, j := range cols {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
			if math.IsNaN(s.Pred[i*w.k+j]) {
				return nil, fmt.Errorf("roc_auc: score of row %d is NaN", i)
			}
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(s.Pred[b*w.k+j], s.Pred[a*w.k+j]) })
		o := &aucOrder{rows: make([]int32, n), scores: make([]float64, n), ys: make([]int32, n)}
		for at, r := range idx {
			o.rows[at], o.scores[at], o.ys[at] = int32(r), s.Pred[r*w.k+j], int32(s.Y[r])
		}
		w.order = append(w.order, o)
	}
	return w, nil
}

// score returns the metric for the row counts wt (len rows, small: a
// count of 2¹⁶ draws of one row does not happen); ErrUndefined as Evaluate
// leaves a metric out. Counts are uint16 so that a large holdout's counts
// stay in cache.
func (w *weighted) score(wt []uint16) (float64, error) {
	y, p, k := w.s.Y, w.s.Pred, w.k
	var total float64
	for _, v := range wt {
		total += float64(v)
	}
	if total == 0 {
		return 0, fmt.Errorf("%s: %w: no rows", w.name, ErrUndefined)
	}
	switch w.name {
	case RMSE, MAE:
		var sum float64
		for i, v := range y {
			d := v - p[i]
			if w.name == RMSE {
				sum += float64(wt[i]) * d * d
			} else {
				sum += float64(wt[i]) * math.Abs(d)
			}
		}
		if w.name == RMSE {
			return math.Sqrt(sum / total), nil
		}
		return sum / total, nil
	case R2:
		var mean float64
		for i, v := range y {
			mean += float64(wt[i]) * v
		}
		mean /= total
		var res, tot float64
		for i, v := range y {
			d, t := v-p[i], v-mean
			res += float64(wt[i]) * d * d
			tot += float64(wt[i]) * t * t
		}
		switch {
		case tot != 0:
			return 1 - res/tot, nil
		case res == 0:
			return 1, nil
		}
		return 0, nil
	case Accuracy:
		var hits float64
		for i, v := range y {
			if int(v) == w.labels[i] {
				hits += float64(wt[i])
			}
		}
		return hits / total, nil
	case LogLoss:
		var sum float64
		for i, v := range y {
			if wt[i] == 0 {
				continue
			}
			row := p[i*k : (i+1)*k]
			var rowSum float64
			for _, q := range row {
				rowSum += clip(q)
			}
			sum -= float64(wt[i]) * math.Log(clip(row[int(v)])/rowSum)
		}
		return sum / total, nil
	case F1:
		return w.f1(wt, 1), nil
	case MacroF1:
		seen := make([]bool, w.s.Classes)
		for i, v := range y {
			if wt[i] > 0 {
				seen[int(v)], seen[w.labels[i]] = true, true
			}
		}
		var sum float64
		n := 0
		for c, ok := range seen {
			if ok {
				sum += w.f1(wt, c)
				n++
			}
		}
		if n == 0 {
			return 0, nil
		}
		return sum / float64(n), nil
	case ROCAUC:
		if w.task == TaskBinary {
			return w.auc(wt, 0, 1)
		}
		var sum float64
		n := 0
		for c := range w.s.Classes {
			a, err := w.auc(wt, c, c)
			if err != nil {
				continue // class absent from the resample, or the only one
			}
			sum += a
			n++
		}
		if n < 2 {
			return 0, fmt.Errorf("roc_auc: %w: fewer than two classes", ErrUndefined)
		}
		return sum / float64(n), nil
	}
	return 0, fmt.Errorf("%s: %w for %s", w.name, ErrUndefined, w.task)
}

func (w *weighted) f1(wt []uint16, class int) float64 {
	var tp, fp, fn float64
	for i, v := range w.s.Y {
		t, p := int(v) == class, w.labels[i] == class
		switch {
		case t && p:
			tp += float64(wt[i])
		case p:
			fp += float64(wt[i])
		case t:
			fn += float64(wt[i])
		}
	}
	if tp == 0 {
		return 0
	}
	return 2 * tp / (2*tp + fp + fn)
}

// auc is binaryAUC over the rows of order[o], rows of class positive
// positive, each counted wt times.
func (w *weighted) auc(wt []uint16, o, positive int) (float64, error) {
	ord := w.order[o]
	var tp, fp, area float64
	for start := 0; start < len(ord.rows); {
		s := ord.scores[start]
		var dtp, dfp float64
		end := start
		for ; end < len(ord.rows) && ord.scores[end] == s; end++ {
			if int(ord.ys[end]) == positive {
				dtp += float64(wt[ord.rows[end]])
			} else {
				dfp += float64(wt[ord.rows[end]])
			}
		}
		area += dfp * (2*tp + dtp)
		tp += dtp
		fp += dfp
		start = end
	}
	if tp == 0 || fp == 0 {
		return 0, fmt.Errorf("roc_auc: %w: one class", ErrUndefined)
	}
	return area / (2 * tp * fp), nil
}
