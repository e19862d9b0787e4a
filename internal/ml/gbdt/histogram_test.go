package gbdt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/ml"
)

// histFixture is random binned data: nf features (the last two
// categorical), NaN here and there, and random gradients.
type histFixture struct {
	X      ml.Matrix
	feats  []ml.Feature
	mapper *binMapper
	codes  codeMatrix
	gh     []gradPair
	hb     histBuilder
	all    []uint32
	allF   []int
}

func newHistFixture(t testing.TB, n, nf int, seed uint64) *histFixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	X := ml.NewMatrix(n, nf)
	feats := make([]ml.Feature, nf)
	for j := range feats {
		feats[j].Name = "f"
		if j >= nf-2 {
			feats[j].Categorical, feats[j].Levels = true, 3+7*(j-nf+2)
		}
	}
	for i := range n {
		for j := range nf {
			v := rng.NormFloat64()
			if feats[j].Categorical {
				v = float64(rng.IntN(feats[j].Levels))
			}
			if rng.IntN(20) == 0 {
				v = math.NaN()
			}
			X.Data[i*nf+j] = v
		}
	}
	rows := make([]int, n)
	all := make([]uint32, n)
	for i := range rows {
		rows[i], all[i] = i, uint32(i)
	}
	m := newBinMapper(X, rows, feats, 255, rng, 2)
	codes := m.binRows(X, rows, 2)
	gh := make([]gradPair, n)
	for i := range gh {
		// Magnitudes over many powers of ten, so that float64 sums of the
		// float32 values are not exact and their order shows.
		scale := math.Pow(10, float64(rng.IntN(17)-8))
		gh[i] = gradPair{g: float32(rng.NormFloat64() * scale), h: float32(rng.Float64() * scale)}
	}
	allF := make([]int, nf)
	for j := range allF {
		allF[j] = j
	}
	return &histFixture{
		X: X, feats: feats, mapper: m, codes: codes, gh: gh, all: all, allF: allF,
		hb: newHistBuilder(&codes, transpose(&codes, 2), newHistLayout(m), 2),
	}
}

// naiveHist sums rows into bins one feature at a time, the obvious way.
func (f *histFixture) naiveHist(rows []uint32) []hbin {
	h := make([]hbin, f.hb.layout.size)
	for j := range f.feats {
		for _, r := range rows {
			e := &h[f.hb.layout.off[j]+int(f.codes.row(int(r))[j])]
			e.g += float64(f.gh[r].g)
			e.h += float64(f.gh[r].h)
			e.n++
		}
	}
	return h
}

func TestHistogramBuild(t *testing.T) {
	t.Parallel()

	// Enough rows for several tiles.
	f := newHistFixture(t, 5*tileMinRows+77, 6, 1)
	var every3, dense, few []uint32
	for i := 0; i < len(f.all); i++ {
		if i%3 == 0 {
			every3 = append(every3, uint32(i))
		}
		if i%10 != 0 {
			dense = append(dense, uint32(i))
		}
	}
	few = dense[100:900]
	for _, tc := range []struct {
		name string
		rows []uint32
	}{{"AllRows", f.all}, {"Scattered", every3}, {"DenseTiles", dense}, {"OneTile", few}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := f.naiveHist(tc.rows)
			var first []hbin
			for _, threads := range []int{1, 2, 5} {
				hb := newHistBuilder(&f.codes, f.hb.columns, f.hb.layout, threads)
				got := make([]hbin, hb.layout.alloc())
				hb.build(got, tc.rows, f.gh, f.allF)
				for i := range want {
					if got[i].n != want[i].n || math.Abs(got[i].g-want[i].g) > 1e-9*max(1, math.Abs(want[i].g)) || math.Abs(got[i].h-want[i].h) > 1e-9*max(1, want[i].h) {
						t.Fatalf("%d threads, bin %d: got %+v, want %+v", threads, i, got[i], want[i])
					}
				}
				// Tiles are fixed by the rows, so the sums are bit-identical
				// whatever the threads.
				if first == nil {
					first = got
				} else if !slices.Equal(got, first) {
					t.Fatalf("%d threads give other sums than 1 thread", threads)
				}
			}
		})
	}

	t.Run("OnlyGivenFeatures", func(t *testing.T) {
		t.Parallel()
		got := make([]hbin, f.hb.layout.alloc())
		for i := range got {
			got[i] = hbin{g: 42}
		}
		f.hb.build(got, f.all, f.gh, []int{1, 3})
		want := f.naiveHist(f.all)
		for j := range f.feats {
			lo, hi := f.hb.layout.off[j], f.hb.layout.off[j]+f.hb.layoutWidth(j)
			for i := lo; i < hi; i++ {
				if j == 1 || j == 3 {
					if got[i].n != want[i].n || math.Abs(got[i].g-want[i].g) > 1e-9*max(1, math.Abs(want[i].g)) {
						t.Fatalf("feature %d bin %d: got %+v, want %+v", j, i-lo, got[i], want[i])
					}
				} else if got[i] != (hbin{g: 42}) {
					t.Fatalf("feature %d was not asked for but bin %d changed to %+v", j, i-lo, got[i])
				}
			}
		}
	})
}

