package features

import "github.com/mlserve/mlserve/internal/schema"

// foldRare finds the levels of column i seen in fewer than min training
// rows, and whether a missing value was that rare, and records them with
// the most frequent level (the first on a tie), which encodes them. A
// level learned from one or two rows would otherwise swing a prediction
// on the strength of those rows alone (titanic's embarked is missing in 2
// of 891 rows); the most frequent level is what such a row most likely
// was, and its prediction lies within those of the observed levels.
func (ce *Column) foldRare(col schema.Column, rows []schema.Row, min int) {
	if min <= 0 || len(ce.Levels) == 0 {
		return
	}
	code := make(map[string]int, len(ce.Levels))
	for j, l := range ce.Levels {
		code[l] = j
	}
	counts := make([]int, len(ce.Levels))
	missing := 0
	for _, r := range rows {
		v := r[ce.Index]
		if v.Missing {
			missing++
		} else if j, ok := code[v.Str]; ok {
			counts[j]++
		}
	}
	common := 0
	for j := range ce.Levels {
		if counts[j] > counts[common] {
			common = j
		}
	}
	ce.Common = common
	for j, l := range ce.Levels {
		if j != common && counts[j] < min {
			ce.Rare = append(ce.Rare, l)
		}
	}
	ce.MissingAsCommon = col.Nullable && missing < min
	ce.initRare()
}

// rareMissing reports whether column i is missing in fewer than min
// training rows (none counts too), with the rule on (min > 0).
func rareMissing(rows []schema.Row, i, min int) bool {
	if min <= 0 {
		return false
	}
	n := 0
	for _, r := range rows {
		if r[i].Missing {
			n++
		}
	}
	return n < min
}

// initRare builds the by-code lookup of Rare.
func (ce *Column) initRare() {
	ce.rareCode = nil
	if len(ce.Rare) == 0 {
		return
	}
	ce.rareCode = make([]bool, len(ce.Levels))
	for _, l := range ce.Rare {
		for j, x := range ce.Levels {
			if x == l {
				ce.rareCode[j] = true
			}
		}
	}
}

// fold maps a rare level's code, and a rare missing value, to Common.
func (ce *Column) fold(code int, missing bool) (int, bool) {
	switch {
	case missing && ce.MissingAsCommon:
		return ce.Common, false
	case !missing && code < len(ce.rareCode) && ce.rareCode[code]:
		return ce.Common, false
	}
	return code, missing
}
