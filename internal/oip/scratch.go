package oip

import (
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/serving"
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

// maxKeep is the most float64s (or values) a pooled scratch keeps.
const maxKeep = serving.MaxKeep / 8

var scratches = serving.NewPool(func(s *scratch) bool {
	if cap(s.x) > maxKeep || cap(s.out) > maxKeep || cap(s.slab) > maxKeep || cap(s.elems) > maxKeep {
		return false
	}
	clear(s.byCol) // no request's inputs kept alive by the pool
	clear(s.rows)
	clear(s.slab)
	clear(s.elems)
	return true
})