func TestHistogramSubtraction(t *testing.T) {
	t.Parallel()

	f := newHistFixture(t, 4000, 5, 2)
	var left, right []uint32
	for _, r := range f.all {
		if f.X.At(int(r), 0) < 0.3 {
			left = append(left, r)
		} else {
			right = append(right, r)
		}
	}
	parent := make([]hbin, f.hb.layout.alloc())
	f.hb.build(parent, f.all, f.gh, f.allF)
	small := make([]hbin, f.hb.layout.alloc())
	f.hb.build(small, right, f.gh, f.allF)
	derived := make([]hbin, f.hb.layout.alloc())
	f.hb.subtract(derived, parent, small, f.allF)
	direct := make([]hbin, f.hb.layout.alloc())
	f.hb.build(direct, left, f.gh, f.allF)

	for i := range direct {
		d, w := derived[i], direct[i]
		if d.n != w.n {
			t.Fatalf("bin %d: count %d by subtraction, %d built", i, d.n, w.n)
		}
		// Subtraction loses the precision of the parent's sums.
		p := parent[i]
		if math.Abs(d.g-w.g) > 1e-12*max(1, math.Abs(p.g)) || math.Abs(d.h-w.h) > 1e-12*max(1, p.h) {
			t.Fatalf("bin %d: %+v by subtraction, %+v built", i, d, w)
		}
	}

	t.Run("InPlace", func(t *testing.T) {
		t.Parallel()
		p := make([]hbin, f.hb.layout.alloc())
		f.hb.build(p, f.all, f.gh, f.allF)
		f.hb.subtract(p, p, small, f.allF)
		for i := range p {
			if p[i] != derived[i] {
				t.Fatalf("bin %d: in place %+v, into another slice %+v", i, p[i], derived[i])
			}
		}
	})
}

func BenchmarkHistogramBuild(b *testing.B) {
	f := newHistFixture(b, 800_000, 20, 3)
	var sparse []uint32
	for i := 0; i < len(f.all); i += 8 {
		sparse = append(sparse, uint32(i))
	}
	h := make([]hbin, f.hb.layout.alloc())
	for _, bc := range []struct {
		name string
		rows []uint32
	}{{"AllRows", f.all}, {"EighthOfRows", sparse}} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", bc.name, threads), func(b *testing.B) {
				hb := newHistBuilder(&f.codes, f.hb.columns, f.hb.layout, threads)
				for b.Loop() {
					hb.build(h, bc.rows, f.gh, f.allF)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bc.rows)*len(f.allF)), "ns/update")
			})
		}
	}
}
