package gbdt

// partitionChunk is the row chunk of a parallel partition.
const partitionChunk = 1 << 15

// partitioner splits a node's rows, a range of one row-index slice, in
// place: left rows first, then right rows, each in their former order (as
// LightGBM's DataPartition). Keeping rows ascending keeps the histogram
// builder's reads of codes and gradients moving forward through memory.
type partitioner struct {
	// columns holds feature j's codes at columns[j*n:(j+1)*n]: a split
	// reads one feature of scattered rows, 64 rows to a cache line.
	columns []uint8
	n       int
	mapper  *binMapper
	threads int
}

// transpose returns the column-major copy of codes.
func transpose(codes *codeMatrix, threads int) []uint8 {
	n := codes.rows
	cols := make([]uint8, n*codes.nf)
	parallelFor(chunks(n, rowChunk), threads, func(c int) {
		for i := c * rowChunk; i < min((c+1)*rowChunk, n); i++ {
			for j, v := range codes.row(i) {
				cols[j*n+i] = v
			}
		}
	})
	return cols
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

// partJob is one node's rows to split by s, with their scratch twin.
type partJob struct {
	rows, scratch []uint32
	s             *split
}

// partition reorders rows (whose scratch twin is scratch, same length) by
// s and returns the number of left rows.
func (p *partitioner) partition(rows, scratch []uint32, s *split) int {
	return p.partitionMany([]partJob{{rows, scratch, s}})[0]
}

// partitionMany splits several nodes at once and returns each one's number
// of left rows. Every node's rows are cut in fixed chunks; each chunk
// partitions itself into its part of scratch, then copies its left and
// right runs to their final places.
func (p *partitioner) partitionMany(jobs []partJob) []int {
	type task struct{ job, lo, hi int }
	var tasks []task
	for i, j := range jobs {
		for lo := 0; lo < len(j.rows); lo += partitionChunk {
			tasks = append(tasks, task{i, lo, min(lo+partitionChunk, len(j.rows))})
		}
	}
	nLeft := make([]int, len(tasks))
	parallelFor(len(tasks), p.threads, func(t int) {
		k := tasks[t]
		j := jobs[k.job]
		nLeft[t] = p.partitionTo(j.rows[k.lo:k.hi], j.scratch[k.lo:k.hi], j.s)
	})
	left := make([]int, len(jobs))
	for t, k := range tasks {
		left[k.job] += nLeft[t]
	}
	leftAt := make([]int, len(tasks))
	rightAt := make([]int, len(tasks))
	l, r := 0, 0
	for t, k := range tasks {
		if k.lo == 0 {
			l, r = 0, left[k.job]
		}
		leftAt[t], rightAt[t] = l, r
		l += nLeft[t]
		r += k.hi - k.lo - nLeft[t]
	}
	parallelFor(len(tasks), p.threads, func(t int) {
		k := tasks[t]
		j := jobs[k.job]
		src := j.scratch[k.lo:k.hi]
		copy(j.rows[leftAt[t]:], src[:nLeft[t]])
		copy(j.rows[rightAt[t]:], src[nLeft[t]:])
	})
	return left
}

// partitionTo writes rows' left rows, then their right rows, each in order,
// to dst and returns the number of left rows.
func (p *partitioner) partitionTo(rows, dst []uint32, s *split) int {
	dst = dst[:len(rows)]
	col := p.columns[s.feature*p.n : (s.feature+1)*p.n]
	missing := p.mapper.features[s.feature].missing()
	// The side of every code, so that the loop has no branch.
	var left [256]int
	for c := range 256 {
		if goesLeft(s, missing, uint8(c)) {
			left[c] = 1
		}
	}
	// Left rows fill dst from the front, right rows from the back
	// (reversed, put in order below). Each row is written to both free
	// ends and only one end moves on; the other copy is overwritten later.
	l, r := 0, len(dst)
	for _, row := range rows {
		isLeft := left[col[row]]
		dst[l] = row
		dst[r-1] = row
		l += isLeft
		r -= 1 - isLeft
	}
	for i, k := l, len(dst)-1; i < k; i, k = i+1, k-1 {
		dst[i], dst[k] = dst[k], dst[i]
	}
	return l
}
