package gbdt

import (
	"math"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/ml"
)

// rawScores returns row x's raw scores, summed the way Predict sums them.
func rawScores(m *Model, x []float64) []float64 {
	out := make([]float64, m.k)
	m.RawScores(x, out)
	return out
}

// condExpect is the tree's path-dependent expectation for row x given the
// features in set (a bitmask): at a split on a feature outside it, both
// children weighted by their covers.
func condExpect(t *tree, ref uint32, x, levels []float64, set uint) float64 {
	if ref&leafBit != 0 {
		return t.leaves[ref&^leafBit]
	}
	n := &t.nodes[ref]
	if set&(1<<n.feature) != 0 {
		if t.goesLeft(n, x[n.feature], levels) {
			return condExpect(t, n.left, x, levels, set)
		}
		return condExpect(t, n.right, x, levels, set)
	}
	return (t.coverOf(n.left)*condExpect(t, n.left, x, levels, set) +
		t.coverOf(n.right)*condExpect(t, n.right, x, levels, set)) / t.cover[ref]
}

// bruteShapley enumerates every subset of the features: phi[c*nf+i] is
// feature i's Shapley value for score c.
func bruteShapley(m *Model, x []float64) []float64 {
	nf := len(m.levels)
	phi := make([]float64, m.k*nf)
	fact := func(n int) float64 { return math.Gamma(float64(n + 1)) }
	for ti := range m.trees {
		t := &m.trees[ti]
		c := ti % m.k
		for i := range nf {
			for s := uint(0); s < 1<<nf; s++ {
				if s&(1<<i) != 0 {
					continue
				}
				size := 0
				for b := s; b != 0; b &= b - 1 {
					size++
				}
				w := fact(size) * fact(nf-size-1) / fact(nf)
				phi[c*nf+i] += w * (condExpect(t, 0, x, m.levels, s|1<<i) - condExpect(t, 0, x, m.levels, s))
			}
		}
	}
	return phi
}

func explain(t *testing.T, m *Model, x []float64) (base, contrib []float64) {
	t.Helper()
	base, contrib = make([]float64, m.Scores()), make([]float64, m.Scores()*len(x))
	if err := m.Explain(x, base, contrib); err != nil {
		t.Fatal(err)
	}
	return base, contrib
}

func TestExplainAdditiveAndEqualsBruteForce(t *testing.T) {
	for _, task := range []ml.Task{ml.Binary, ml.Multiclass, ml.Regression} {
		m := fit(t, synthData(2000, task, 40), ml.Params{"n_trees": 20, "max_depth": 4, "max_leaves": 0}, 1, 1)
		// Through the encoding, as served: covers must survive it.
		dm, err := DecodeModel(marshal(t, m))
		if err != nil {
			t.Fatal(err)
		}
		X := synthData(50, task, 41).X
		nf := X.Cols
		for r := range X.Rows {
			x := X.Row(r)
			base, contrib := explain(t, dm, x)
			raw := rawScores(m, x)
			want := bruteShapley(m, x)
			for c := range m.k {
				sum := base[c]
				for j := range nf {
					sum += contrib[c*nf+j]
					if d := math.Abs(contrib[c*nf+j] - want[c*nf+j]); d > 1e-9 {
						t.Fatalf("%s row %d score %d feature %d: TreeSHAP %v, brute force %v", task, r, c, j, contrib[c*nf+j], want[c*nf+j])
					}
				}
				if d := math.Abs(sum - raw[c]); d > 1e-9 {
					t.Fatalf("%s row %d score %d: base+contributions %v, raw score %v", task, r, c, sum, raw[c])
				}
			}
		}
	}
}

func TestExplainNeedsCover(t *testing.T) {
	m := fit(t, synthData(500, ml.Binary, 42), ml.Params{"n_trees": 3}, 1, 1)
	for i := range m.trees {
		m.trees[i].cover = nil
	}
	dm, err := DecodeModel(marshal(t, m))
	if err != nil {
		t.Fatal(err)
	}
	x := synthData(1, ml.Binary, 43).X.Row(0)
	if err := dm.Explain(x, make([]float64, 1), make([]float64, len(x))); err == nil {
		t.Fatal("a model without covers explained a row")
	}
}

// BenchmarkExplain is Predict with explanations at 100 trees of depth 6,
// per row; it reports its time over plain Predict's on the same rows
// (x_predict).
func BenchmarkExplain(b *testing.B) {
	m, X := depth6Model(b)
	base, contrib := make([]float64, 1), make([]float64, X.Cols)
	out := make([]float64, 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Predict(X.Row(i), out)
		if err := m.Explain(X.Row(i), base, contrib); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % X.Rows
	}
	perRow := b.Elapsed().Seconds() / float64(b.N)
	start := time.Now()
	for r := range b.N {
		m.Predict(X.Row(r%X.Rows), out)
	}
	b.ReportMetric(perRow/(time.Since(start).Seconds()/float64(b.N)), "x_predict")
}
