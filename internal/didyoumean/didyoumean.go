// Package didyoumean finds the name a user most likely meant when a name
// they wrote is unknown (a param, a field, a column): one rule, so every
// "did you mean" of mlserve suggests alike.
package didyoumean

import "strings"

// Closest returns the candidate closest to s, or "" when none is close
// enough to be a likely typo: the same name but for case, '_', '-' and
// spaces; a candidate that contains s (of 3 or more letters: "auc" for
// roc_auc); else the nearest by Distance, when it is at most a third of
// the shorter name's length.
func Closest(s string, candidates []string) string {
	norm := func(x string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(x))
	}
	best, bestD := "", -1
	for _, c := range candidates {
		if norm(c) == norm(s) {
			return c
		}
		if len(s) >= 3 && strings.Contains(c, strings.ToLower(s)) {
			return c // "auc" for roc_auc
		}
		d := Distance(strings.ToLower(s), c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD >= 0 && bestD <= min(len(s), len(best))/3 {
		return best
	}
	return ""
}

// Distance is the number of single-byte insertions, deletions,
// substitutions and transpositions of neighbours that turn a into b (the
// optimal string alignment distance; the names it compares are ASCII).
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// Suffix returns "; did you mean NAME?" for the candidate Closest to s,
// or "" when none is close.
func Suffix(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return "; did you mean " + c + "?"
	}
	return ""
}
