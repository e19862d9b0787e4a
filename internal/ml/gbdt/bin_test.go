package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

func TestNumericEdges(t *testing.T) {
	t.Parallel()

	t.Run("FewDistinctValuesSplitAtMidpoints", func(t *testing.T) {
		t.Parallel()
		got := numericEdges([]float64{3, 1, 2, 2, 1, 3, 3}, 255)
		want := []float64{1.5, 2.5, math.Inf(1)}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("ConstantGivesOneBin", func(t *testing.T) {
		t.Parallel()
		got := numericEdges([]float64{7, 7, 7}, 255)
		if want := []float64{math.Inf(1)}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("NoValuesGivesOneBin", func(t *testing.T) {
		t.Parallel()
		if got := numericEdges(nil, 255); len(got) != 1 || !math.IsInf(got[0], 1) {
			t.Errorf("got %v, want [+Inf]", got)
		}
	})

	t.Run("ManyValuesGiveQuantileBins", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(1, 2))
		vals := make([]float64, 10000)
		for i := range vals {
			vals[i] = rng.NormFloat64()
		}
		const maxBins = 16
		edges := numericEdges(slices.Clone(vals), maxBins)
		if len(edges) != maxBins {
			t.Fatalf("got %d edges, want %d", len(edges), maxBins)
		}
		if !math.IsInf(edges[len(edges)-1], 1) {
			t.Errorf("last edge %v, want +Inf", edges[len(edges)-1])
		}
		for i := 1; i < len(edges); i++ {
			if edges[i] <= edges[i-1] {
				t.Fatalf("edges not increasing at %d: %v", i, edges)
			}
		}
		// Quantile bins hold about the same number of values.
		f := featureBins{edges: edges, nBins: len(edges)}
		count := make([]int, maxBins)
		for _, v := range vals {
			count[f.bin(v)]++
		}
		for b, c := range count {
			if want := len(vals) / maxBins; c < want*8/10 || c > want*12/10 {
				t.Errorf("bin %d holds %d values, want about %d", b, c, want)
			}
		}
	})

	t.Run("MidpointOfAdjacentFloats", func(t *testing.T) {
		t.Parallel()
		a := 1.0
		b := math.Nextafter(a, 2)
		if m := midpoint(a, b); m < a || m >= b {
			t.Errorf("midpoint(%v, %v) = %v, want in [a, b)", a, b, m)
		}
	})
}

func TestFeatureBinsBin(t *testing.T) {
	t.Parallel()

	num := featureBins{edges: []float64{1.5, 2.5, math.Inf(1)}, nBins: 3}
	cat := featureBins{nBins: 4, categorical: true}
	tests := []struct {
		name string
		f    featureBins
		v    float64
		want uint8
	}{
		{"BelowFirstEdge", num, -100, 0},
		{"OnEdgeGoesBelow", num, 1.5, 0},
		{"JustAboveEdge", num, math.Nextafter(1.5, 2), 1},
		{"LastBin", num, 2.6, 2},
		{"PlusInf", num, math.Inf(1), 2},
		{"MinusInf", num, math.Inf(-1), 0},
		{"NaNIsMissing", num, math.NaN(), 3},
		{"CategoryCode", cat, 2, 2},
		{"CategoryNaN", cat, math.NaN(), 4},
		{"UnseenCategory", cat, 4, 4},
		{"NegativeCategory", cat, -1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f.bin(tt.v); got != tt.want {
				t.Errorf("bin(%v) = %d, want %d", tt.v, got, tt.want)
			}
		})
	}
}

func TestBinMapper(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(3, 4))
	n := 3000
	X := ml.NewMatrix(n, 3)
	for i := range n {
		X.Data[i*3] = rng.NormFloat64()
		X.Data[i*3+1] = float64(rng.IntN(300)) // categorical with too many levels
		X.Data[i*3+2] = float64(rng.IntN(5))
		if i%10 == 0 {
			X.Data[i*3] = math.NaN()
			X.Data[i*3+2] = math.NaN()
		}
	}
	feats := []ml.Feature{{Name: "x"}, {Name: "many", Categorical: true, Levels: 300}, {Name: "c", Categorical: true, Levels: 5}}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	m := newBinMapper(X, rows, feats, 32, rand.New(rand.NewPCG(5, 6)), 2)

	t.Run("Kinds", func(t *testing.T) {
		t.Parallel()
		if f := m.features[0]; f.categorical || f.nBins != 32 {
			t.Errorf("numeric feature: categorical %v, %d bins, want false, 32", f.categorical, f.nBins)
		}
		if f := m.features[1]; f.categorical || f.nBins > 32 {
			t.Errorf("300-level feature: categorical %v, %d bins, want numeric with <= 32", f.categorical, f.nBins)
		}
		if f := m.features[2]; !f.categorical || f.nBins != 5 {
			t.Errorf("categorical feature: categorical %v, %d bins, want true, 5", f.categorical, f.nBins)
		}
	})

	t.Run("CodesAgreeWithEdges", func(t *testing.T) {
		t.Parallel()
		codes := m.binRows(X, rows, 3)
		for i := range n {
			for j := range 3 {
				v, c := X.At(i, j), codes.row(i)[j]
				f := &m.features[j]
				switch {
				case math.IsNaN(v):
					if c != f.missing() {
						t.Fatalf("row %d feature %d: NaN got code %d, want missing %d", i, j, c, f.missing())
					}
				case f.categorical:
					if c != uint8(v) {
						t.Fatalf("row %d feature %d: category %v got code %d", i, j, v, c)
					}
				default:
					if v > f.edges[c] || (c > 0 && v <= f.edges[c-1]) {
						t.Fatalf("row %d feature %d: %v got code %d outside (%v, %v]", i, j, v, c, f.edges[max(int(c)-1, 0)], f.edges[c])
					}
				}
			}
		}
	})

	t.Run("SameSeedSameEdges", func(t *testing.T) {
		t.Parallel()
		m2 := newBinMapper(X, rows, feats, 32, rand.New(rand.NewPCG(5, 6)), 1)
		for j := range m.features {
			if !slices.Equal(m.features[j].edges, m2.features[j].edges) {
				t.Errorf("feature %d: edges differ between runs", j)
			}
		}
	})
}

