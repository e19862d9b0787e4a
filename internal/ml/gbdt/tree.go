package gbdt

import "math"

// leafBit marks a child reference as a leaf: leafBit|i is leaves[i].
const leafBit uint32 = 1 << 31

// Node flags.
const (
	// flagCategorical: the node tests category membership; thr is the
	// index of the node's first bitset word in tree.cats.
	flagCategorical uint8 = 1 << iota
	// flagDefaultLeft: missing values (NaN, unseen categories) go left.
	flagDefaultLeft
)

// node is one split of a fitted tree, on raw feature values. A numeric
// node sends x left when x <= thr; NaN follows flagDefaultLeft.
type node struct {
	thr         float64
	feature     uint32
	left, right uint32 // node index, or leafBit|leaf index
	flags       uint8
}

// tree is a fitted regression tree laid out for prediction: nodes in
// preorder (root first), leaf values apart, categorical bitsets in one
// slice. A tree with no split has one leaf and no nodes.
type tree struct {
	nodes  []node
	leaves []float64
	cats   []uint32
	// cover is the number of training rows that reached each node
	// (len(nodes) values) then each leaf: the weights TreeSHAP gives the
	// children of a split on a feature it leaves out. It is nil for a
	// model encoded before covers were kept.
	cover []float64
}

// leaf returns the leaf index that row x reaches, walking the nodes the
// plain way (the reference for forest, which Predict uses). levels holds
// each feature's category count (0 for numeric features).
func (t *tree) leaf(x []float64, levels []float64) uint32 {
	if len(t.nodes) == 0 {
		return 0
	}
	i := uint32(0)
	for i < leafBit {
		n := &t.nodes[i]
		if t.goesLeft(n, x[n.feature], levels) {
			i = n.left
		} else {
			i = n.right
		}
	}
	return i &^ leafBit
}

// goesLeft reports whether value v of node n's feature goes to its left
// child.
func (t *tree) goesLeft(n *node, v float64, levels []float64) bool {
	if n.flags&flagCategorical == 0 {
		return v <= n.thr || (v != v && n.flags&flagDefaultLeft != 0)
	}
	if c, ok := categoryCode(v, levels[n.feature]); ok {
		return t.cats[int(n.thr)+c>>5]>>(c&31)&1 != 0
	}
	return n.flags&flagDefaultLeft != 0
}

// newTree converts a grown tree to its predictor: thresholds become raw
// values through the bin edges, leaf values are multiplied by shrink, and
// each node's and leaf's row count becomes its cover.
func newTree(nodes []growNode, m *binMapper, shrink float64) tree {
	var t tree
	var nodeCover, leafCover []float64
	var walk func(i int) uint32
	walk = func(i int) uint32 {
		g := &nodes[i]
		if g.isLeaf() {
			t.leaves = append(t.leaves, g.value*shrink)
			leafCover = append(leafCover, float64(g.end-g.start))
			return leafBit | uint32(len(t.leaves)-1)
		}
		nodeCover = append(nodeCover, float64(g.end-g.start))
		s := &g.split
		fb := &m.features[s.feature]
		idx := uint32(len(t.nodes))
		n := node{feature: uint32(s.feature)}
		if s.defaultLeft {
			n.flags |= flagDefaultLeft
		}
		if s.categorical {
			n.flags |= flagCategorical
			n.thr = float64(len(t.cats))
			words := make([]uint32, (fb.nBins+31)/32)
			for c := range fb.nBins {
				if s.cats.has(uint8(c)) {
					words[c>>5] |= 1 << (c & 31)
				}
			}
			t.cats = append(t.cats, words...)
		} else {
			n.thr = fb.edges[s.threshold]
		}
		t.nodes = append(t.nodes, n)
		l := walk(g.left)
		r := walk(g.right)
		t.nodes[idx].left, t.nodes[idx].right = l, r
		return idx
	}
	walk(0)
	t.cover = append(nodeCover, leafCover...)
	return t
}

