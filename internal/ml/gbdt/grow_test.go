package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

// stepData is one feature x = 0..7, ten rows each, with target y[x]; the
// gradients are those of squared error from a zero score (g = -y, h = 1),
// so a leaf's Newton value with l2 = 0 is the mean y of its rows.
func stepData(t *testing.T, y [8]float64) (*grower, []uint32, []gradPair, *binMapper) {
	t.Helper()
	X := ml.NewMatrix(80, 1)
	gh := make([]gradPair, 80)
	rows := make([]int, 80)
	all := make([]uint32, 80)
	for i := range 80 {
		X.Data[i] = float64(i % 8)
		gh[i] = gradPair{g: float32(-y[i%8]), h: 1}
		rows[i], all[i] = i, uint32(i)
	}
	m := newBinMapper(X, rows, []ml.Feature{{Name: "x"}}, 255, rand.New(rand.NewPCG(1, 1)), 1)
	codes := m.binRows(X, rows, 1)
	g := newGrower(growParams{maxDepth: 2, minSamplesLeaf: 1}, &codes, m, 1)
	return g, all, gh, m
}

func leafValues(nodes []growNode) []float64 {
	var v []float64
	var walk func(i int)
	walk = func(i int) {
		if nodes[i].isLeaf() {
			v = append(v, nodes[i].value)
			return
		}
		walk(nodes[i].left)
		walk(nodes[i].right)
	}
	walk(0)
	return v
}

func TestGrowHandChecked(t *testing.T) {
	t.Parallel()

	// Worked by hand: cutting after x=3 scores 40²/40 + 280²/40 = 2000,
	// better than after x=5 (140²/60 + 180²/20 ≈ 1947). The left half is
	// pure; the right half splits after x=5.
	g, all, gh, m := stepData(t, [8]float64{1, 1, 1, 1, 5, 5, 9, 9})
	nodes := g.grow(all, gh, []int{0})
	root := nodes[0]
	if root.isLeaf() {
		t.Fatal("root is a leaf")
	}
	if thr := m.features[0].edges[root.split.threshold]; thr != 3.5 {
		t.Errorf("root threshold %v, want 3.5", thr)
	}
	if got, want := root.split.gain, 2000-320.0*320/80; math.Abs(got-want) > 1e-9 {
		t.Errorf("root gain %v, want %v", got, want)
	}
	if got, want := leafValues(nodes), []float64{1, 5, 9}; !slices.Equal(got, want) {
		t.Errorf("leaf values %v, want %v", got, want)
	}
	r := nodes[root.right]
	if r.isLeaf() || m.features[0].edges[r.split.threshold] != 5.5 {
		t.Errorf("right child does not split at 5.5")
	}
	if l := nodes[root.left]; !l.isLeaf() || l.end-l.start != 40 {
		t.Errorf("left child: leaf %v with %d rows, want a leaf with 40", l.isLeaf(), l.end-l.start)
	}
}

func TestGrowBestFirst(t *testing.T) {
	t.Parallel()

	// Both halves can split, the right one with far more gain; with room
	// for three leaves, best-first splits the right one.
	y := [8]float64{1, 1, 2, 2, 10, 10, 14, 14} // left split gains 10, right 160
	g, all, gh, _ := stepData(t, y)
	g.p = growParams{maxLeaves: 3, minSamplesLeaf: 1}
	nodes := g.grow(all, gh, []int{0})
	root := nodes[0]
	if !nodes[root.left].isLeaf() || nodes[root.right].isLeaf() {
		t.Errorf("left leaf %v, right leaf %v; want the right child split", nodes[root.left].isLeaf(), nodes[root.right].isLeaf())
	}

	t.Run("DepthWiseWithoutLeafLimit", func(t *testing.T) {
		t.Parallel()
		g, all, gh, _ := stepData(t, y)
		g.p = growParams{maxDepth: 2, minSamplesLeaf: 1}
		if got, want := leafValues(g.grow(all, gh, []int{0})), []float64{1, 2, 10, 14}; !slices.Equal(got, want) {
			t.Errorf("leaf values %v, want %v", got, want)
		}
	})
}

