package gbdt

import (
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/ml"
)

// This file is TreeSHAP: the path-dependent algorithm of Lundberg, Erion
// and Lee, "Consistent Individualized Feature Attribution for Tree
// Ensembles" (2018), Algorithm 2. It gives each feature its exact Shapley
// value for one tree in O(leaves × depth²), where a feature left out of a
// coalition is integrated out by following both children of its splits,
// weighted by the training rows (cover) that went each way.

var _ ml.Explainer = (*Model)(nil)

// errNoCover is returned by Explain for a model encoded without covers.
var errNoCover = errors.New("explain: the model was trained before node covers were kept; retrain it to explain")

// pathElem is one feature on the unique path from the root to a node: the
// fraction of the coalition-free flow (zero) and of the coalition flow
// (one, 0 or 1) that passes its splits, and the weight of every subset
// size (w).
type pathElem struct {
	feature int
	zero    float64
	one     float64
	w       float64
}

// Scores is the number of raw scores of a row: 1 for binary and
// regression, the number of classes for multiclass.
func (m *Model) Scores() int { return m.k }

// Explain writes row x's base values (len Scores()) and per-feature
// contributions (Scores() rows of len(x)): base[c] + Σ contrib[c*nf+j] is
// raw score c. The base is the model's baseline plus each tree's expected
// value over its training rows.
func (m *Model) Explain(x []float64, base, contrib []float64) error {
	nf := len(m.levels)
	if len(x) < nf || len(base) < m.k || len(contrib) < m.k*nf {
		return fmt.Errorf("explain: row has %d values, want %d", len(x), nf)
	}
	x = x[:nf]
	copy(base, m.base)
	clear(contrib[:m.k*nf])
	maxDepth := 0
	for ti := range m.trees {
		if m.trees[ti].cover == nil && len(m.trees[ti].nodes) > 0 {
			return errNoCover
		}
		maxDepth = max(maxDepth, int(m.forest.depth[ti]))
	}
	// One path segment per recursion level, each long enough for the
	// deepest unique path.
	seg := maxDepth + 2
	buf := make([]pathElem, seg*(seg+1))
	for ti := range m.trees {
		t := &m.trees[ti]
		c := ti % m.k
		if len(t.nodes) == 0 {
			base[c] += t.leaves[0]
			continue
		}
		base[c] += t.expected()
		t.shap(x, m.levels, contrib[c*nf:(c+1)*nf], buf, seg)
	}
	return nil
}

// expected is the tree's mean leaf value over its training rows.
func (t *tree) expected() float64 {
	nn := len(t.nodes)
	var s float64
	for i, v := range t.leaves {
		s += v * t.cover[nn+i]
	}
	return s / t.cover[0]
}

// shapWalk is one tree's TreeSHAP walk for one row.
type shapWalk struct {
	t         *tree
	x, levels []float64
	phi       []float64
	buf       []pathElem // one segment of seg elements per recursion level
	seg       int
}

// shap adds the tree's SHAP values for row x to phi.
func (t *tree) shap(x, levels, phi []float64, buf []pathElem, seg int) {
	w := shapWalk{t: t, x: x, levels: levels, phi: phi, buf: buf, seg: seg}
	w.recurse(0, 0, 0, nil, 1, 1, -1)
}

// recurse visits node (or leaf) ref at recursion level, extending the
// parent's unique path (depth elements) by the split that led here.
func (w *shapWalk) recurse(ref uint32, level, depth int, parent []pathElem, zero, one float64, feature int) {
	t := w.t
	path := w.buf[level*w.seg : (level+1)*w.seg]
	copy(path, parent[:depth])
	extendPath(path, depth, zero, one, feature)
	if ref&leafBit != 0 {
		v := t.leaves[ref&^leafBit]
		for i := 1; i <= depth; i++ {
			e := &path[i]
			w.phi[e.feature] += unwoundSum(path, depth, i) * (e.one - e.zero) * v
		}
		return
	}
	n := &t.nodes[ref]
	hot, cold := n.right, n.left
	if t.goesLeft(n, w.x[n.feature], w.levels) {
		hot, cold = n.left, n.right
	}
	cover := t.cover[ref]
	inZero, inOne := 1.0, 1.0
	for k := 1; k <= depth; k++ {
		if path[k].feature == int(n.feature) {
			inZero, inOne = path[k].zero, path[k].one
			unwindPath(path, depth, k)
			depth--
			break
		}
	}
	w.recurse(hot, level+1, depth+1, path, t.coverOf(hot)/cover*inZero, inOne, int(n.feature))
	w.recurse(cold, level+1, depth+1, path, t.coverOf(cold)/cover*inZero, 0, int(n.feature))
}

// coverOf returns the cover of a child reference.
func (t *tree) coverOf(ref uint32) float64 {
	if ref&leafBit != 0 {
		return t.cover[len(t.nodes)+int(ref&^leafBit)]
	}
	return t.cover[ref]
}

// extendPath appends a feature with fractions zero and one to the unique
// path path[:depth], updating the subset-size weights.
func extendPath(path []pathElem, depth int, zero, one float64, feature int) {
	w := 0.0
	if depth == 0 {
		w = 1
	}
	path[depth] = pathElem{feature: feature, zero: zero, one: one, w: w}
	d1 := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		path[i+1].w += one * path[i].w * float64(i+1) / d1
		path[i].w = zero * path[i].w * float64(depth-i) / d1
	}
}

// unwindPath removes element i from the path path[:depth+1], undoing its
// extendPath.
func unwindPath(path []pathElem, depth, i int) {
	one, zero := path[i].one, path[i].zero
	next := path[depth].w
	d1 := float64(depth + 1)
	for j := depth - 1; j >= 0; j-- {
		if one != 0 {
			tmp := path[j].w
			path[j].w = next * d1 / (float64(j+1) * one)
			next = tmp - path[j].w*zero*float64(depth-j)/d1
		} else {
			path[j].w = path[j].w * d1 / (zero * float64(depth-j))
		}
	}
	for j := i; j < depth; j++ {
		path[j].feature, path[j].zero, path[j].one = path[j+1].feature, path[j+1].zero, path[j+1].one
	}
}

// unwoundSum is the total weight of path[:depth+1] with element i
// unwound, without changing the path. A one fraction is 0 or 1, so the
// divisions become multiplications by reciprocals.
func unwoundSum(path []pathElem, depth, i int) float64 {
	one, zero := path[i].one, path[i].zero
	next := path[depth].w
	d1 := float64(depth + 1)
	var total float64
	if one != 0 {
		a := d1 / one
		b := zero / d1
		for j := depth - 1; j >= 0; j-- {
			tmp := next * a * recip(j+1)
			total += tmp
			next = path[j].w - tmp*b*float64(depth-j)
		}
		return total
	}
	if zero != 0 {
		a := d1 / zero
		for j := depth - 1; j >= 0; j-- {
			total += path[j].w * a * recip(depth-j)
		}
	}
	return total
}

// recips holds 1/k for the path lengths of trees up to 64 deep.
var recips = func() (r [66]float64) {
	for k := 1; k < len(r); k++ {
		r[k] = 1 / float64(k)
	}
	return r
}()

// recip returns 1/k.
func recip(k int) float64 {
	if k < len(recips) {
		return recips[k]
	}
	return 1 / float64(k)
}

// RawScores writes row x's raw scores (Scores() values), summed as
// Predict sums them.
func (m *Model) RawScores(x []float64, raw []float64) {
	for c := range m.k {
		raw[c] = m.forest.sum(x, m.base[c], c, len(m.forest.roots), m.k)
	}
}
