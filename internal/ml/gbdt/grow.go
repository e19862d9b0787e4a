package gbdt

import (
	"container/heap"
	"slices"
)

// growParams are the limits of one tree.
type growParams struct {
	maxDepth       int // 0: no limit
	maxLeaves      int // 0: no limit
	minSamplesLeaf int
	l2             float64
}

// growNode is a node of a tree being grown; it lives only during training.
// Its rows are grower.rows[start:end].
type growNode struct {
	start, end int
	total      sums
	depth      int
	// split is the node's best split once its histogram is known; it is
	// the split made when left >= 0.
	split       split
	left, right int // child node indices, -1 for a leaf
	hist        []hbin
	value       float64 // leaf value: the Newton step, then scaled by boost
}

func (n *growNode) isLeaf() bool { return n.left < 0 }

// grower grows one tree at a time, best-first: of all leaves that can be
// split, the one whose split reduces the loss most is split next, until
// maxLeaves leaves exist or no split helps. Without a leaf limit every
// useful split within maxDepth is made, which is depth-wise growth.
type grower struct {
	p       growParams
	hb      histBuilder
	sp      splitter
	pt      partitioner
	rows    []uint32 // a permutation of the tree's rows, grouped by node
	scratch []uint32
	pool    [][]hbin
	nodes   []growNode
	queue   nodeQueue
	// oneByOne turns growLevels off (for tests: both ways give one tree).
	oneByOne bool
}

func newGrower(p growParams, codes *codeMatrix, m *binMapper, threads int) *grower {
	nRows := codes.rows
	layout := newHistLayout(m)
	columns := transpose(codes, threads)
	return &grower{
		p:       p,
		hb:      newHistBuilder(codes, columns, layout, threads),
		sp:      splitter{mapper: m, layout: layout, l2: p.l2, minSamplesLeaf: p.minSamplesLeaf},
		pt:      partitioner{columns: columns, n: nRows, mapper: m, threads: threads},
		rows:    make([]uint32, 0, nRows),
		scratch: make([]uint32, nRows),
	}
}

func (g *grower) getHist() []hbin {
	if n := len(g.pool); n > 0 {
		h := g.pool[n-1]
		g.pool = g.pool[:n-1]
		return h
	}
	return make([]hbin, g.hb.layout.alloc())
}

func (g *grower) putHist(h []hbin) {
	if h != nil {
		g.pool = append(g.pool, h)
	}
}

// canSplit reports whether a node may get children at all.
func (g *grower) canSplit(n *growNode) bool {
	return (g.p.maxDepth == 0 || n.depth < g.p.maxDepth) && n.end-n.start >= 2*g.p.minSamplesLeaf
}

// grow grows a tree on rows with gradients gh (indexed by row), trying the
// features feats (ascending). It returns the nodes, root first; g.rows
// holds each leaf's rows.
func (g *grower) grow(rows []uint32, gh []gradPair, feats []int) []growNode {
	g.rows = append(g.rows[:0], rows...)
	g.nodes = g.nodes[:0]
	g.queue = nodeQueue{ids: g.queue.ids[:0], nodes: &g.nodes}
	g.nodes = append(g.nodes, growNode{start: 0, end: len(rows), left: -1, right: -1})
	root := &g.nodes[0]
	if g.canSplit(root) && len(feats) > 0 {
		root.hist = g.getHist()
		g.hb.build(root.hist, g.rows, gh, feats)
		root.total = histTotal(root.hist, g.hb.layout, feats[0], g.sp.mapper)
		g.consider(0, feats)
	} else {
		for _, r := range g.rows {
			root.total.g += float64(gh[r].g)
			root.total.h += float64(gh[r].h)
		}
		root.total.n = len(rows)
	}
	if g.levelWise() && !g.oneByOne {
		g.growLevels(gh, feats)
	}
	leaves := 1
	for g.queue.Len() > 0 && (g.p.maxLeaves == 0 || leaves < g.p.maxLeaves) {
		id := heap.Pop(&g.queue).(int)
		leaves++
		last := g.p.maxLeaves > 0 && leaves >= g.p.maxLeaves
		g.splitNode(id, gh, feats, last)
	}
	for _, id := range g.queue.ids {
		g.putHist(g.nodes[id].hist)
		g.nodes[id].hist = nil
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		if n.isLeaf() {
			n.value = -n.total.g / (n.total.h + g.p.l2)
		}
	}
	return g.nodes
}