func TestGrowLimits(t *testing.T) {
	t.Parallel()

	f := newHistFixture(t, 20_000, 6, 5)
	for _, p := range []growParams{
		{maxLeaves: 31, minSamplesLeaf: 20},
		{maxDepth: 4, minSamplesLeaf: 50, l2: 1},
		{maxDepth: 3, maxLeaves: 5, minSamplesLeaf: 1},
	} {
		g := newGrower(p, &f.codes, f.mapper, 2)
		// Gradients with structure, so that the tree grows.
		gh := make([]gradPair, len(f.all))
		for i := range gh {
			x := f.X.At(i, 0)
			if math.IsNaN(x) {
				x = 1
			}
			gh[i] = gradPair{g: float32(x + math.Sin(float64(i))/4), h: float32(0.75 + math.Cos(float64(i))/4)}
		}
		nodes := g.grow(f.all, gh, f.allF)
		leaves, depth := 0, map[int]int{0: 0}
		covered := 0
		for i, n := range nodes {
			if !n.isLeaf() {
				depth[n.left], depth[n.right] = depth[i]+1, depth[i]+1
				continue
			}
			leaves++
			covered += n.end - n.start
			if n.end-n.start < p.minSamplesLeaf {
				t.Errorf("%+v: leaf with %d rows", p, n.end-n.start)
			}
			var s sums
			for _, r := range g.rows[n.start:n.end] {
				s.g, s.h = s.g+float64(gh[r].g), s.h+float64(gh[r].h)
			}
			if math.Abs(s.g-n.total.g) > 1e-6 || math.Abs(s.h-n.total.h) > 1e-6 || n.total.n != n.end-n.start {
				t.Errorf("%+v: leaf totals %+v, its rows sum to %+v", p, n.total, s)
			}
			if want := -n.total.g / (n.total.h + p.l2); n.value != want {
				t.Errorf("%+v: leaf value %v, want %v", p, n.value, want)
			}
		}
		if covered != len(f.all) {
			t.Errorf("%+v: leaves cover %d rows, want %d", p, covered, len(f.all))
		}
		if p.maxLeaves > 0 && leaves > p.maxLeaves {
			t.Errorf("%+v: %d leaves", p, leaves)
		}
		if leaves < 4 {
			t.Errorf("%+v: only %d leaves; the fixture should grow", p, leaves)
		}
		for id, d := range depth {
			if p.maxDepth > 0 && d > p.maxDepth {
				t.Errorf("%+v: node %d at depth %d", p, id, d)
			}
		}
		// Every row's codes lead to the leaf holding it.
		for i, n := range nodes {
			if n.isLeaf() {
				for _, r := range g.rows[n.start:n.end] {
					if got := leafOf(nodes, f.mapper, f.codes.row(int(r))); got != i {
						t.Fatalf("%+v: row %d routed to leaf %d, partitioned into %d", p, r, got, i)
					}
				}
			}
		}
	}
}

func TestGrowLevelsMatchesOneByOne(t *testing.T) {
	t.Parallel()

	// Without a leaf limit every useful split is made, so splitting a
	// level at once must give the very tree that splitting node by node
	// gives.
	f := newHistFixture(t, 30_000, 6, 7)
	gh := make([]gradPair, len(f.all))
	for i := range gh {
		x := f.X.At(i, 1)
		if math.IsNaN(x) {
			x = -2
		}
		gh[i] = gradPair{g: float32(math.Sin(3*x) + math.Sin(float64(i))/3), h: float32(0.8 + math.Cos(float64(i))/2)}
	}
	for _, p := range []growParams{
		{maxDepth: 5, minSamplesLeaf: 10},
		{maxDepth: 3, maxLeaves: 8, minSamplesLeaf: 1, l2: 1},
	} {
		a := newGrower(p, &f.codes, f.mapper, 2)
		if !a.levelWise() {
			t.Fatalf("%+v: not level-wise", p)
		}
		b := newGrower(p, &f.codes, f.mapper, 2)
		b.oneByOne = true
		ta := newTree(a.grow(f.all, gh, f.allF), f.mapper, 1)
		tb := newTree(b.grow(f.all, gh, f.allF), f.mapper, 1)
		if len(ta.nodes) < 7 {
			t.Fatalf("%+v: only %d nodes; the fixture should grow", p, len(ta.nodes))
		}
		if !slices.Equal(ta.nodes, tb.nodes) || !slices.Equal(ta.leaves, tb.leaves) || !slices.Equal(ta.cats, tb.cats) {
			t.Errorf("%+v: level by level and node by node give different trees", p)
		}
	}
}
