package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

func TestTreeLeaf(t *testing.T) {
	t.Parallel()

	// x0 <= 2.5 (NaN right) ? leaf 0 : (x1 in {1, 3} (missing left) ? leaf 1 : leaf 2)
	tr := tree{
		nodes: []node{
			//lint:ignore SA4016 leaf 0, spelled as the other leaves are
			{thr: 2.5, feature: 0, left: leafBit | 0, right: 1},
			{thr: 0, feature: 1, left: leafBit | 1, right: leafBit | 2, flags: flagCategorical | flagDefaultLeft},
		},
		leaves: []float64{10, 20, 30},
		cats:   []uint32{1<<1 | 1<<3},
	}
	levels := []float64{0, 4}
	nan := math.NaN()
	tests := []struct {
		name string
		x    []float64
		want uint32
	}{
		{"Below", []float64{1, 0}, 0},
		{"OnThreshold", []float64{2.5, 0}, 0},
		{"NaNFollowsDefaultRight", []float64{nan, 1}, 1},
		{"CategoryInSet", []float64{3, 3}, 1},
		{"CategoryNotInSet", []float64{3, 2}, 2},
		{"CategoryMissing", []float64{3, nan}, 1},
		{"UnseenCategoryIsMissing", []float64{3, 4}, 1},
		{"NegativeCategoryIsMissing", []float64{3, -1}, 1},
		{"PlusInf", []float64{math.Inf(1), 0}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tr.leaf(tt.x, levels); got != tt.want {
				t.Errorf("leaf(%v) = %d, want %d", tt.x, got, tt.want)
			}
		})
	}

	t.Run("SingleLeaf", func(t *testing.T) {
		t.Parallel()
		one := tree{leaves: []float64{7}}
		if got := one.leaf([]float64{1}, []float64{0}); got != 0 {
			t.Errorf("got leaf %d, want 0", got)
		}
	})
}

// TestNewTreeMatchesCodes checks that the raw-value predictor routes every
// row, NaN and categories included, to the leaf its codes reached in
// training.
func TestNewTreeMatchesCodes(t *testing.T) {
	t.Parallel()

	f := newHistFixture(t, 20_000, 6, 6)
	nf := len(f.feats)
	gh := make([]gradPair, len(f.all))
	for i := range gh {
		// Depend on the categorical features and on missingness.
		g := math.Sin(float64(i)) / 4
		if c := f.X.At(i, nf-1); !math.IsNaN(c) && int(c)%3 == 1 {
			g += 2
		}
		if math.IsNaN(f.X.At(i, 0)) {
			g -= 3
		}
		gh[i] = gradPair{g: float32(g), h: 1}
	}
	g := newGrower(growParams{maxLeaves: 40, minSamplesLeaf: 5}, &f.codes, f.mapper, 2)
	nodes := g.grow(f.all, gh, f.allF)
	tr := newTree(nodes, f.mapper, 0.5)
	levels := make([]float64, nf)
	cats := false
	for j := range levels {
		if f.mapper.features[j].categorical {
			levels[j] = float64(f.mapper.features[j].nBins)
		}
	}
	for _, n := range tr.nodes {
		cats = cats || n.flags&flagCategorical != 0
	}
	if !cats {
		t.Fatal("no categorical split; the fixture should make one")
	}
	if len(tr.leaves) != len(tr.nodes)+1 {
		t.Fatalf("%d leaves for %d nodes", len(tr.leaves), len(tr.nodes))
	}
	for i := range f.X.Rows {
		gl := leafOf(nodes, f.mapper, f.codes.row(i))
		got := tr.leaves[tr.leaf(f.X.Row(i), levels)]
		if want := nodes[gl].value * 0.5; got != want {
			t.Fatalf("row %d (%v): predictor gives %v, training leaf %v", i, f.X.Row(i), got, want)
		}
	}
}

// TestForestMatchesTree checks the branch-free prediction layout against
// the plain walk, on a model with numeric splits either way for missing
// values, narrow categorical splits (packed in a step) and wide ones (more
// than 64 levels), for ordinary and odd values.
func TestForestMatchesTree(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(21, 21))
	n := 6000
	d := &ml.Dataset{
		X: ml.NewMatrix(n, 3), Y: make([]float64, n), Task: ml.Regression, Classes: 1,
		Features: []ml.Feature{{Name: "x"}, {Name: "narrow", Categorical: true, Levels: 7}, {Name: "wide", Categorical: true, Levels: 150}},
	}
	for i := range n {
		x := d.X.Row(i)
		x[0], x[1], x[2] = rng.NormFloat64(), float64(rng.IntN(7)), float64(rng.IntN(150))
		d.Y[i] = x[0] + float64(int(x[1])%3) + float64(int(x[2])%4)
		if rng.IntN(8) == 0 {
			x[0] = math.NaN()
			d.Y[i] += 3 * float64(i%2) // missing rows go either way
		}
		if rng.IntN(8) == 0 {
			x[1] = math.NaN()
		}
		if rng.IntN(8) == 0 {
			x[2] = math.NaN()
		}
	}
	m := fit(t, d, ml.Params{"n_trees": 30, "max_leaves": 16, "min_samples_leaf": 5}, 1, 2)
	f := m.forest
	kinds := map[string]bool{}
	for _, s := range f.steps {
		switch {
		case s.flags&stepWide != 0:
			kinds["wide"] = true
		case s.flags&stepCat != 0:
			kinds["narrow"] = true
		case s.sgn < 0:
			kinds["numeric missing left"] = true
		case s.child[0] != s.child[1]:
			kinds["numeric missing right"] = true
		}
	}
	if len(kinds) != 4 {
		t.Fatalf("model has steps of kinds %v, want all four", kinds)
	}
	// The same data with the categories taken as numbers: numeric trees.
	dn := *d
	dn.Features = []ml.Feature{{Name: "x"}, {Name: "narrow"}, {Name: "wide"}}
	mn := fit(t, &dn, ml.Params{"n_trees": 5, "max_leaves": 16, "min_samples_leaf": 5}, 1, 2)
	for _, k := range mn.forest.kind {
		if k != kindNumeric {
			t.Fatalf("numeric model has a tree of kind %d", k)
		}
	}
	odd := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, -1, -3, 6.5, 7, 63, 64, 70, 149, 150, 1e10, -1e300}
	x := make([]float64, 3)
	for i := range 20000 {
		for j := range x {
			switch {
			case i%3 == 0:
				x[j] = odd[rng.IntN(len(odd))]
			case j == 0:
				x[j] = rng.NormFloat64()
			default:
				x[j] = float64(rng.IntN(int(d.Features[j].Levels)))
			}
		}
		for _, m := range []*Model{m, mn} {
			for ti := range m.trees {
				want := m.trees[ti].leaves[m.trees[ti].leaf(x, m.levels)]
				if got := m.forest.sum(x, 0, ti, ti+1, 1); got != want {
					t.Fatalf("tree %d, row %v: forest %v, plain walk %v", ti, x, got, want)
				}
			}
		}
	}
}