// levelWise reports whether every useful split within the depth limit will
// be made (no leaf limit, or one the depth limit cannot reach). Then the
// order of splits does not matter, and growLevels splits a whole level at
// once, sharing the threads among its nodes.
func (g *grower) levelWise() bool {
	p := g.p
	return p.maxLeaves == 0 || (p.maxDepth > 0 && p.maxDepth < 30 && p.maxLeaves >= 1<<p.maxDepth)
}

// growLevels splits the queued nodes, then their children with a split,
// and so on, a level at a time: partitions, histograms and split searches
// of a level each run as one parallel batch.
func (g *grower) growLevels(gh []gradPair, feats []int) {
	level := slices.Clone(g.queue.ids)
	g.queue.ids = g.queue.ids[:0]
	var parts []partJob
	var jobs []histJob
	type pair struct {
		parent, small, large  int
		parentHist, smallHist []hbin
		needSmall, needLarge  bool
	}
	var pairs []pair
	var cands []int
	for len(level) > 0 {
		parts = parts[:0]
		for _, id := range level {
			n := &g.nodes[id]
			parts = append(parts, partJob{g.rows[n.start:n.end], g.scratch[n.start:n.end], &n.split})
		}
		nLeft := g.pt.partitionMany(parts)
		pairs, jobs = pairs[:0], jobs[:0]
		for i, id := range level {
			n := g.nodes[id]
			l, r := len(g.nodes), len(g.nodes)+1
			g.nodes = append(g.nodes,
				growNode{start: n.start, end: n.start + nLeft[i], total: n.split.left, depth: n.depth + 1, left: -1, right: -1},
				growNode{start: n.start + nLeft[i], end: n.end, total: n.split.right, depth: n.depth + 1, left: -1, right: -1})
			g.nodes[id].left, g.nodes[id].right = l, r
			g.nodes[id].hist = nil
			pr := pair{parent: id, small: l, large: r, parentHist: n.hist}
			if nLeft[i] > n.end-n.start-nLeft[i] {
				pr.small, pr.large = r, l
			}
			pr.needSmall, pr.needLarge = g.canSplit(&g.nodes[pr.small]), g.canSplit(&g.nodes[pr.large])
			if !pr.needSmall && !pr.needLarge {
				g.putHist(pr.parentHist)
				continue
			}
			pr.smallHist = g.getHist()
			sn := &g.nodes[pr.small]
			jobs = append(jobs, histJob{pr.smallHist, g.rows[sn.start:sn.end], sn.start})
			pairs = append(pairs, pr)
		}
		g.hb.buildMany(jobs, gh, feats)
		cands = cands[:0]
		for _, pr := range pairs {
			if pr.needLarge {
				g.hb.subtract(pr.parentHist, pr.parentHist, pr.smallHist, feats)
				g.nodes[pr.large].hist = pr.parentHist
			} else {
				g.putHist(pr.parentHist)
			}
			if pr.needSmall {
				g.nodes[pr.small].hist = pr.smallHist
			} else {
				g.putHist(pr.smallHist)
			}
			l := g.nodes[pr.parent].left
			for _, c := range [2]int{l, l + 1} {
				if g.nodes[c].hist != nil {
					cands = append(cands, c)
				}
			}
		}
		found := make([]split, len(cands))
		ok := make([]bool, len(cands))
		parallelFor(len(cands), g.hb.threads, func(i int) {
			n := &g.nodes[cands[i]]
			found[i], ok[i] = g.sp.best(n.hist, n.total, feats)
		})
		level = level[:0]
		for i, c := range cands {
			n := &g.nodes[c]
			if ok[i] {
				n.split = found[i]
				level = append(level, c)
			} else {
				g.putHist(n.hist)
				n.hist = nil
			}
		}
	}
}

