package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// oneFeature returns a splitter over one feature with the given bins (the
// last is the missing bin) and the node totals of hist.
func oneFeature(categorical bool, hist []hbin, l2 float64, minLeaf int) (*splitter, sums) {
	nb := len(hist) - 1
	fb := featureBins{nBins: nb, categorical: categorical}
	if !categorical {
		for b := range nb {
			fb.edges = append(fb.edges, float64(b)+0.5)
		}
		fb.edges[nb-1] = math.Inf(1)
	}
	m := &binMapper{features: []featureBins{fb}}
	s := &splitter{mapper: m, layout: newHistLayout(m), l2: l2, minSamplesLeaf: minLeaf}
	var t sums
	for _, b := range hist {
		t.g, t.h, t.n = t.g+b.g, t.h+b.h, t.n+int(b.n)
	}
	return s, t
}

func gainOf(l, r sums, l2 float64) float64 {
	sc := func(x sums) float64 { return x.g * x.g / (x.h + l2) }
	return sc(l) + sc(r) - sc(sums{l.g + r.g, l.h + r.h, l.n + r.n})
}

func TestBestNumericSplit(t *testing.T) {
	t.Parallel()

	// G = [-4 -2 3 5], H = 2 each: worked by hand, the best cut is after
	// bin 1: 36/4 + 64/4 - 4/8 = 24.5.
	t.Run("HandChecked", func(t *testing.T) {
		t.Parallel()
		s, tot := oneFeature(false, []hbin{{-4, 2, 20}, {-2, 2, 20}, {3, 2, 20}, {5, 2, 20}, {}}, 0, 1)
		got, ok := s.best([]hbin{{-4, 2, 20}, {-2, 2, 20}, {3, 2, 20}, {5, 2, 20}, {}}, tot, []int{0})
		if !ok {
			t.Fatal("no split found")
		}
		if got.threshold != 1 || got.gain != 24.5 {
			t.Errorf("threshold %d gain %v, want 1 and 24.5", got.threshold, got.gain)
		}
		if got.left != (sums{-6, 4, 40}) || got.right != (sums{8, 4, 40}) {
			t.Errorf("sides %+v %+v, want {-6 4 40} {8 4 40}", got.left, got.right)
		}
		// No missing values were seen: they go where most rows went (a tie: left).
		if !got.defaultLeft {
			t.Errorf("defaultLeft false, want true on a tie")
		}
	})

	t.Run("MinSamplesLeaf", func(t *testing.T) {
		t.Parallel()
		// The best cut (after bin 0) leaves 5 rows on the left.
		h := []hbin{{-10, 1, 5}, {1, 1, 30}, {1, 1, 30}, {1, 1, 30}, {}}
		s, tot := oneFeature(false, h, 1, 10)
		got, ok := s.best(h, tot, []int{0})
		if !ok || got.left.n < 10 || got.right.n < 10 {
			t.Errorf("got %+v (ok %v), want both sides with >= 10 rows", got, ok)
		}
	})

	t.Run("NothingToGain", func(t *testing.T) {
		t.Parallel()
		h := []hbin{{1, 1, 30}, {1, 1, 30}, {}}
		s, tot := oneFeature(false, h, 0, 1)
		if got, ok := s.best(h, tot, []int{0}); ok {
			t.Errorf("split %+v on equal bins, want none", got)
		}
	})

	t.Run("MatchesBruteForce", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(7, 7))
		for trial := range 200 {
			nb := 2 + rng.IntN(12)
			h := make([]hbin, nb+1)
			for b := range h {
				if b == nb && trial%2 == 0 {
					continue // half the trials without missing values
				}
				n := 1 + rng.IntN(30)
				h[b] = hbin{g: rng.NormFloat64() * float64(n), h: float64(n) * (0.1 + rng.Float64()), n: uint32(n)}
			}
			s, tot := oneFeature(false, h, 0.5, 5)
			got, ok := s.best(h, tot, []int{0})
			// Every cut, with missing on either side.
			best := 0.0
			miss := sums{h[nb].g, h[nb].h, int(h[nb].n)}
			for cut := 0; cut < nb; cut++ {
				var l sums
				for b := 0; b <= cut; b++ {
					l = sums{l.g + h[b].g, l.h + h[b].h, l.n + int(h[b].n)}
				}
				for _, withMiss := range []bool{false, true} {
					ll := l
					if withMiss {
						ll = sums{l.g + miss.g, l.h + miss.h, l.n + miss.n}
					}
					r := tot.minus(ll)
					if ll.n >= 5 && r.n >= 5 && ll.h >= minHessian && r.h >= minHessian {
						best = max(best, gainOf(ll, r, 0.5))
					}
				}
			}
			if (best > 0) != ok || math.Abs(best-got.gain) > 1e-9*max(1, best) {
				t.Fatalf("trial %d: got gain %v (ok %v), brute force %v", trial, got.gain, ok, best)
			}
		}
	})
}