// step is a node of the prediction layout. Leaves are steps whose children
// are themselves, so that every row takes the same number of steps through
// a tree; a step has no data-dependent branch (wide categorical steps
// aside), so rows and trees walked together overlap in the CPU. A step
// goes to child[num ^ bit], where num is 0 when sgn*x <= thr (never for
// NaN) and bit is bit int(x) of set (0 when the code is not in 0..63).
//
// A numeric step has an empty set. A default-right node keeps thr, sgn 1
// and children (left, right); a default-left node gets sgn -1, thr =
// -next(thr) and children (right, left): then sgn*x <= thr' holds exactly
// when x > thr, and NaN goes left.
//
// A categorical step of at most 64 levels has a NaN thr (num is always 1)
// and in set the codes that go to child[0]: the left codes with children
// (left, right) when missing goes right, else the right codes with
// children (right, left). Any other value, an unseen code, a negative one
// or NaN goes to child[1]: the missing direction.
type step struct {
	thr     float64
	sgn     float64
	set     uint64
	feature uint32
	child   [2]uint32
	flags   uint8 // stepCat, stepWide
}

// Step flags, apart from the node flags (flagDefaultLeft is kept for wide
// steps).
const (
	// stepCat: a categorical step with its set in set.
	stepCat uint8 = 1 << 6
	// stepWide: a categorical step of a feature with more than 64 levels;
	// thr indexes its bitset in forest.cats and the children are (left,
	// right).
	stepWide uint8 = 1 << 7
)

// Tree kinds, by the steps they have; each has its own walk.
const (
	kindNumeric uint8 = iota
	kindCategorical
	kindWide
)

// forest is the trees of a model compiled for prediction: one slice of
// steps for all trees (children are absolute indices), the leaf value of
// each step apart.
type forest struct {
	steps  []step
	value  []float64 // per step; the leaf value at leaves, else 0
	cats   []uint32  // bitsets of wide categorical steps
	roots  []uint32
	depth  []int32 // steps from a tree's root to its deepest leaf
	kind   []uint8 // the tree's steps: kindNumeric, kindCategorical or kindWide
	levels []float64
}

// compileForest lays out trees for prediction. levels holds each feature's
// category count (0 for numeric features).
func compileForest(trees []tree, levels []float64) *forest {
	f := &forest{
		levels: levels, roots: make([]uint32, len(trees)), depth: make([]int32, len(trees)), kind: make([]uint8, len(trees)),
	}
	for ti := range trees {
		t := &trees[ti]
		base := uint32(len(f.steps))
		nNodes := uint32(len(t.nodes))
		// Nodes keep their indices; leaf i follows at nNodes+i.
		ref := func(c uint32) uint32 {
			if c&leafBit != 0 {
				return base + nNodes + c&^leafBit
			}
			return base + c
		}
		for _, n := range t.nodes {
			l, r := ref(n.left), ref(n.right)
			defLeft := n.flags&flagDefaultLeft != 0
			s := step{thr: n.thr, sgn: 1, feature: n.feature, child: [2]uint32{l, r}}
			switch {
			case n.flags&flagCategorical == 0 && defLeft:
				s.thr, s.sgn, s.child = -math.Nextafter(n.thr, math.Inf(1)), -1, [2]uint32{r, l}
			case n.flags&flagCategorical == 0:
			case levels[n.feature] <= 64:
				s.flags = stepCat
				s.thr = math.NaN()
				f.kind[ti] = max(f.kind[ti], kindCategorical)
				s.set = math.Float64bits(inlineSet(t.cats[int(n.thr):], int(levels[n.feature]), defLeft))
				if defLeft {
					s.child = [2]uint32{r, l}
				}
			default:
				s.flags = stepWide | n.flags&flagDefaultLeft
				s.thr = float64(len(f.cats))
				f.kind[ti] = kindWide
				f.cats = append(f.cats, t.cats[int(n.thr):int(n.thr)+(int(levels[n.feature])+31)/32]...)
			}
			f.steps = append(f.steps, s)
			f.value = append(f.value, 0)
		}
		for i, v := range t.leaves {
			self := base + nNodes + uint32(i)
			f.steps = append(f.steps, step{sgn: 1, child: [2]uint32{self, self}})
			f.value = append(f.value, v)
		}
		f.roots[ti] = base // the root node, or the single leaf
		f.depth[ti] = int32(treeDepth(t))
	}
	return f
}

// inlineSet packs a category set of at most 64 levels (words of 32 bits)
// into a float64's bits: the codes that go left, or with defaultLeft the
// known codes that go right.
func inlineSet(words []uint32, levels int, defaultLeft bool) float64 {
	var bits uint64
	for c := range levels {
		if left := words[c>>5]>>(c&31)&1 != 0; left != defaultLeft {
			bits |= 1 << c
		}
	}
	return math.Float64frombits(bits)
}

