package gbdt

import "slices"

// Categorical split constants, as scikit-learn's MIN_CAT_SUPPORT and
// LightGBM's cat_smooth and max_cat_threshold.
const (
	// catMinSupport is the rows a category needs in a node to be placed
	// by the scan; rarer ones go right.
	catMinSupport = 10
	// catSmooth is added to a category's hessian when ordering categories
	// by gradient/hessian, so that small ones do not sort to the ends.
	catSmooth = 10.0
	// catMaxLeft caps the categories on the left of a split.
	catMaxLeft = 32
)

// minHessian is the least hessian a child may have, as scikit-learn's
// min_hessian_to_split and LightGBM's min_sum_hessian_in_leaf.
const minHessian = 1e-3

// sums are the gradient, hessian and row totals of a node or a side.
type sums struct {
	g, h float64
	n    int
}

func (s sums) minus(o sums) sums { return sums{s.g - o.g, s.h - o.h, s.n - o.n} }

// catSet is a set of category codes (< 256).
type catSet [4]uint64

func (c *catSet) add(b uint8)      { c[b>>6] |= 1 << (b & 63) }
func (c *catSet) has(b uint8) bool { return c[b>>6]>>(b&63)&1 != 0 }

// split is a node's best split.
type split struct {
	gain    float64
	feature int
	// threshold: a numeric feature's rows with code <= threshold go left.
	threshold uint8
	// cats: a categorical feature's rows with a code in cats go left.
	cats        catSet
	categorical bool
	// defaultLeft sends the missing bin (and, at prediction, unseen
	// categories) left.
	defaultLeft bool
	left, right sums
}

// splitter finds the best split of a node from its histogram.
type splitter struct {
	mapper         *binMapper
	layout         histLayout
	l2             float64
	minSamplesLeaf int
}

// score is the part of the loss reduction a side contributes: G²/(H+λ).
func (s *splitter) score(x sums) float64 { return x.g * x.g / (x.h + s.l2) }

// valid reports whether both sides may become leaves.
func (s *splitter) valid(l, r sums) bool {
	return l.n >= s.minSamplesLeaf && r.n >= s.minSamplesLeaf && l.h >= minHessian && r.h >= minHessian
}

// best returns the best split of a node with totals total and histogram
// hist over the features in feats, and false if no split reduces the loss.
// Features are tried in ascending order and a later candidate must be
// strictly better, so ties go to the lowest feature and threshold.
func (s *splitter) best(hist []hbin, total sums, feats []int) (split, bool) {
	best := split{gain: 0}
	parent := s.score(total)
	found := false
	for _, j := range feats {
		fb := &s.mapper.features[j]
		h := hist[s.layout.off[j] : s.layout.off[j]+fb.nBins+1]
		var c split
		var ok bool
		if fb.categorical {
			c, ok = s.bestCategorical(h, total, parent)
		} else {
			c, ok = s.bestNumeric(h, total, parent)
		}
		if ok && c.gain > best.gain {
			c.feature = j
			best, found = c, true
		}
	}
	return best, found
}

// bestNumeric scans the thresholds of one numeric feature twice: with the
// missing bin on the right, then on the left. The last threshold (every
// value left, missing right) splits on missingness alone.
func (s *splitter) bestNumeric(h []hbin, total sums, parent float64) (split, bool) {
	nb := len(h) - 1
	miss := sums{h[nb].g, h[nb].h, int(h[nb].n)}
	var best split
	found := false
	try := func(l sums, t int, missLeft bool) {
		r := total.minus(l)
		if !s.valid(l, r) {
			return
		}
		if g := s.score(l) + s.score(r) - parent; g > best.gain {
			best = split{gain: g, threshold: uint8(t), defaultLeft: missLeft, left: l, right: r}
			found = true
		}
	}
	var l sums
	for t := 0; t < nb; t++ {
		l.g, l.h, l.n = l.g+h[t].g, l.h+h[t].h, l.n+int(h[t].n)
		if t == nb-1 && miss.n == 0 {
			break
		}
		try(l, t, false)
	}
	if miss.n > 0 {
		l = miss
		for t := 0; t < nb-1; t++ {
			l.g, l.h, l.n = l.g+h[t].g, l.h+h[t].h, l.n+int(h[t].n)
			try(l, t, true)
		}
	} else if found {
		// No missing values here to learn from: send them, at prediction,
		// where most rows went, as scikit-learn does.
		best.defaultLeft = best.left.n >= best.right.n
	}
	return best, found
}

// catStat is one category's sums in a node and its sort key.
type catStat struct {
	code uint8
	s    sums
	key  float64
}

// bestCategorical finds the best subset split of a categorical feature as
// LightGBM does: the categories with enough rows (the missing bin counts as
// one) are sorted by G/(H+catSmooth) and every prefix, from either end, is
// tried as the left side, up to catMaxLeft categories or half of them.
func (s *splitter) bestCategorical(h []hbin, total sums, parent float64) (split, bool) {
	nb := len(h) - 1
	var stats [256]catStat
	used := 0
	for c := 0; c <= nb; c++ {
		if int(h[c].n) >= catMinSupport {
			x := sums{h[c].g, h[c].h, int(h[c].n)}
			stats[used] = catStat{code: uint8(c), s: x, key: x.g / (x.h + catSmooth)}
			used++
		}
	}
	if used == 0 {
		return split{}, false
	}
	cs := stats[:used]
	slices.SortStableFunc(cs, func(a, b catStat) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	missBin := uint8(nb)
	var best split
	found := false
	limit := min(catMaxLeft, (used+1)/2)
	for dir := 0; dir < 2; dir++ {
		var l sums
		for k := 0; k < limit; k++ {
			c := cs[k]
			if dir == 1 {
				c = cs[used-1-k]
			}
			l.g, l.h, l.n = l.g+c.s.g, l.h+c.s.h, l.n+c.s.n
			r := total.minus(l)
			if !s.valid(l, r) {
				continue
			}
			g := s.score(l) + s.score(r) - parent
			if g <= best.gain {
				continue
			}
			best = split{gain: g, categorical: true, left: l, right: r}
			for m := 0; m <= k; m++ {
				code := cs[m].code
				if dir == 1 {
					code = cs[used-1-m].code
				}
				if code == missBin {
					best.defaultLeft = true
				} else {
					best.cats.add(code)
				}
			}
			found = true
		}
	}
	if found && h[nb].n == 0 {
		best.defaultLeft = best.left.n >= best.right.n
	}
	return best, found
}
