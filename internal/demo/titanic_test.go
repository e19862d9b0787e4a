package demo

import (
	"math"
	"slices"
	"testing"
)

func TestTitanicFollowsTheFigures(t *testing.T) {
	t.Parallel()
	g := NewTitanic(1)
	const n = 60000
	var count, surv [2][3]float64
	missingAge := 0
	for i := 0; i < n; i++ {
		p := g.Next()
		if p.Age == "" {
			missingAge++
			continue
		}
		sex := 0
		if p.Sex == "female" {
			sex = 1
		}
		c := int(p.Class[0] - '1')
		count[sex][c]++
		if p.Survived == "1" {
			surv[sex][c]++
		}
	}
	if got := float64(missingAge) / n; math.Abs(got-ageMissing) > 0.01 {
		t.Errorf("missing age share = %.3f, want %.3f", got, ageMissing)
	}
	for sex := range 2 {
		for c := range 3 {
			got := surv[sex][c] / count[sex][c]
			// Children (<12) lift men's rates a little; allow for it.
			if math.Abs(got-survival[sex][c]) > 0.06 {
				t.Errorf("survival sex=%d class=%d = %.3f, want about %.3f", sex, c+1, got, survival[sex][c])
			}
		}
	}
}

func TestTitanicIsSeeded(t *testing.T) {
	t.Parallel()
	a, b, c := NewTitanic(7), NewTitanic(7), NewTitanic(8)
	var ra, rb, rc [][]string
	for i := 0; i < 100; i++ {
		ra = append(ra, a.Next().Record())
		rb = append(rb, b.Next().Record())
		rc = append(rc, c.Next().Record())
	}
	eq := slices.EqualFunc(ra, rb, slices.Equal)
	if !eq {
		t.Fatal("same seed gave different passengers")
	}
	if slices.EqualFunc(ra, rc, slices.Equal) {
		t.Fatal("different seeds gave the same passengers")
	}
}
