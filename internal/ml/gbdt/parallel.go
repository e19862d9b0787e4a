package gbdt

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// workers resolves a thread count: 0 means every core Go may use.
func workers(threads int) int {
	if threads > 0 {
		return threads
	}
	return runtime.GOMAXPROCS(0)
}

// parallelFor runs task(i) for i in [0, n) on up to threads goroutines. Tasks
// must be independent: which goroutine runs which task varies from run to
// run, so a task may only write what no other task reads or writes.
func parallelFor(n, threads int, task func(i int)) {
	w := min(workers(threads), n)
	if w <= 1 {
		for i := range n {
			task(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				task(i)
			}
		})
	}
	wg.Wait()
}

// chunks returns how many fixed-size chunks cover n items. The chunk size is
// a constant, never derived from the thread count, so that per-chunk
// partial results, reduced in chunk order, do not depend on it.
func chunks(n, size int) int { return (n + size - 1) / size }
