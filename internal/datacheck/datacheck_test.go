package datacheck

import (
	"math"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/schema"
)

func TestPSI(t *testing.T) {
	if got := PSI([]int{50, 50}, []int{5, 5}); got != 0 {
		t.Errorf("PSI of equal shares = %v, want 0", got)
	}
	// (0.9-0.5)·ln(0.9/0.5) + (0.1-0.5)·ln(0.1/0.5)
	want := 0.4*math.Log(1.8) + 0.4*math.Log(5)
	if got := PSI([]int{50, 50}, []int{90, 10}); math.Abs(got-want) > 1e-12 {
		t.Errorf("PSI = %v, want %v", got, want)
	}
	if got := PSI([]int{100, 0}, []int{0, 100}); math.IsInf(got, 0) || got < 10 {
		t.Errorf("PSI with empty bins = %v, want large and finite", got)
	}
	if got := PSI([]int{0, 0}, []int{1, 1}); got != 0 {
		t.Errorf("PSI without expected values = %v, want 0", got)
	}
}

// fixture returns a compiled schema and 200 rows: survived 0/1 half each,
// embarked S (60 %), C (30 %), Q (10 %), age 1..100 twice.
func fixture(t *testing.T) (*schema.Compiled, []schema.Row) {
	t.Helper()
	c, err := schema.Compile(schema.Schema{Target: "survived", Columns: []schema.Column{
		{Name: "survived", Type: schema.Category, Values: []string{"0", "1"}},
		{Name: "embarked", Type: schema.Category, Nullable: true},
		{Name: "age", Type: schema.Number, Nullable: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []schema.Row
	for i := range 200 {
		emb := "S"
		switch {
		case i%10 >= 9:
			emb = "Q"
		case i%10 >= 6:
			emb = "C"
		}
		rows = append(rows, schema.Row{{Num: float64(i % 2)}, {Str: emb}, {Num: float64(i%100 + 1)}})
	}
	return c, rows
}

func find(t *testing.T, r *Report, column, check string) Result {
	t.Helper()
	for _, c := range r.Checks {
		if c.Column == column && c.Check == check {
			return c
		}
	}
	t.Fatalf("no %s check of %q in %+v", check, column, r.Checks)
	return Result{}
}

func TestRunSameData(t *testing.T) {
	c, rows := fixture(t)
	rep := Run(&Params{Schema: c, Rows: rows, Baseline: schema.ComputeStats(c, rows), BaselineVersion: 1, LastRows: 200})
	// rows + 3 per column (missing rate and two level checks, or psi, or class balance) ...
	if len(rep.Checks) != 1+2+3+2 {
		t.Errorf("got %d checks, want 8: %+v", len(rep.Checks), rep.Checks)
	}
	for _, r := range rep.Checks {
		if !r.Passed || r.Severity != config.SeverityBlock {
			t.Errorf("%v: passed %v severity %s; want passed, block", r, r.Passed, r.Severity)
		}
	}
	if got := find(t, rep, "age", CheckPSI).Seen; got != "0" {
		t.Errorf("psi of the same data = %s, want 0", got)
	}
}

func TestRunBreakages(t *testing.T) {
	c, rows := fixture(t)
	base := schema.ComputeStats(c, rows)
	// A batch as large as the snapshot: embarked missing, age +50, and
	// only survivors: missing rate 0.5, class 1 at 0.75.
	next := append([]schema.Row(nil), rows...)
	for i := range 200 {
		next = append(next, schema.Row{{Num: 1}, {Missing: true}, {Num: float64(i%100 + 51)}})
	}
	rep := Run(&Params{Schema: c, Rows: next, Baseline: base, BaselineVersion: 3, LastRows: 100})
	for _, w := range []struct{ column, check, seen string }{
		{"embarked", CheckMissingRate, "0.5"},
		{"survived", CheckClassBalance, `"0" moved by 0.25`}, // the first of the two that moved as much
		{"age", CheckPSI, ""},
	} {
		r := find(t, rep, w.column, w.check)
		if r.Passed || (w.seen != "" && r.Seen != w.seen) {
			t.Errorf("%v: passed %v; want failed, seen %q", r, r.Passed, w.seen)
		}
	}
	if r := find(t, rep, "embarked", CheckMissingRate); r.Expected != "at most 0.2" || !strings.Contains(r.String(), "embarked missing_rate: expected at most 0.2, seen 0.5") {
		t.Errorf("String() = %q", r.String())
	}
	if r := find(t, rep, "", CheckRowCount); !r.Passed {
		t.Errorf("400 rows after 100: %v failed", r)
	}
	if n := len(rep.Failed(config.SeverityBlock)); n != 3 {
		t.Errorf("%d block failures, want 3: %+v", n, rep.Checks)
	}
}

func TestRunLevelsRowsAndSeverities(t *testing.T) {
	c, rows := fixture(t)
	base := schema.ComputeStats(c, rows)
	// Q (10 %) replaced by a new level X: Q gone, X new.
	next := make([]schema.Row, 0, len(rows)/2)
	for _, r := range rows[:100] {
		r = append(schema.Row(nil), r...)
		if r[1].Str == "Q" {
			r[1].Str = "X"
		}
		next = append(next, r)
	}
	checks := config.Checks{
		Levels:   config.Check{Severity: config.SeverityWarn},
		RowCount: config.Check{Severity: config.SeverityWarn},
		PSI:      config.Check{Severity: config.SeverityOff},
	}
	rep := Run(&Params{Schema: c, Rows: next, Baseline: base, LastRows: 200, Checks: checks})
	gone, newer, rc := find(t, rep, "embarked", CheckLevelGone), find(t, rep, "embarked", CheckNewLevel), find(t, rep, "", CheckRowCount)
	if gone.Passed || gone.Seen != `"Q" (was 0.1) gone` || newer.Passed || newer.Seen != `"X" new at 0.1` {
		t.Errorf("levels: %v / %v", gone, newer)
	}
	if rc.Passed || rc.Expected != "at least 200" || rc.Seen != "100" {
		t.Errorf("row count: %v", rc)
	}
	if n, w := len(rep.Failed(config.SeverityBlock)), len(rep.Failed(config.SeverityWarn)); n != 0 || w != 3 {
		t.Errorf("%d block and %d warn failures, want 0 and 3: %+v", n, w, rep.Checks)
	}
	for _, r := range rep.Checks {
		if r.Check == CheckPSI {
			t.Errorf("psi is off but reported: %v", r)
		}
	}
	// A threshold above the change lets it pass.
	checks.Levels.Threshold = new(0.2)
	if r := find(t, Run(&Params{Schema: c, Rows: next, Baseline: base, Checks: checks}), "embarked", CheckLevelGone); !r.Passed {
		t.Errorf("threshold 0.2: %v failed", r)
	}
}

func TestRunNoBaseline(t *testing.T) {
	c, rows := fixture(t)
	rep := Run(&Params{Schema: c, Rows: rows})
	if len(rep.Checks) != 0 {
		t.Errorf("without production and last run: %+v, want no checks", rep.Checks)
	}
}

// TestRunTimestampHasNoPSI: rows arriving later move a timestamp's
// distribution by nature; that must not block training.
func TestRunTimestampHasNoPSI(t *testing.T) {
	c, err := schema.Compile(schema.Schema{Target: "y", Columns: []schema.Column{
		{Name: "y", Type: schema.Number}, {Name: "at", Type: schema.Timestamp},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []schema.Row
	for i := range 100 {
		rows = append(rows, schema.Row{{Num: float64(i)}, {Num: float64(i * 3600)}})
	}
	base := schema.ComputeStats(c, rows)
	for i := 100; i < 300; i++ {
		rows = append(rows, schema.Row{{Num: float64(i % 100)}, {Num: float64(i * 3600)}})
	}
	rep := Run(&Params{Schema: c, Rows: rows, Baseline: base})
	for _, r := range rep.Checks {
		if r.Column == "at" && r.Check == CheckPSI {
			t.Errorf("a timestamp got a psi check: %v", r)
		}
	}
	if find(t, rep, "y", CheckPSI).Passed != true {
		t.Error("y's distribution is unchanged but its psi check failed")
	}
}
