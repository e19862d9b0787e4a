package serving

import "sync"

// MaxKeep is the most bytes a pooled buffer keeps for the next request:
// the memory of a larger one (a large batch, a large body) goes back to
// the garbage collector.
const MaxKeep = 1 << 20

// Pool is a pool of a request's scratch memory, shared by the requests of
// every route that works in a T.
type Pool[T any] struct {
	pool sync.Pool
	keep func(*T) bool
}

// NewPool returns a pool of T. keep is called on each T given back: it
// drops what the T must not keep alive (a request's strings, a model's
// rows) and returns false when the T holds more than is worth keeping.
func NewPool[T any](keep func(*T) bool) *Pool[T] {
	return &Pool[T]{pool: sync.Pool{New: func() any { return new(T) }}, keep: keep}
}

// Get returns a T from the pool, or a new one.
func (p *Pool[T]) Get() *T { return p.pool.Get().(*T) }

// Put gives s back, for the next Get when keep says so.
func (p *Pool[T]) Put(s *T) {
	if p.keep(s) {
		p.pool.Put(s)
	}
}

// Grow returns s with length n, reusing its memory when it can.
func Grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