func TestBinMapperSubsample(t *testing.T) {
	t.Parallel()

	// More rows than binSampleRows: the edges come from a sample, so two
	// seeds may differ, but each stays a valid quantile grid.
	n := binSampleRows + 5000
	X := ml.NewMatrix(n, 1)
	for i := range n {
		X.Data[i] = float64(i)
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	feats := []ml.Feature{{Name: "x"}}
	a := newBinMapper(X, rows, feats, 255, rand.New(rand.NewPCG(1, 1)), 2)
	b := newBinMapper(X, rows, feats, 255, rand.New(rand.NewPCG(1, 1)), 1)
	if !slices.Equal(a.features[0].edges, b.features[0].edges) {
		t.Errorf("same seed gave different edges")
	}
	if got := a.features[0].nBins; got != 255 {
		t.Errorf("got %d bins, want 255", got)
	}
	// The median edge is near the middle of 0..n-1.
	if mid := a.features[0].edges[127]; math.Abs(mid-float64(n)/2) > float64(n)/50 {
		t.Errorf("middle edge %v, want about %v", mid, n/2)
	}
}

func TestSortFloats(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(10, 10))
	for _, n := range []int{0, 1, 255, 256, 5000} {
		v := make([]float64, n)
		for i := range v {
			switch i % 5 {
			case 0:
				v[i] = rng.NormFloat64() * 1e6
			case 1:
				v[i] = -rng.ExpFloat64()
			case 2:
				v[i] = float64(rng.IntN(7)) // duplicates
			case 3:
				v[i] = math.Copysign(0, -1)
			default:
				v[i] = rng.Float64() * 1e-300
			}
		}
		want := slices.Clone(v)
		slices.Sort(want)
		sortFloats(v)
		if !slices.Equal(v, want) {
			t.Errorf("n=%d: radix sort differs from slices.Sort", n)
		}
	}
}
