package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/mlserve/mlserve/internal/ml"
)

// binSampleRows is how many rows (at most) the bin edges are computed from,
// as LightGBM's bin_construct_sample_cnt and scikit-learn's subsample.
const binSampleRows = 200_000

// binRowChunk is the row chunk of parallel binning.
const binRowChunk = 16_384

// featureBins maps one feature's raw values to bin codes. Codes 0..nBins-1
// hold values; code nBins is the feature's missing bin (NaN, and for a
// categorical feature also a code outside 0..Levels-1).
type featureBins struct {
	// edges are the upper edges of the value bins of a numeric feature: v
	// falls in the first bin b with v <= edges[b]. The last edge is +Inf.
	edges       []float64
	nBins       int
	categorical bool
}

// missing is the feature's missing bin.
func (f *featureBins) missing() uint8 { return uint8(f.nBins) }

// bin returns the code of raw value v.
func (f *featureBins) bin(v float64) uint8 {
	if f.categorical {
		if c, ok := categoryCode(v, float64(f.nBins)); ok {
			return uint8(c)
		}
		return uint8(f.nBins)
	}
	if v != v {
		return uint8(f.nBins)
	}
	// The first edge >= v (the last edge is +Inf), by a binary search
	// whose steps are conditional moves, not branches.
	e := f.edges
	lo, n := 0, len(e)
	for n > 1 {
		half := n >> 1
		var up int
		if e[lo+half-1] < v {
			up = 1
		}
		lo += half & -up
		n -= half
	}
	return uint8(lo)
}

// binMapper holds the bins of every feature.
type binMapper struct {
	features []featureBins
}

// newBinMapper computes bin edges from up to binSampleRows of the given rows
// of X, drawn with rng. A categorical feature with at most maxBins levels is
// binned by its codes; one with more levels is binned as a number.
func newBinMapper(X ml.Matrix, rows []int, feats []ml.Feature, maxBins int, rng *rand.Rand, threads int) *binMapper {
	sample := rows
	if len(rows) > binSampleRows {
		// Selection sampling (Knuth's algorithm S): every row is kept with
		// the chance the rows still needed have among the rows left, which
		// draws a uniform sample already in order.
		sample = make([]int, 0, binSampleRows)
		for i, r := range rows {
			if float64(len(rows)-i)*rng.Float64() < float64(binSampleRows-len(sample)) {
				sample = append(sample, r)
			}
		}
	}
	// The sample column by column, read row by row.
	nf, ns := X.Cols, len(sample)
	cols := make([]float64, nf*ns)
	parallelFor(chunks(ns, binRowChunk), threads, func(c int) {
		for i := c * binRowChunk; i < min((c+1)*binRowChunk, ns); i++ {
			r := sample[i]
			for j, v := range X.Data[r*nf : r*nf+nf] {
				cols[j*ns+i] = v
			}
		}
	})
	m := &binMapper{features: make([]featureBins, nf)}
	parallelFor(nf, threads, func(j int) {
		if f := feats[j]; f.Categorical && f.Levels >= 1 && f.Levels <= maxBins {
			m.features[j] = featureBins{nBins: f.Levels, categorical: true}
			return
		}
		vals := cols[j*ns : j*ns : (j+1)*ns]
		for _, v := range cols[j*ns : (j+1)*ns] {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
		edges := numericEdges(vals, maxBins)
		m.features[j] = featureBins{edges: edges, nBins: len(edges)}
	})
	return m
}

// numericEdges returns at most maxBins upper bin edges for the finite values
// vals (which it sorts), the last being +Inf. With few distinct values each
// gets its own bin, split at midpoints; otherwise the edges are quantiles
// (midpoint interpolation), as scikit-learn's _find_binning_thresholds.
func numericEdges(vals []float64, maxBins int) []float64 {
	sortFloats(vals)
	distinct := slices.Compact(slices.Clone(vals))
	var edges []float64
	if len(distinct) <= maxBins {
		for i := 0; i+1 < len(distinct); i++ {
			edges = append(edges, midpoint(distinct[i], distinct[i+1]))
		}
	} else {
		n := len(vals)
		for k := 1; k < maxBins; k++ {
			pos := float64(k) * float64(n-1) / float64(maxBins)
			lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
			e := midpoint(vals[lo], vals[hi])
			if len(edges) == 0 || e > edges[len(edges)-1] {
				edges = append(edges, e)
			}
		}
		// An edge at the largest value would leave the last bin empty.
		if len(edges) > 0 && edges[len(edges)-1] >= distinct[len(distinct)-1] {
			edges = edges[:len(edges)-1]
		}
	}
	return append(edges, math.Inf(1))
}

// sortFloats sorts finite values ascending: a least-significant-digit
// radix sort on their bits, bytes whose value is the same in every key
// skipped. For the sample's 200,000 values it is several times faster
// than a comparison sort.
func sortFloats(v []float64) {
	if len(v) < 256 {
		slices.Sort(v)
		return
	}
	// Keys that order as the floats do: flip every bit of negatives, the
	// sign bit of the rest.
	keys := make([]uint64, len(v))
	for i, f := range v {
		b := math.Float64bits(f)
		if b>>63 == 1 {
			keys[i] = ^b
		} else {
			keys[i] = b | 1<<63
		}
	}
	tmp := make([]uint64, len(v))
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for _, k := range keys {
			count[k>>shift&255]++
		}
		if count[keys[0]>>shift&255] == len(keys) {
			continue
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for _, k := range keys {
			d := k >> shift & 255
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	for i, k := range keys {
		if k>>63 == 1 {
			v[i] = math.Float64frombits(k &^ (1 << 63))
		} else {
			v[i] = math.Float64frombits(^k)
		}
	}
}

// midpoint returns a value m with a <= m < b for a < b, halfway if it can.
func midpoint(a, b float64) float64 {
	m := a/2 + b/2
	if m < a || m >= b {
		return a
	}
	return m
}

// codeMatrix holds the bin codes of rows, row-major. Row-major keeps one
// row's codes on one cache line, which the histogram builder reads for a
// node's scattered rows.
type codeMatrix struct {
	data   []uint8
	rows   int
	nf     int // features
	stride int // bytes per row
}

// row returns row i's codes.
func (c *codeMatrix) row(i int) []uint8 { return c.data[i*c.stride : i*c.stride+c.nf] }

// binRows returns the codes of the given rows of X.
func (m *binMapper) binRows(X ml.Matrix, rows []int, threads int) codeMatrix {
	nf := X.Cols
	out := codeMatrix{rows: len(rows), nf: nf, stride: nf}
	out.data = make([]uint8, len(rows)*out.stride)
	parallelFor(chunks(len(rows), binRowChunk), threads, func(c int) {
		lo, hi := c*binRowChunk, min((c+1)*binRowChunk, len(rows))
		for i := lo; i < hi; i++ {
			x := X.Data[rows[i]*nf : rows[i]*nf+nf]
			o := out.row(i)
			for j := range o {
				o[j] = m.features[j].bin(x[j])
			}
		}
	})
	return out
}