// histTotal returns a node's totals from its histogram: the sums over the
// bins of one feature.
func histTotal(h []hbin, l histLayout, j int, m *binMapper) sums {
	var t sums
	for _, b := range h[l.off[j] : l.off[j]+m.features[j].nBins+1] {
		t.g += b.g
		t.h += b.h
		t.n += int(b.n)
	}
	return t
}

// consider finds node id's best split and queues the node if it has one;
// otherwise the node stays a leaf and gives its histogram back.
func (g *grower) consider(id int, feats []int) {
	n := &g.nodes[id]
	s, ok := g.sp.best(n.hist, n.total, feats)
	if !ok {
		g.putHist(n.hist)
		n.hist = nil
		return
	}
	n.split = s
	heap.Push(&g.queue, id)
}

// splitNode makes node id's split. When last is set no further split will
// be made, so the children need no histograms.
func (g *grower) splitNode(id int, gh []gradPair, feats []int, last bool) {
	n := g.nodes[id]
	nl := g.pt.partition(g.rows[n.start:n.end], g.scratch[n.start:n.end], &n.split)
	l, r := len(g.nodes), len(g.nodes)+1
	g.nodes = append(g.nodes,
		growNode{start: n.start, end: n.start + nl, total: n.split.left, depth: n.depth + 1, left: -1, right: -1},
		growNode{start: n.start + nl, end: n.end, total: n.split.right, depth: n.depth + 1, left: -1, right: -1})
	parent := &g.nodes[id]
	parent.left, parent.right = l, r
	parentHist := parent.hist
	parent.hist = nil

	small, large := l, r
	if g.nodes[r].end-g.nodes[r].start < g.nodes[l].end-g.nodes[l].start {
		small, large = r, l
	}
	needSmall := !last && g.canSplit(&g.nodes[small])
	needLarge := !last && g.canSplit(&g.nodes[large])
	if !needSmall && !needLarge {
		g.putHist(parentHist)
		return
	}
	// Build the smaller child; the larger one is the parent minus it.
	sn := &g.nodes[small]
	smallHist := g.getHist()
	g.hb.build(smallHist, g.rows[sn.start:sn.end], gh, feats)
	if needLarge {
		g.hb.subtract(parentHist, parentHist, smallHist, feats)
		g.nodes[large].hist = parentHist
	} else {
		g.putHist(parentHist)
	}
	if needSmall {
		sn.hist = smallHist
	} else {
		g.putHist(smallHist)
	}
	// Left child first, so that queue ties resolve the same way each time.
	for _, c := range [2]int{l, r} {
		if g.nodes[c].hist != nil {
			g.consider(c, feats)
		}
	}
}

// leafOf returns the index of the leaf that a row with codes (one row of
// the row-major code matrix) falls in.
func leafOf(nodes []growNode, m *binMapper, codes []uint8) int {
	i := 0
	for !nodes[i].isLeaf() {
		n := &nodes[i]
		s := &n.split
		if goesLeft(s, m.features[s.feature].missing(), codes[s.feature]) {
			i = n.left
		} else {
			i = n.right
		}
	}
	return i
}

// nodeQueue is a max-heap of node indices by split gain; equal gains pop
// the older node first.
type nodeQueue struct {
	ids   []int
	nodes *[]growNode
}

func (q nodeQueue) Len() int { return len(q.ids) }

func (q nodeQueue) Less(i, j int) bool {
	a, b := (*q.nodes)[q.ids[i]].split.gain, (*q.nodes)[q.ids[j]].split.gain
	if a != b {
		return a > b
	}
	return q.ids[i] < q.ids[j]
}

func (q nodeQueue) Swap(i, j int) { q.ids[i], q.ids[j] = q.ids[j], q.ids[i] }

func (q *nodeQueue) Push(x any) { q.ids = append(q.ids, x.(int)) }

func (q *nodeQueue) Pop() any {
	x := q.ids[len(q.ids)-1]
	q.ids = q.ids[:len(q.ids)-1]
	return x
}