func TestMissingValueDirection(t *testing.T) {
	t.Parallel()

	values := []hbin{{-4, 2, 20}, {-2, 2, 20}, {3, 2, 20}, {5, 2, 20}}
	tests := []struct {
		name     string
		missing  hbin
		wantLeft bool
		wantThr  uint8
	}{
		// Missing rows with positive gradients belong with the right side.
		{"LikeRightSide", hbin{6, 2, 20}, false, 1},
		// With negative gradients, with the left side.
		{"LikeLeftSide", hbin{-6, 2, 20}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := append(append([]hbin{}, values...), tt.missing)
			s, tot := oneFeature(false, h, 0, 1)
			got, ok := s.best(h, tot, []int{0})
			if !ok || got.defaultLeft != tt.wantLeft || got.threshold != tt.wantThr {
				t.Errorf("got threshold %d defaultLeft %v (ok %v), want %d %v", got.threshold, got.defaultLeft, ok, tt.wantThr, tt.wantLeft)
			}
		})
	}

	t.Run("SplitOnMissingness", func(t *testing.T) {
		t.Parallel()
		// Values all alike, missing rows very different: every value left,
		// missing right.
		h := []hbin{{1, 1, 20}, {1, 1, 20}, {1, 1, 20}, {-30, 1, 20}}
		s, tot := oneFeature(false, h, 0, 1)
		got, ok := s.best(h, tot, []int{0})
		if !ok || got.threshold != 2 || got.defaultLeft || got.right.n != 20 {
			t.Errorf("got %+v (ok %v), want threshold 2 (all values), missing right", got, ok)
		}
	})
}

func TestCategoricalSplit(t *testing.T) {
	t.Parallel()

	// Codes 1 and 4 have negative gradients, the others positive: the
	// best subset {1, 4} is not a range of codes.
	cats := []hbin{{10, 10, 20}, {-30, 10, 20}, {20, 10, 20}, {15, 10, 20}, {-25, 10, 20}, {5, 10, 20}}

	t.Run("SubsetNotRange", func(t *testing.T) {
		t.Parallel()
		h := append(append([]hbin{}, cats...), hbin{})
		s, tot := oneFeature(true, h, 0, 1)
		got, ok := s.best(h, tot, []int{0})
		if !ok || !got.categorical {
			t.Fatalf("got %+v (ok %v), want a categorical split", got, ok)
		}
		var want catSet
		want.add(1)
		want.add(4)
		// The scan may place {1, 4} on either side; both are the same split.
		var rest catSet
		for _, c := range []uint8{0, 2, 3, 5} {
			rest.add(c)
		}
		if got.cats != want && got.cats != rest {
			t.Errorf("left categories %v, want {1, 4} or its complement", got.cats)
		}
		// Brute force over every subset: the scan finds the best.
		best := 0.0
		for mask := 1; mask < 1<<6-1; mask++ {
			var l sums
			for c := range 6 {
				if mask>>c&1 == 1 {
					l = sums{l.g + cats[c].g, l.h + cats[c].h, l.n + int(cats[c].n)}
				}
			}
			best = max(best, gainOf(l, tot.minus(l), 0))
		}
		if math.Abs(got.gain-best) > 1e-9 {
			t.Errorf("gain %v, best subset %v", got.gain, best)
		}
	})

	t.Run("MissingIsACategory", func(t *testing.T) {
		t.Parallel()
		h := append(append([]hbin{}, cats...), hbin{-28, 10, 20})
		s, tot := oneFeature(true, h, 0, 1)
		got, ok := s.best(h, tot, []int{0})
		if !ok {
			t.Fatal("no split")
		}
		// Missing rows look like codes 1 and 4 and go with them.
		if got.defaultLeft != got.cats.has(1) || got.cats.has(1) != got.cats.has(4) {
			t.Errorf("cats %v defaultLeft %v, want missing with 1 and 4", got.cats, got.defaultLeft)
		}
	})

	t.Run("RareCategoriesGoRight", func(t *testing.T) {
		t.Parallel()
		h := append(append([]hbin{}, cats...), hbin{})
		h[2] = hbin{-100, 1, catMinSupport - 1} // too few rows to be placed
		s, tot := oneFeature(true, h, 0, 1)
		got, ok := s.best(h, tot, []int{0})
		if !ok || got.cats.has(2) {
			t.Errorf("got cats %v (ok %v), want code 2 not on the left", got.cats, ok)
		}
		if got.left.n+got.right.n != tot.n {
			t.Errorf("sides hold %d rows, want %d", got.left.n+got.right.n, tot.n)
		}
	})
}
