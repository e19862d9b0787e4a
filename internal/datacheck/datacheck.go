// Package datacheck compares a training snapshot with the production
// version's training statistics before a run trains (DESIGN §5 "Data
// checks"): missing rates, category levels, number distributions (PSI on
// the production version's quantile bins), the target's class balance and
// the row count. PSI lives here once; drift monitoring reuses it.
package datacheck

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/schema"
)

// Default thresholds of the checks (config.Checks overrides them).
const (
	DefaultMissingRate  = 0.2
	DefaultLevels       = 0.05
	DefaultPSI          = 0.25
	DefaultClassBalance = 0.2
)

// Check names, as results and the checks: section spell them.
const (
	CheckMissingRate  = "missing_rate"
	CheckLevelGone    = "level_gone"
	CheckNewLevel     = "new_level"
	CheckPSI          = "psi"
	CheckClassBalance = "class_balance"
	CheckRowCount     = "row_count"
)

// Result is the outcome of one check on one column ("" for the row count).
type Result struct {
	Column   string `json:"column"`
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Expected string `json:"expected"`
	Seen     string `json:"seen"`
	Passed   bool   `json:"passed"`
}

// String names the column, check, expected and seen values.
func (r Result) String() string {
	col := r.Column
	if col == "" {
		col = "rows"
	}
	return fmt.Sprintf("%s %s: expected %s, seen %s", col, r.Check, r.Expected, r.Seen)
}

// Report is the outcome of the checks of one snapshot.
type Report struct {
	// Rows is the snapshot's row count; Baseline the production version
	// compared with (0: none, so only the row count was checked).
	Rows     int      `json:"rows"`
	Baseline int      `json:"baseline_version,omitempty"`
	Checks   []Result `json:"checks"`
}

// Failed returns the failed checks of the given severity.
func (r *Report) Failed(severity string) []Result {
	var out []Result
	for _, c := range r.Checks {
		if !c.Passed && c.Severity == severity {
			out = append(out, c)
		}
	}
	return out
}

// Params are the inputs of Run.
type Params struct {
	Schema *schema.Compiled
	Rows   []schema.Row
	// Baseline is the production version's training statistics (nil: no
	// production version) and BaselineVersion its number.
	Baseline        []schema.ColumnStats
	BaselineVersion int
	// LastRows is how many rows the last run read (0: none).
	LastRows int64
	Checks   config.Checks
}

// Run computes the snapshot's statistics and checks them against the
// baseline.
func Run(p *Params) *Report {
	rep := &Report{Rows: len(p.Rows), Baseline: p.BaselineVersion}
	add := func(c config.Check, r Result) {
		r.Severity = c.SeverityOr()
		if r.Severity != config.SeverityOff {
			rep.Checks = append(rep.Checks, r)
		}
	}
	if p.LastRows > 0 {
		add(p.Checks.RowCount, Result{Check: CheckRowCount, Expected: "at least " + strconv.FormatInt(p.LastRows, 10),
			Seen: strconv.Itoa(len(p.Rows)), Passed: int64(len(p.Rows)) >= p.LastRows})
	}
	if p.Baseline == nil {
		return rep
	}
	base := make(map[string]*schema.ColumnStats, len(p.Baseline))
	for i := range p.Baseline {
		base[p.Baseline[i].Name] = &p.Baseline[i]
	}
	target := p.Schema.Schema().Target
	for _, cur := range schema.ComputeStats(p.Schema, p.Rows) {
		b, ok := base[cur.Name]
		if !ok || b.Type != cur.Type {
			continue // a new or retyped column: nothing to compare with
		}
		t := p.Checks.MissingRate.ThresholdOr(DefaultMissingRate)
		add(p.Checks.MissingRate, Result{Column: cur.Name, Check: CheckMissingRate,
			Expected: "at most " + num(b.MissingRate+t), Seen: num(cur.MissingRate), Passed: cur.MissingRate <= b.MissingRate+t})
		switch {
		case cur.Name == target && len(b.Frequencies) > 0:
			t := p.Checks.ClassBalance.ThresholdOr(DefaultClassBalance)
			moved, label := maxShift(b, &cur)
			add(p.Checks.ClassBalance, Result{Column: cur.Name, Check: CheckClassBalance,
				Expected: "each class's share within " + num(t) + " of production", Seen: shiftText(moved, label), Passed: moved <= t})
		case len(b.Frequencies) > 0:
			t := p.Checks.Levels.ThresholdOr(DefaultLevels)
			gone, newer := levelChanges(b, &cur, t)
			add(p.Checks.Levels, Result{Column: cur.Name, Check: CheckLevelGone,
				Expected: "every level above " + num(t) + " of production's values present", Seen: orNone(gone), Passed: len(gone) == 0})
			add(p.Checks.Levels, Result{Column: cur.Name, Check: CheckNewLevel,
				Expected: "no new level above " + num(t) + " of the values", Seen: orNone(newer), Passed: len(newer) == 0})
		case cur.Type == schema.Timestamp:
			// Time moves on: new rows are later by nature, so a
			// timestamp's distribution always "moves"; no psi check.
		case len(b.Quantiles) > 0 && len(b.BinCounts) == len(b.Quantiles)+1:
			t := p.Checks.PSI.ThresholdOr(DefaultPSI)
			psi := PSI(b.BinCounts, binCounts(p.Schema, p.Rows, cur.Name, b.Quantiles))
			add(p.Checks.PSI, Result{Column: cur.Name, Check: CheckPSI,
				Expected: "at most " + num(t), Seen: num(psi), Passed: psi <= t})
		}
	}
	return rep
}

