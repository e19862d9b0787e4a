package gbdt

import (
	"fmt"
	"math"
	"slices"

	"github.com/mlserve/mlserve/internal/ml"
)

// Loss names, the values of the loss param.
const (
	LossLog      = "log_loss"
	LossSquared  = "squared_error"
	LossAbsolute = "absolute_error"
	LossHuber    = "huber"
)

// huberQuantile is the quantile of the absolute residuals that sets the
// huber loss's delta at each round, as scikit-learn's GradientBoosting
// (alpha=0.9).
const huberQuantile = 0.9

// loss is a training objective over raw scores: k per row, row-major.
// Methods are called once per round, never per row, so the interface costs
// nothing in the hot loops (which are inside the methods).
type loss interface {
	// scores is k, the raw scores per row (and trees per round).
	scores() int
	// baseline returns the k constant raw scores that best fit y.
	baseline(y []float64) []float64
	// prepare is called with every training row's raw scores before the
	// gradients of a round are computed.
	prepare(y, raw []float64)
	// gradients fills gh[k][i] for rows i in [lo, hi).
	gradients(y, raw []float64, gh [][]gradPair, lo, hi int)
	// refit returns a leaf's raw-score step (before shrinkage) given its
	// rows, or false to keep the Newton step -G/(H+λ).
	refit(y, raw []float64, rows []uint32, k int) (float64, bool)
	// eval returns the mean loss of rows [lo, hi) summed in row order.
	eval(y, raw []float64) float64
}

