package gbdt

// gradPair is one row's gradient and hessian, packed so that a row's pair
// is one load.
type gradPair struct {
	g, h float64
}

// hbin is one histogram bin: the sums of gradient and hessian and the row
// count of the rows whose code falls in it.
type hbin struct {
	g, h float64
	n    uint32
}

// histLayout places every feature's bins in one flat []hbin: feature j's
// bins start at off[j] and take nBins+1 slots, the last being its missing bin.
type histLayout struct {
	off  []int
	size int
}

func newHistLayout(m *binMapper) histLayout {
	l := histLayout{off: make([]int, len(m.features))}
	for j := range m.features {
		l.off[j] = l.size
		l.size += m.features[j].nBins + 1
	}
	return l
}

// histMinParallel is the work (rows × features) below which a histogram is
// built on one goroutine: spreading less costs more than it saves.
const histMinParallel = 1 << 15

// histBuilder builds node histograms over the row-major codes of the
// training rows.
type histBuilder struct {
	codes   []uint8 // row-major, nf per row
	nf      int
	layout  histLayout
	threads int
}

// build fills dst with the histogram of rows for the features in feats
// (ascending) and leaves the other features' bins alone. Each feature is
// summed by one goroutine in row order, so the sums do not depend on the
// number of threads; goroutines take contiguous runs of features.
func (b *histBuilder) build(dst []hbin, rows []uint32, gh []gradPair, feats []int) {
	w := workers(b.threads)
	if w > len(feats) {
		w = len(feats)
	}
	if w <= 1 || len(rows)*len(feats) < histMinParallel {
		b.buildRange(dst, rows, gh, feats)
		return
	}
	parallelFor(w, w, func(i int) {
		lo, hi := i*len(feats)/w, (i+1)*len(feats)/w
		b.buildRange(dst, rows, gh, feats[lo:hi])
	})
}

// buildRange is build's loop for a run of features.
func (b *histBuilder) buildRange(dst []hbin, rows []uint32, gh []gradPair, feats []int) {
	if len(feats) == 0 {
		return
	}
	off := b.layout.off
	for _, j := range feats {
		clear(dst[off[j] : off[j]+b.layoutWidth(j)])
	}
	nf := b.codes
	stride := b.nf
	// Fast path: a contiguous run of features, read as one slice of the row.
	if feats[len(feats)-1]-feats[0] == len(feats)-1 {
		f0, k := feats[0], len(feats)
		offs := off[f0 : f0+k]
		for _, r := range rows {
			p := gh[r]
			base := int(r)*stride + f0
			row := nf[base : base+k]
			for i, c := range row {
				e := &dst[offs[i]+int(c)]
				e.g += p.g
				e.h += p.h
				e.n++
			}
		}
		return
	}
	for _, r := range rows {
		p := gh[r]
		row := nf[int(r)*stride : int(r)*stride+stride]
		for _, j := range feats {
			e := &dst[off[j]+int(row[j])]
			e.g += p.g
			e.h += p.h
			e.n++
		}
	}
}

// layoutWidth is the number of bins of feature j, missing bin included.
func (b *histBuilder) layoutWidth(j int) int {
	if j+1 < len(b.layout.off) {
		return b.layout.off[j+1] - b.layout.off[j]
	}
	return b.layout.size - b.layout.off[j]
}

// subtract sets dst = parent - child for the features in feats: the
// histogram of a node's other child without reading its rows. dst may be
// parent.
func (b *histBuilder) subtract(dst, parent, child []hbin, feats []int) {
	for _, j := range feats {
		lo, hi := b.layout.off[j], b.layout.off[j]+b.layoutWidth(j)
		d, p, c := dst[lo:hi], parent[lo:hi], child[lo:hi]
		for i := range d {
			d[i] = hbin{g: p[i].g - c[i].g, h: p[i].h - c[i].h, n: p[i].n - c[i].n}
		}
	}
}
