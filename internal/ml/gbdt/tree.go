package gbdt

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
}

// leaf returns the leaf index that row x reaches. levels holds each
// feature's category count (0 for numeric features); a code outside
// [0, levels) is treated as missing.
func (t *tree) leaf(x []float64, levels []float64) uint32 {
	if len(t.nodes) == 0 {
		return 0
	}
	i := uint32(0)
	for i < leafBit {
		n := &t.nodes[i]
		v := x[n.feature]
		var left bool
		if n.flags&flagCategorical == 0 {
			left = v <= n.thr || (v != v && n.flags&flagDefaultLeft != 0)
		} else if v >= 0 && v < levels[n.feature] {
			c := uint32(v)
			left = t.cats[uint32(n.thr)+c>>5]>>(c&31)&1 != 0
		} else {
			left = n.flags&flagDefaultLeft != 0
		}
		if left {
			i = n.left
		} else {
			i = n.right
		}
	}
	return i &^ leafBit
}

// newTree converts a grown tree to its predictor: thresholds become raw
// values through the bin edges, leaf values are multiplied by shrink.
func newTree(nodes []growNode, m *binMapper, shrink float64) tree {
	var t tree
	var walk func(i int) uint32
	walk = func(i int) uint32 {
		g := &nodes[i]
		if g.isLeaf() {
			t.leaves = append(t.leaves, g.value*shrink)
			return leafBit | uint32(len(t.leaves)-1)
		}
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
	return t
}