// newLoss returns the loss for a task and loss name.
func newLoss(task ml.Task, classes int, name string) (loss, error) {
	switch {
	case task == ml.Binary:
		return logLoss{}, nil
	case task == ml.Multiclass:
		return softmaxLoss{k: classes}, nil
	case name == LossSquared:
		return squaredLoss{}, nil
	case name == LossAbsolute:
		return absoluteLoss{}, nil
	case name == LossHuber:
		return &huberLoss{}, nil
	}
	return nil, fmt.Errorf("loss %q for task %s", name, task)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// logLoss is binary cross-entropy on the logit.
type logLoss struct{}

func (logLoss) scores() int { return 1 }

func (logLoss) baseline(y []float64) []float64 {
	var pos float64
	for _, v := range y {
		pos += v
	}
	p := min(max(pos/float64(len(y)), 1e-15), 1-1e-15)
	return []float64{math.Log(p / (1 - p))}
}

func (logLoss) prepare(y, raw []float64) {}

func (logLoss) gradients(y, raw []float64, gh [][]gradPair, lo, hi int) {
	out := gh[0][lo:hi]
	raw, y = raw[lo:hi], y[lo:hi]
	for i := range out {
		p := sigmoid(raw[i])
		out[i] = gradPair{g: float32(p - y[i]), h: float32(max(p*(1-p), 1e-16))}
	}
}

func (logLoss) refit(y, raw []float64, rows []uint32, k int) (float64, bool) { return 0, false }

func (logLoss) eval(y, raw []float64) float64 {
	var s float64
	for i, v := range y {
		// log(1+exp(-z)) for the true class's logit z, stably.
		z := raw[i]
		if v == 0 {
			z = -z
		}
		if z > 0 {
			s += math.Log1p(math.Exp(-z))
		} else {
			s += -z + math.Log1p(math.Exp(z))
		}
	}
	return s / float64(len(y))
}

// softmaxLoss is multiclass cross-entropy on k logits.
type softmaxLoss struct{ k int }

func (l softmaxLoss) scores() int { return l.k }

func (l softmaxLoss) baseline(y []float64) []float64 {
	count := make([]float64, l.k)
	for _, v := range y {
		count[int(v)]++
	}
	out := make([]float64, l.k)
	for c := range out {
		out[c] = math.Log(max(count[c]/float64(len(y)), 1e-15))
	}
	return out
}

func (softmaxLoss) prepare(y, raw []float64) {}

// softmax writes the softmax of z to p.
func softmax(z, p []float64) {
	m := slices.Max(z)
	var s float64
	for i, v := range z {
		p[i] = math.Exp(v - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
}

func (l softmaxLoss) gradients(y, raw []float64, gh [][]gradPair, lo, hi int) {
	k := l.k
	p := make([]float64, k)
	for i := lo; i < hi; i++ {
		softmax(raw[i*k:(i+1)*k], p)
		for c := range k {
			g := p[c]
			if int(y[i]) == c {
				g--
			}
			gh[c][i] = gradPair{g: float32(g), h: float32(max(p[c]*(1-p[c]), 1e-16))}
		}
	}
}

func (softmaxLoss) refit(y, raw []float64, rows []uint32, k int) (float64, bool) { return 0, false }

func (l softmaxLoss) eval(y, raw []float64) float64 {
	k := l.k
	var s float64
	for i, v := range y {
		z := raw[i*k : (i+1)*k]
		m := slices.Max(z)
		var e float64
		for _, x := range z {
			e += math.Exp(x - m)
		}
		s += m + math.Log(e) - z[int(v)]
	}
	return s / float64(len(y))
}

// squaredLoss is half the squared error.
type squaredLoss struct{}

func (squaredLoss) scores() int { return 1 }

func (squaredLoss) baseline(y []float64) []float64 {
	var s float64
	for _, v := range y {
		s += v
	}
	return []float64{s / float64(len(y))}
}

func (squaredLoss) prepare(y, raw []float64) {}

func (squaredLoss) gradients(y, raw []float64, gh [][]gradPair, lo, hi int) {
	out := gh[0][lo:hi]
	raw, y = raw[lo:hi], y[lo:hi]
	for i := range out {
		out[i] = gradPair{g: float32(raw[i] - y[i]), h: 1}
	}
}

func (squaredLoss) refit(y, raw []float64, rows []uint32, k int) (float64, bool) { return 0, false }

func (squaredLoss) eval(y, raw []float64) float64 {
	var s float64
	for i, v := range y {
		d := raw[i] - v
		s += d * d / 2
	}
	return s / float64(len(y))
}

// absoluteLoss is the absolute error. Trees are grown on the sign of the
// residual; each leaf then takes the median residual of its rows, as
// scikit-learn and LightGBM do.
type absoluteLoss struct{}

func (absoluteLoss) scores() int { return 1 }

func (absoluteLoss) baseline(y []float64) []float64 {
	return []float64{quantile(slices.Clone(y), 0.5)}
}

func (absoluteLoss) prepare(y, raw []float64) {}

func (absoluteLoss) gradients(y, raw []float64, gh [][]gradPair, lo, hi int) {
	out := gh[0][lo:hi]
	raw, y = raw[lo:hi], y[lo:hi]
	for i := range out {
		g := 0.0
		switch d := raw[i] - y[i]; {
		case d > 0:
			g = 1
		case d < 0:
			g = -1
		}
		out[i] = gradPair{g: float32(g), h: 1}
	}
}

func (absoluteLoss) refit(y, raw []float64, rows []uint32, k int) (float64, bool) {
	return medianResidual(y, raw, rows), true
}

func (absoluteLoss) eval(y, raw []float64) float64 {
	var s float64
	for i, v := range y {
		s += math.Abs(raw[i] - v)
	}
	return s / float64(len(y))
}

// huberLoss is squared near zero and absolute beyond delta, where delta is
// the huberQuantile of the absolute residuals, set each round.
type huberLoss struct {
	delta float64
	// evalDelta is the first round's delta, kept so that validation losses
	// of different rounds compare.
	evalDelta float64
}

func (*huberLoss) scores() int { return 1 }

func (*huberLoss) baseline(y []float64) []float64 {
	return []float64{quantile(slices.Clone(y), 0.5)}
}

func (l *huberLoss) prepare(y, raw []float64) {
	abs := make([]float64, len(y))
	for i, v := range y {
		abs[i] = math.Abs(v - raw[i])
	}
	l.delta = quantile(abs, huberQuantile)
	if l.evalDelta == 0 {
		l.evalDelta = l.delta
	}
}

func (l *huberLoss) gradients(y, raw []float64, gh [][]gradPair, lo, hi int) {
	out := gh[0][lo:hi]
	raw, y = raw[lo:hi], y[lo:hi]
	d := l.delta
	for i := range out {
		g := raw[i] - y[i]
		g = min(max(g, -d), d)
		out[i] = gradPair{g: float32(g), h: 1}
	}
}

func (*huberLoss) refit(y, raw []float64, rows []uint32, k int) (float64, bool) { return 0, false }

func (l *huberLoss) eval(y, raw []float64) float64 {
	d := l.evalDelta
	var s float64
	for i, v := range y {
		r := math.Abs(raw[i] - v)
		if r <= d {
			s += r * r / 2
		} else {
			s += d * (r - d/2)
		}
	}
	return s / float64(len(y))
}

// medianResidual returns the median of y-raw over rows.
func medianResidual(y, raw []float64, rows []uint32) float64 {
	r := make([]float64, len(rows))
	for i, row := range rows {
		r[i] = y[row] - raw[row]
	}
	return quantile(r, 0.5)
}

// quantile returns the q-quantile of v (which it sorts), interpolating
// linearly as numpy's default.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	pos := q * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(v)-1)
	return v[lo] + (v[hi]-v[lo])*(pos-float64(lo))
}
