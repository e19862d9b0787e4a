package oip

import (
	"sync"

	"github.com/mlserve/mlserve/internal/schema"
)

// scratch is the memory one inference request works in: decoded tensor
// elements, typed rows, encoded features and predictions. It is pooled, so
// that a small request allocates little beyond its decoded envelope.
type scratch struct {
	elems  []elem
	byCol  []*RequestInput
	slab   []schema.Value
	rows   []schema.Row
	x, out []float64
	text   []byte // the classes parameter's JSON, before it is quoted
}

// maxKeep is the most float64s (or values) a pooled scratch keeps: the
// memory of a large batch goes back to the garbage collector.
const maxKeep = 1 << 17

var scratches = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratches.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.x) > maxKeep || cap(s.out) > maxKeep || cap(s.slab) > maxKeep || cap(s.elems) > maxKeep {
		return
	}
	clear(s.byCol) // no request's inputs kept alive by the pool
	clear(s.rows)
	clear(s.slab)
	clear(s.elems)
	scratches.Put(s)
}
