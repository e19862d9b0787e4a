package serving_test

import (
	"testing"

	"github.com/mlserve/mlserve/internal/serving"
)

// TestPoolAsksKeep checks that every scratch given back goes through keep
// (which drops what the pool must not keep alive), and that Get works
// whatever keep said.
func TestPoolAsksKeep(t *testing.T) {
	type scr struct{ b []byte }
	var asked []int
	p := serving.NewPool(func(s *scr) bool {
		asked = append(asked, cap(s.b))
		keep := cap(s.b) <= serving.MaxKeep
		s.b = s.b[:0]
		return keep
	})
	s := p.Get()
	s.b = make([]byte, 10)
	p.Put(s)
	big := p.Get()
	big.b = make([]byte, serving.MaxKeep+1)
	p.Put(big)
	if len(asked) != 2 || asked[0] != 10 || asked[1] != serving.MaxKeep+1 {
		t.Fatalf("keep asked about capacities %v, want [10 %d]", asked, serving.MaxKeep+1)
	}
	if p.Get() == nil {
		t.Fatal("Get returned nil")
	}
}

// TestGrow checks that Grow reuses memory that is large enough.
func TestGrow(t *testing.T) {
	s := make([]int, 2, 8)
	if g := serving.Grow(s, 5); len(g) != 5 || &g[0] != &s[0] {
		t.Errorf("Grow(cap 8, 5): len %d, same memory %v", len(g), &g[0] == &s[0])
	}
	if g := serving.Grow(s, 9); len(g) != 9 {
		t.Errorf("Grow(cap 8, 9): len %d", len(g))
	}
}
