package gbdt

import (
	"slices"
	"testing"
)

func TestPartition(t *testing.T) {
	t.Parallel()

	// Large enough for the parallel path.
	f := newHistFixture(t, 3*partitionChunk+123, 4, 4)
	pt := partitioner{columns: transpose(&f.codes, 2), n: len(f.all), mapper: f.mapper}
	var cats catSet
	cats.add(0)
	cats.add(2)
	splits := []struct {
		name string
		s    split
	}{
		{"Numeric", split{feature: 0, threshold: 100}},
		{"NumericMissingLeft", split{feature: 1, threshold: 40, defaultLeft: true}},
		{"Categorical", split{feature: 3, categorical: true, cats: cats}},
		{"CategoricalMissingLeft", split{feature: 3, categorical: true, cats: cats, defaultLeft: true}},
	}
	odd := []uint32{}
	for _, r := range f.all {
		if r%2 == 1 {
			odd = append(odd, r)
		}
	}
	for _, sc := range splits {
		for _, threads := range []int{1, 3} {
			for _, in := range [][]uint32{f.all, odd} {
				name := sc.name
				if threads > 1 {
					name += "Parallel"
				}
				if len(in) < len(f.all) {
					name += "Subset"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					s := sc.s
					missing := f.mapper.features[s.feature].missing()
					var wantL, wantR []uint32
					for _, r := range in {
						if goesLeft(&s, missing, f.codes.row(int(r))[s.feature]) {
							wantL = append(wantL, r)
						} else {
							wantR = append(wantR, r)
						}
					}
					p := pt
					p.threads = threads
					rows := slices.Clone(in)
					nl := p.partition(rows, make([]uint32, len(rows)), &s)
					if nl != len(wantL) {
						t.Fatalf("%d left rows, want %d", nl, len(wantL))
					}
					if !slices.Equal(rows[:nl], wantL) || !slices.Equal(rows[nl:], wantR) {
						t.Fatalf("rows not split stably")
					}
					if len(wantL) == 0 || len(wantR) == 0 {
						t.Fatalf("fixture gives an empty side; pick another split")
					}
				})
			}
		}
	}
}

func TestGoesLeft(t *testing.T) {
	t.Parallel()

	var cats catSet
	cats.add(3)
	tests := []struct {
		name string
		s    split
		code uint8
		want bool
	}{
		{"AtThreshold", split{threshold: 4}, 4, true},
		{"AboveThreshold", split{threshold: 4}, 5, false},
		{"MissingRight", split{threshold: 4}, 9, false},
		{"MissingLeft", split{threshold: 4, defaultLeft: true}, 9, true},
		{"InSet", split{categorical: true, cats: cats}, 3, true},
		{"NotInSet", split{categorical: true, cats: cats}, 2, false},
		{"CategoryMissingLeft", split{categorical: true, cats: cats, defaultLeft: true}, 9, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := goesLeft(&tt.s, 9, tt.code); got != tt.want {
				t.Errorf("goesLeft(code %d) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}
