package schema

import (
	"cmp"
	"math"
	"slices"
)

// MaxStatsLabels is the most labels of an open category (one without
// declared Values) that ColumnStats lists; the rest are summed in Other.
const MaxStatsLabels = 100

// ColumnStats are the training statistics of one stored column: the ground
// for data checks and for drift on live traffic (DESIGN §5). Moments are
// over the non-missing values.
type ColumnStats struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Count is the number of rows, Missing how many had no value, and
	// MissingRate their share (0 without rows).
	Count       int     `json:"count"`
	Missing     int     `json:"missing"`
	MissingRate float64 `json:"missing_rate"`
	// Mean and Std (population standard deviation) of number, integer and
	// timestamp (Unix seconds) values, and of booleans as 1/0 (Mean is then
	// the share of true); Min and Max of number, integer and timestamp
	// values. Absent without values.
	Mean *float64 `json:"mean,omitempty"`
	Std  *float64 `json:"std,omitempty"`
	Min  *float64 `json:"min,omitempty"`
	Max  *float64 `json:"max,omitempty"`
	// Distinct is the number of distinct labels seen (categories and
	// booleans).
	Distinct int `json:"distinct,omitempty"`
	// Frequencies count the values of categories and booleans: every
	// declared label in declared order (unseen ones with 0), false then true
	// for booleans, and for open categories the MaxStatsLabels most frequent
	// labels, most frequent first (ties by label).
	Frequencies []LabelCount `json:"frequencies,omitempty"`
	// Other counts the values of the labels Frequencies leaves out.
	Other int `json:"other,omitempty"`
	// Quantiles are the distinct cut points at 1/QuantileBins,
	// 2/QuantileBins, … of the number, integer and timestamp values, and
	// BinCounts how many values fall in each bin they make (see Bin):
	// the fixed bins on which data checks and drift compute PSI.
	Quantiles []float64 `json:"quantiles,omitempty"`
	BinCounts []int     `json:"bin_counts,omitempty"`
}

// QuantileBins is how many quantile bins ColumnStats cuts numbers into.
const QuantileBins = 10

// Bin returns the bin of x among the ascending cut points: the first i with
// x <= cuts[i], or len(cuts) when x is above them all.
func Bin(cuts []float64, x float64) int {
	i, _ := slices.BinarySearch(cuts, x)
	return i
}

// quantileBins returns the distinct decile cut points of sorted (nearest
// rank) and the count of values in each of their bins.
func quantileBins(sorted []float64) ([]float64, []int) {
	if len(sorted) == 0 {
		return nil, nil
	}
	cuts := make([]float64, 0, QuantileBins-1)
	for k := 1; k < QuantileBins; k++ {
		cuts = append(cuts, sorted[(len(sorted)-1)*k/QuantileBins])
	}
	cuts = slices.Compact(cuts)
	counts := make([]int, len(cuts)+1)
	for _, x := range sorted {
		counts[Bin(cuts, x)]++
	}
	return cuts, counts
}

// LabelCount is how often a label occurred.
type LabelCount struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// ComputeStats returns the statistics of each stored (not ignored) column of
// c over rows, in schema order. rows must have been coerced by c. The result
// depends only on the rows and their order: float sums run in row order.
func ComputeStats(c *Compiled, rows []Row) []ColumnStats {
	var accs []statsAcc
	for i := range c.cols {
		col := &c.cols[i]
		if col.Ignore {
			continue
		}
		a := statsAcc{i: i, typ: col.Type, min: math.Inf(1), max: math.Inf(-1)}
		switch col.Type {
		case Category:
			if len(col.Values) > 0 {
				a.declared = true
				a.counts = make([]int, len(col.Values))
			} else {
				a.open = make(map[string]int)
			}
		case Boolean:
			a.counts = make([]int, 2)
		}
		accs = append(accs, a)
	}

	// One pass, row by row as rows are laid out (the cost is reading the
	// rows): the mean is a plain sum in row order, the variance Welford's
	// update, as stable as a second pass over the deviations.
	for _, row := range rows {
		for k := range accs {
			a := &accs[k]
			v := &row[a.i]
			if v.Missing {
				continue
			}
			a.n++
			switch a.typ {
			case Number, Integer, Timestamp:
				a.moments(v.Num)
				a.min = min(a.min, v.Num)
				a.max = max(a.max, v.Num)
				a.values = append(a.values, v.Num)
			case Boolean:
				a.moments(v.Num)
				a.counts[min(int(v.Num), 1)]++
			case Category:
				if !a.declared {
					a.open[v.Str]++
				} else if j := int(v.Num); j >= 0 && j < len(a.counts) {
					a.counts[j]++
				} else {
					a.other++
				}
			}
		}
	}
	out := make([]ColumnStats, len(accs))
	for k := range accs {
		a := &accs[k]
		col := &c.cols[a.i]
		st := ColumnStats{Name: col.Name, Type: col.Type, Count: len(rows), Missing: len(rows) - a.n, Other: a.other}
		if st.Count > 0 {
			st.MissingRate = float64(st.Missing) / float64(st.Count)
		}
		if a.n > 0 && a.typ != Category {
			st.Mean, st.Std = ptr(a.sum/float64(a.n)), ptr(math.Sqrt(a.m2/float64(a.n)))
			if a.typ != Boolean {
				st.Min, st.Max = ptr(a.min), ptr(a.max)
				slices.Sort(a.values)
				st.Quantiles, st.BinCounts = quantileBins(a.values)
			}
		}
		switch {
		case a.typ == Boolean:
			st.Frequencies = []LabelCount{{"false", a.counts[0]}, {"true", a.counts[1]}}
			st.Distinct = countNonZero(a.counts)
		case a.declared:
			st.Frequencies = make([]LabelCount, len(col.Values))
			for j, l := range col.Values {
				st.Frequencies[j] = LabelCount{l, a.counts[j]}
			}
			st.Distinct = countNonZero(a.counts)
		case a.open != nil:
			st.Frequencies = make([]LabelCount, 0, len(a.open))
			for l, n := range a.open {
				st.Frequencies = append(st.Frequencies, LabelCount{l, n})
			}
			slices.SortFunc(st.Frequencies, func(x, y LabelCount) int {
				return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Label, y.Label))
			})
			st.Distinct = len(st.Frequencies)
			if len(st.Frequencies) > MaxStatsLabels {
				for _, lc := range st.Frequencies[MaxStatsLabels:] {
					st.Other += lc.Count
				}
				st.Frequencies = slices.Clip(st.Frequencies[:MaxStatsLabels])
			}
			if len(st.Frequencies) == 0 {
				st.Frequencies = nil
			}
		}
		out[k] = st
	}
	return out
}

// statsAcc accumulates the statistics of one column.
type statsAcc struct {
	i        int // column index
	typ      Type
	declared bool
	counts   []int          // declared labels, or false/true
	open     map[string]int // open category labels
	other    int            // labels not declared (rows not coerced by c)
	n        int            // non-missing values
	sum      float64        // for the mean, summed in row order
	wMean    float64        // Welford's running mean, for m2
	m2       float64        // sum of squared deviations (Welford)
	min, max float64
	values   []float64 // numbers, for the quantiles
}

// moments adds x to the sum and to Welford's running variance (n already
// counts x).
func (a *statsAcc) moments(x float64) {
	a.sum += x
	d := x - a.wMean
	a.wMean += d / float64(a.n)
	a.m2 += d * (x - a.wMean)
}

func countNonZero(xs []int) int {
	n := 0
	for _, x := range xs {
		if x != 0 {
			n++
		}
	}
	return n
}