// treeDepth returns the number of splits on the longest path from the
// root to a leaf. Children come after their parents (DecodeModel checks
// it), so one backward pass finds every node's depth below it.
func treeDepth(t *tree) int {
	below := make([]int, len(t.nodes))
	at := func(c uint32) int {
		if c&leafBit != 0 {
			return 0
		}
		return below[c]
	}
	for i := len(t.nodes) - 1; i >= 0; i-- {
		below[i] = 1 + max(at(t.nodes[i].left), at(t.nodes[i].right))
	}
	if len(below) == 0 {
		return 0
	}
	return below[0]
}

// categoryCode returns the code of category value v and whether it is
// one of levels codes (NaN and codes outside [0, levels) are missing).
func categoryCode(v, levels float64) (int, bool) {
	if !(v > -1 && v < levels) {
		return 0, false
	}
	return int(v), true
}

// nextWide returns the step after a wide categorical step s for value v.
func (f *forest) nextWide(s *step, v float64) uint32 {
	if c, ok := categoryCode(v, f.levels[s.feature]); ok {
		return s.child[f.cats[int(s.thr)+c>>5]>>(c&31)&1^1]
	}
	return s.child[(s.flags>>1)&1^1]
}

// walk moves each idx[j] depth steps down its tree, reading its row at
// X[j*stride:]. With wide set, the trees may have wide categorical steps.
func (f *forest) walk(idx []uint32, X []float64, stride, depth int, kind uint8) {
	switch kind {
	case kindWide:
		f.walkWide(idx, X, stride, depth)
		return
	case kindNumeric:
		f.walkNumeric(idx, X, stride, depth)
		return
	}
	steps := f.steps
	for range depth {
		for j, i := range idx {
			s := &steps[i]
			v := X[j*stride+int(s.feature)]
			// Numeric steps have an empty set; categorical ones a NaN
			// threshold, so num is 1. Go's shift by 64 or more is 0.
			var num uint64
			if !(v*s.sgn <= s.thr) {
				num = 1
			}
			idx[j] = s.child[num^(s.set>>uint64(int64(v))&1)]
		}
	}
}

// walkNumeric is walk for trees of numeric steps only.
func (f *forest) walkNumeric(idx []uint32, X []float64, stride, depth int) {
	steps := f.steps
	for range depth {
		for j, i := range idx {
			s := &steps[i]
			var num uint64
			if !(X[j*stride+int(s.feature)]*s.sgn <= s.thr) {
				num = 1
			}
			idx[j] = s.child[num]
		}
	}
}

// walkWide is walk for trees with wide categorical steps.
func (f *forest) walkWide(idx []uint32, X []float64, stride, depth int) {
	steps := f.steps
	for range depth {
		for j, i := range idx {
			s := &steps[i]
			v := X[j*stride+int(s.feature)]
			if s.flags&stepWide != 0 {
				idx[j] = f.nextWide(s, v)
				continue
			}
			var num uint64
			if !(v*s.sgn <= s.thr) {
				num = 1
			}
			idx[j] = s.child[num^(s.set>>uint64(int64(v))&1)]
		}
	}
}

// treeGroup is the trees Predict walks together for one row.
const treeGroup = 8

// sum returns total plus the leaf values of trees lo, lo+stride, ... (below
// hi) for row x, added in tree order.
func (f *forest) sum(x []float64, total float64, lo, hi, stride int) float64 {
	var idx [treeGroup]uint32
	for t := lo; t < hi; t += treeGroup * stride {
		n := 0
		var most int32
		var kind uint8
		for ; n < treeGroup && t+n*stride < hi; n++ {
			idx[n] = f.roots[t+n*stride]
			most = max(most, f.depth[t+n*stride])
			kind = max(kind, f.kind[t+n*stride])
		}
		// Leaves loop on themselves, so extra steps are harmless.
		f.walk(idx[:n], x, 0, int(most), kind)
		for j := range n {
			total += f.value[idx[j]]
		}
	}
	return total
}

// blockRows is the rows PredictBatch walks through a tree together.
const blockRows = 32

// addBlock adds tree ti's leaf values for the rows of X (nf features each,
// at most blockRows) to out[r*stride].
func (f *forest) addBlock(ti int, X []float64, nf int, out []float64, stride int) {
	n := len(X) / nf
	var idx [blockRows]uint32
	root := f.roots[ti]
	for j := range n {
		idx[j] = root
	}
	f.walk(idx[:n], X, nf, int(f.depth[ti]), f.kind[ti])
	for j := range n {
		out[j*stride] += f.value[idx[j]]
	}
}