// binCounts counts the non-missing values of column in rows per bin of cuts.
func binCounts(c *schema.Compiled, rows []schema.Row, column string, cuts []float64) []int {
	i := c.Index(column)
	counts := make([]int, len(cuts)+1)
	for _, r := range rows {
		if v := r[i]; !v.Missing {
			counts[schema.Bin(cuts, v.Num)]++
		}
	}
	return counts
}

// psiFloor stands in for an empty bin's share, so PSI stays finite.
const psiFloor = 1e-4

// PSI is the population stability index of actual against expected, both
// counts over the same bins: Σ (a−e)·ln(a/e) over the bins' shares, an
// empty bin's share taken as 1e-4. 0 when either side has no values.
// Above 0.25 is the classic "the distribution moved".
func PSI(expected, actual []int) float64 {
	var ne, na int
	for i := range expected {
		ne += expected[i]
		na += actual[i]
	}
	if ne == 0 || na == 0 {
		return 0
	}
	var psi float64
	for i := range expected {
		e := max(float64(expected[i])/float64(ne), psiFloor)
		a := max(float64(actual[i])/float64(na), psiFloor)
		psi += (a - e) * math.Log(a/e)
	}
	return psi
}

// shares returns each label's share of the non-missing values.
func shares(s *schema.ColumnStats) map[string]float64 {
	n := s.Other
	for _, f := range s.Frequencies {
		n += f.Count
	}
	out := make(map[string]float64, len(s.Frequencies))
	for _, f := range s.Frequencies {
		if n > 0 {
			out[f.Label] = float64(f.Count) / float64(n)
		}
	}
	return out
}

// maxShift returns the largest change of a class's share and its label.
func maxShift(base, cur *schema.ColumnStats) (float64, string) {
	b, c := shares(base), shares(cur)
	var moved float64
	var label string
	for _, f := range append(append([]schema.LabelCount(nil), base.Frequencies...), cur.Frequencies...) {
		if d := math.Abs(c[f.Label] - b[f.Label]); d > moved {
			moved, label = d, f.Label
		}
	}
	return moved, label
}

func shiftText(moved float64, label string) string {
	if label == "" {
		return "0"
	}
	return fmt.Sprintf("%s moved by %s", strconv.Quote(label), num(moved))
}

// levelChanges lists the levels above t of the baseline that are gone and
// the new levels above t of the current values.
func levelChanges(base, cur *schema.ColumnStats, t float64) (gone, newer []string) {
	b, c := shares(base), shares(cur)
	for _, f := range base.Frequencies {
		if b[f.Label] > t && c[f.Label] == 0 {
			gone = append(gone, fmt.Sprintf("%s (was %s) gone", strconv.Quote(f.Label), num(b[f.Label])))
		}
	}
	for _, f := range cur.Frequencies {
		if c[f.Label] > t && b[f.Label] == 0 {
			newer = append(newer, fmt.Sprintf("%s new at %s", strconv.Quote(f.Label), num(c[f.Label])))
		}
	}
	return gone, newer
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// num formats a share or index with 4 significant digits.
func num(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
