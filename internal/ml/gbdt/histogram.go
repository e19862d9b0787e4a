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

// Row tiles of a histogram build. A node's rows are cut into tiles by their
// number alone, never by the thread count; each tile is summed on its own
// and the tiles are added up in order, so the sums are the same however
// many threads build them. Tiles go to threads whole: a thread reads every
// feature of a row at once, one cache line, which matters for the
// scattered rows of deep nodes.
const (
	tileMinRows = 4096
	maxTiles    = 32
	// tileBytes bounds the memory of the partial histograms.
	tileBytes = 32 << 20
)

// histBuilder builds node histograms over the row-major codes of the
// training rows.
type histBuilder struct {
	codes    *codeMatrix
	layout   histLayout
	threads  int
	maxTiles int
	partials [][]hbin // maxTiles-1 tile histograms
}

func newHistBuilder(codes *codeMatrix, layout histLayout, threads int) histBuilder {
	b := histBuilder{codes: codes, layout: layout, threads: threads}
	b.maxTiles = min(max(tileBytes/(24*max(layout.size, 1)), 1), maxTiles)
	return b
}

// tiles returns the number of tiles of n rows.
func (b *histBuilder) tiles(n int) int { return min(max(n/tileMinRows, 1), b.maxTiles) }

// histJob is one histogram to build: the histogram of rows into dst.
type histJob struct {
	dst  []hbin
	rows []uint32
}

// build fills dst with the histogram of rows for the features in feats
// (ascending) and leaves the other features' bins alone.
func (b *histBuilder) build(dst []hbin, rows []uint32, gh []gradPair, feats []int) {
	b.buildMany([]histJob{{dst, rows}}, gh, feats)
}

// buildMany builds several histograms (of disjoint rows) at once, so that
// small ones share the threads. The tiles of every job run in parallel,
// in waves whose partial histograms fit in tileBytes.
func (b *histBuilder) buildMany(jobs []histJob, gh []gradPair, feats []int) {
	histBytes := 24 * b.layout.alloc()
	budget := max(tileBytes/histBytes, b.maxTiles)
	type task struct {
		dst  []hbin
		rows []uint32
	}
	type reduce struct {
		dst      []hbin
		partials [][]hbin
	}
	for len(jobs) > 0 {
		// One wave: as many jobs as the partial histograms allow.
		var tasks []task
		var reds []reduce
		used := 0
		k := 0
		for ; k < len(jobs); k++ {
			j := jobs[k]
			nt := b.tiles(len(j.rows))
			if k > 0 && used+nt-1 > budget {
				break
			}
			size := (len(j.rows) + nt - 1) / nt
			red := reduce{dst: j.dst}
			for t := range nt {
				h := j.dst
				if t > 0 {
					for len(b.partials) <= used {
						b.partials = append(b.partials, make([]hbin, b.layout.alloc()))
					}
					h = b.partials[used]
					used++
					red.partials = append(red.partials, h)
				}
				tasks = append(tasks, task{h, j.rows[t*size : min((t+1)*size, len(j.rows))]})
			}
			if nt > 1 {
				reds = append(reds, red)
			}
		}
		jobs = jobs[k:]
		parallelFor(len(tasks), b.threads, func(i int) {
			b.buildRows(tasks[i].dst, tasks[i].rows, gh, feats)
		})
		// Add the tiles up in order, each feature of each job apart.
		parallelFor(len(reds)*len(feats), b.threads, func(i int) {
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

// gatherRows is the block of rows buildRows copies together when a node's
// rows are scattered.
const gatherRows = 128

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
	if len(rows) >= gatherRows && int(rows[len(rows)-1]-rows[0]) > 2*len(rows) {
		b.buildScattered(hs, rows, gh)
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

// buildScattered is buildRows for scattered rows and every feature: it
// copies blocks of rows' codes and gradients together first, a loop of
// independent loads the CPU runs many of at once, then sums the copies.
func (b *histBuilder) buildScattered(hs []*[256]hbin, rows []uint32, gh []gradPair) {
	codes, nf, stride := b.codes.data, b.codes.nf, b.codes.stride
	buf := make([]uint8, gatherRows*stride)
	var ghs [gatherRows]gradPair
	for lo := 0; lo < len(rows); lo += gatherRows {
		block := rows[lo:min(lo+gatherRows, len(rows))]
		for k, r := range block {
			copy(buf[k*stride:k*stride+stride], codes[int(r)*stride:int(r)*stride+stride])
			ghs[k] = gh[r]
		}
		for k := range block {
			g, h := float64(ghs[k].g), float64(ghs[k].h)
			row := buf[k*stride : k*stride+nf]
			row = row[:len(hs)]
			for j, hist := range hs {
				e := &hist[row[j]]
				e.g += g
				e.h += h
				e.n++
			}
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
