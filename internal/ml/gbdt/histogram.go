package gbdt

// gradPair is one row's gradient and hessian, packed so that a row's pair
// is one 8-byte load. They are float32, as in XGBoost and LightGBM, which
// halves the memory the histogram builder gathers; sums are float64.
type gradPair struct {
	g, h float32
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

// alloc is the length to allocate a histogram with: its bins plus room
// for any feature's bins to be viewed as a [256]hbin.
func (l histLayout) alloc() int { return l.size + 256 }

func newHistLayout(m *binMapper) histLayout {
	l := histLayout{off: make([]int, len(m.features))}
	for j := range m.features {
		l.off[j] = l.size
		l.size += m.features[j].nBins + 1
	}
	return l
}

// A histogram is built one of three ways, picked by the node's rows alone
// (never by the thread count), and summed in an order fixed by the rows,
// so the sums are the same however many threads build them:
//
//   - A run of rows (the root): feature by feature from the column-major
//     codes, a few features a task; a feature's bins (6 KB) stay in L1.
//   - Dense rows (big nodes): row by row from the row-major codes, every
//     feature of a row at once. The rows are cut into tiles by their
//     number; each tile is summed on its own and the tiles are added up
//     in order.
//   - Scattered rows (deep nodes): feature by feature from the
//     column-major codes, as LightGBM's column-wise mode, with the rows'
//     gradients first gathered in order. A feature's bins stay in L1 and
//     its column in L2, where the row-wise way would miss the cache for
//     every scattered row. A few features of a node are one task.
const (
	tileMinRows = 4096
	maxTiles    = 32
	// tileBytes bounds the memory of the partial histograms.
	tileBytes = 32 << 20
	// A node's rows are scattered when they span more than scatterSpan
	// times their number of training rows.
	scatterSpan = 2
)

// histBuilder builds node histograms.
type histBuilder struct {
	codes    *codeMatrix // row-major
	columns  []uint8     // column-major: feature j's codes at j*n
	n        int
	layout   histLayout
	threads  int
	maxTiles int
	partials [][]hbin // tile histograms
	// ordered holds the gradients of scattered rows, gathered in row
	// order; a job's start at its at offset.
	ordered []gradPair
}

func newHistBuilder(codes *codeMatrix, columns []uint8, layout histLayout, threads int) histBuilder {
	b := histBuilder{codes: codes, columns: columns, n: codes.rows, layout: layout, threads: threads}
	b.maxTiles = min(max(tileBytes/(24*max(layout.size, 1)), 1), maxTiles)
	b.ordered = make([]gradPair, codes.rows)
	return b
}

// tiles returns the number of tiles of n rows.
func (b *histBuilder) tiles(n int) int { return min(max(n/tileMinRows, 1), b.maxTiles) }

// scattered reports whether rows (ascending) are built column by column.
func scattered(rows []uint32) bool {
	return len(rows) > 0 && int(rows[len(rows)-1]-rows[0]) >= scatterSpan*len(rows)
}

// histJob is one histogram to build: the histogram of rows into dst. at
// is where the rows' gradients may go in histBuilder.ordered; the jobs of
// one buildMany must not overlap there.
type histJob struct {
	dst  []hbin
	rows []uint32
	at   int
}

// build fills dst with the histogram of rows for the features in feats
// (ascending) and leaves the other features' bins alone.
func (b *histBuilder) build(dst []hbin, rows []uint32, gh []gradPair, feats []int) {
	b.buildMany([]histJob{{dst, rows, 0}}, gh, feats)
}

// buildMany builds several histograms at once, so that small ones share
// the threads: first the row tiles of dense jobs and the gathering of
// scattered jobs' gradients, then the features of scattered jobs and the
// adding up of tiles. Dense jobs go in waves whose partial histograms fit
// in tileBytes.
func (b *histBuilder) buildMany(jobs []histJob, gh []gradPair, feats []int) {
	histBytes := 24 * b.layout.alloc()
	budget := max(tileBytes/histBytes, b.maxTiles)
	type task struct {
		dst  []hbin
		rows []uint32
		at   int
		cols bool  // gather (first phase) or build (second phase) column-wise
		js   []int // features of a column-wise build
	}
	type reduce struct {
		dst      []hbin
		partials [][]hbin
	}
	for len(jobs) > 0 {
		var first, second []task
		var reds []reduce
		used := 0
		k := 0
		for ; k < len(jobs); k++ {
			jb := jobs[k]
			if contiguous(jb.rows) {
				for g := 0; g < len(feats); g += columnGroup {
					js := feats[g:min(g+columnGroup, len(feats))]
					second = append(second, task{dst: jb.dst, rows: jb.rows, at: -1, cols: true, js: js})
				}
				continue
			}
			if scattered(jb.rows) {
				for lo := 0; lo < len(jb.rows); lo += rowChunk {
					hi := min(lo+rowChunk, len(jb.rows))
					first = append(first, task{rows: jb.rows[lo:hi], at: jb.at + lo, cols: true})
				}
				for g := 0; g < len(feats); g += columnGroup {
					js := feats[g:min(g+columnGroup, len(feats))]
					second = append(second, task{dst: jb.dst, rows: jb.rows, at: jb.at, cols: true, js: js})
				}
				continue
			}
			nt := b.tiles(len(jb.rows))
			if k > 0 && used+nt-1 > budget {
				break
			}
			size := (len(jb.rows) + nt - 1) / nt
			red := reduce{dst: jb.dst}
			for t := range nt {
				h := jb.dst
				if t > 0 {
					for len(b.partials) <= used {
						b.partials = append(b.partials, make([]hbin, b.layout.alloc()))
					}
					h = b.partials[used]
					used++
					red.partials = append(red.partials, h)
				}
				first = append(first, task{dst: h, rows: jb.rows[t*size : min((t+1)*size, len(jb.rows))]})
			}
			if nt > 1 {
				reds = append(reds, red)
			}
		}
		jobs = jobs[k:]
		parallelFor(len(first), b.threads, func(i int) {
			t := first[i]
			if t.cols {
				o := b.ordered[t.at : t.at+len(t.rows)]
				for k, r := range t.rows {
					o[k] = gh[r]
				}
				return
			}
			b.buildRows(t.dst, t.rows, gh, feats)
		})
		// Column-wise features, then the tiles added up in order, each
		// feature of each job apart.
		nr := len(reds) * len(feats)
		parallelFor(len(second)+nr, b.threads, func(i int) {
			if i < len(second) {
				t := second[i]
				if t.at < 0 {
					lo := int(t.rows[0])
					b.buildColumns(t.dst, nil, lo, gh[lo:lo+len(t.rows)], t.js)
					return
				}
				b.buildColumns(t.dst, t.rows, 0, b.ordered[t.at:t.at+len(t.rows)], t.js)
				return
			}
			i -= len(second)
			r, j := reds[i/len(feats)], feats[i%len(feats)]
			lo, hi := b.layout.off[j], b.layout.off[j]+b.layoutWidth(j)
			d := r.dst[lo:hi]
			for _, p := range r.partials {
				for k, e := range p[lo:hi] {
					d[k].g += e.g
					d[k].h += e.h
					d[k].n += e.n
				}
			}
		})
	}
}

// contiguous reports whether rows (ascending) are a run r, r+1, ...
func contiguous(rows []uint32) bool {
	return len(rows) > 0 && int(rows[len(rows)-1]-rows[0]) == len(rows)-1
}

// columnGroup is the features a column-wise task sums together: one pass
// over the rows and their gradients serves them all, and their bins
// (6 KB each) still fit in L1.
const columnGroup = 4

// buildColumns sums the features js (at most columnGroup) of rows, whose
// gradients are ordered (in row order), into dst. With rows nil the rows
// are the run lo, lo+1, ... of len(ordered).
func (b *histBuilder) buildColumns(dst []hbin, rows []uint32, lo int, ordered []gradPair, js []int) {
	var h [columnGroup]*[256]hbin
	var col [columnGroup][]uint8
	for k, j := range js {
		o := b.layout.off[j]
		clear(dst[o : o+b.layoutWidth(j)])
		h[k] = (*[256]hbin)(dst[o : o+256])
		col[k] = b.columns[j*b.n : (j+1)*b.n]
		if rows == nil {
			col[k] = col[k][lo : lo+len(ordered)]
		}
	}
	if len(js) < columnGroup {
		for k := range js {
			sumColumn(h[k], col[k], rows, ordered)
		}
		return
	}
	h0, h1, h2, h3 := h[0], h[1], h[2], h[3]
	c0, c1, c2, c3 := col[0], col[1], col[2], col[3]
	add := func(e *hbin, g, hs float64) {
		e.g += g
		e.h += hs
		e.n++
	}
	if rows == nil {
		c1, c2, c3 = c1[:len(c0)], c2[:len(c0)], c3[:len(c0)]
		ordered = ordered[:len(c0)]
		for i := range c0 {
			g, hs := float64(ordered[i].g), float64(ordered[i].h)
			add(&h0[c0[i]], g, hs)
			add(&h1[c1[i]], g, hs)
			add(&h2[c2[i]], g, hs)
			add(&h3[c3[i]], g, hs)
		}
		return
	}
	ordered = ordered[:len(rows)]
	for i, r := range rows {
		g, hs := float64(ordered[i].g), float64(ordered[i].h)
		add(&h0[c0[r]], g, hs)
		add(&h1[c1[r]], g, hs)
		add(&h2[c2[r]], g, hs)
		add(&h3[c3[r]], g, hs)
	}
}

// sumColumn sums one feature's column col over rows (all of col when rows
// is nil) into h.
func sumColumn(h *[256]hbin, col []uint8, rows []uint32, ordered []gradPair) {
	if rows == nil {
		ordered = ordered[:len(col)]
		for i, c := range col {
			e := &h[c]
			e.g += float64(ordered[i].g)
			e.h += float64(ordered[i].h)
			e.n++
		}
		return
	}
	ordered = ordered[:len(rows)]
	for i, r := range rows {
		e := &h[col[r]]
		e.g += float64(ordered[i].g)
		e.h += float64(ordered[i].h)
		e.n++
	}
}

// buildRows sums rows into dst, one row (every feature) at a time. dst
// must have layout.alloc() bins.
func (b *histBuilder) buildRows(dst []hbin, rows []uint32, gh []gradPair, feats []int) {
	if len(feats) == 0 {
		return
	}
	// Each feature's bins as an array: a uint8 code needs no bounds check.
	var small [64]*[256]hbin
	hs := small[:0]
	if len(feats) > len(small) {
		hs = make([]*[256]hbin, 0, len(feats))
	}
	for _, j := range feats {
		o := b.layout.off[j]
		clear(dst[o : o+b.layoutWidth(j)])
		hs = append(hs, (*[256]hbin)(dst[o:o+256]))
	}
	codes, nf, stride := b.codes.data, b.codes.nf, b.codes.stride
	if len(feats) < nf {
		for _, r := range rows {
			g, h := float64(gh[r].g), float64(gh[r].h)
			row := codes[int(r)*stride : int(r)*stride+nf]
			for i, hist := range hs {
				e := &hist[row[feats[i]]]
				e.g += g
				e.h += h
				e.n++
			}
		}
		return
	}
	for _, r := range rows {
		g, h := float64(gh[r].g), float64(gh[r].h)
		row := codes[int(r)*stride : int(r)*stride+nf]
		row = row[:len(hs)]
		for j, hist := range hs {
			e := &hist[row[j]]
			e.g += g
			e.h += h
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
