package gbdt

// partitionChunk is the row chunk of a parallel partition.
const partitionChunk = 1 << 15

// partitioner splits a node's rows, a range of one row-index slice, in
// place: left rows first, then right rows, each in their former order (as
// LightGBM's DataPartition). Keeping rows ascending keeps the histogram
// builder's reads of codes and gradients moving forward through memory.
type partitioner struct {
	codes   []uint8 // row-major, nf per row
	nf      int
	mapper  *binMapper
	scratch []uint32 // as long as the row-index slice
	threads int
}

// goesLeft reports whether a row with code c of the split feature goes left.
func goesLeft(s *split, missing, c uint8) bool {
	switch {
	case c == missing:
		return s.defaultLeft
	case s.categorical:
		return s.cats.has(c)
	default:
		return c <= s.threshold
	}
}

// partition reorders rows (whose scratch twin is scratch, same length) by
// s and returns the number of left rows.
func (p *partitioner) partition(rows, scratch []uint32, s *split) int {
	n := len(rows)
	if n < 2*partitionChunk || workers(p.threads) == 1 {
		nl := p.partitionTo(rows, scratch, s)
		copy(rows, scratch[:n])
		return nl
	}
	// Each chunk partitions itself into its part of scratch; then every
	// chunk copies its left and right runs to their final places.
	nc := chunks(n, partitionChunk)
	nLeft := make([]int, nc)
	parallelFor(nc, p.threads, func(c int) {
		lo, hi := c*partitionChunk, min((c+1)*partitionChunk, n)
		nLeft[c] = p.partitionTo(rows[lo:hi], scratch[lo:hi], s)
	})
	leftAt := make([]int, nc)
	rightAt := make([]int, nc)
	total := 0
	for c := range nc {
		leftAt[c] = total
		total += nLeft[c]
	}
	r := total
	for c := range nc {
		rightAt[c] = r
		r += min((c+1)*partitionChunk, n) - c*partitionChunk - nLeft[c]
	}
	parallelFor(nc, p.threads, func(c int) {
		lo, hi := c*partitionChunk, min((c+1)*partitionChunk, n)
		src := scratch[lo:hi]
		copy(rows[leftAt[c]:], src[:nLeft[c]])
		copy(rows[rightAt[c]:], src[nLeft[c]:])
	})
	return total
}

// partitionTo writes rows' left rows, then their right rows, each in order,
// to dst and returns the number of left rows.
func (p *partitioner) partitionTo(rows, dst []uint32, s *split) int {
	dst = dst[:len(rows)]
	codes, nf, j := p.codes, p.nf, s.feature
	missing := p.mapper.features[j].missing()
	// Left rows fill dst from the front, right rows from the back
	// (reversed, put in order below).
	l, r := 0, len(dst)
	if s.categorical {
		for _, row := range rows {
			if goesLeft(s, missing, codes[int(row)*nf+j]) {
				dst[l] = row
				l++
			} else {
				r--
				dst[r] = row
			}
		}
	} else {
		t, defLeft := s.threshold, s.defaultLeft
		for _, row := range rows {
			c := codes[int(row)*nf+j]
			if c <= t || (c == missing && defLeft) {
				dst[l] = row
				l++
			} else {
				r--
				dst[r] = row
			}
		}
	}
	for i, k := l, len(dst)-1; i < k; i, k = i+1, k-1 {
		dst[i], dst[k] = dst[k], dst[i]
	}
	return l
}
