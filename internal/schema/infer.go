package schema

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Inference defaults and thresholds. They are documented on Infer.
const (
	DefaultMaxCategories = 50 // most labels a category column lists
	DefaultMaxClasses    = 10 // most whole-number values of a class-label target

	identifierRatio   = 0.9 // distinct / non-missing at or above this: identifier or free text
	identifierMinRows = 20  // fewer non-missing values prove nothing about uniqueness
	maxExactInteger   = 1 << 53

	// SmallSample is the fewest rows Infer trusts: below it the report
	// warns that types, labels and ranges are guesses.
	SmallSample = 30
)

// Bounds says which min and max Infer writes on number and integer
// columns, the target included.
type Bounds string

// Bounds policies.
const (
	// BoundsNone writes no bounds: tomorrow's data may lie beyond today's
	// (the default).
	BoundsNone Bounds = "none"
	// BoundsPhysical writes min: 0 on a column never negative, nothing else.
	BoundsPhysical Bounds = "physical"
	// BoundsObserved writes the observed extremes as min and max.
	BoundsObserved Bounds = "observed"
)

// ParseBounds reads a Bounds policy by name ("" is BoundsNone).
func ParseBounds(s string) (Bounds, error) {
	switch b := Bounds(s); b {
	case "":
		return BoundsNone, nil
	case BoundsNone, BoundsPhysical, BoundsObserved:
		return b, nil
	}
	return "", fmt.Errorf("bounds %q is unknown; use none, physical or observed", s)
}

// InferOptions tunes Infer. Zero values mean the defaults.
type InferOptions struct {
	// Target is the column to predict. Required.
	Target string
	// MaxCategories is the most distinct labels a category column lists in
	// Values; a column with more is an open category. Default 50.
	MaxCategories int
	// MaxClasses is the most distinct whole-number values an integer target
	// may have to be read as class labels (a category). Default 10.
	MaxClasses int
	// Bounds picks the min and max written on number and integer columns.
	// Default BoundsNone.
	Bounds Bounds
}

// InferReport explains the decisions of Infer, column by column.
type InferReport struct {
	// Rows is the number of records used.
	Rows int `json:"rows"`
	// Skipped is the number of records not used because their number of
	// fields differs from the header's.
	Skipped int `json:"skipped"`
	// Columns are in header order.
	Columns []ColumnReport `json:"columns"`
	// Warnings are about the whole file (a sample too small to trust).
	Warnings []string `json:"warnings,omitempty"`
}

// ColumnReport is what Infer saw in one column and why it chose its type.
type ColumnReport struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Ignore is true when the column is inferred useless to a model.
	Ignore bool `json:"ignore,omitempty"`
	// Missing counts the values that spell "no value" (see IsMissingText).
	Missing int `json:"missing"`
	// Distinct counts the distinct non-missing values as written (after
	// trimming spaces). Past 65,536 it is an estimate (±1% or so) and
	// DistinctEstimated is true.
	Distinct          int  `json:"distinct"`
	DistinctEstimated bool `json:"distinct_estimated,omitempty"`
	// Min and Max are the observed extremes of a number, integer or
	// timestamp column (Unix seconds), whatever bounds the schema got.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Constant flags a column with at most one distinct value: it cannot
	// help a model. It is a warning only; the column is kept.
	Constant bool `json:"constant,omitempty"`
	// Reason says why the column got its type (and ignore flag).
	Reason string `json:"reason"`
	// Notes are further warnings for the user.
	Notes []string `json:"notes,omitempty"`
}

// Seen describes what the column held, for a comment beside the schema:
// its observed range, missing rate and distinct values, out of rows.
func (c ColumnReport) Seen(rows int) string {
	var parts []string
	if c.Min != nil && c.Max != nil {
		if c.Type == Timestamp {
			parts = append(parts, "seen "+FormatTimestamp(*c.Min)+" to "+FormatTimestamp(*c.Max))
		} else {
			parts = append(parts, "seen "+fmtNum(*c.Min)+" to "+fmtNum(*c.Max))
		}
	}
	if rows > 0 {
		parts = append(parts, fmt.Sprintf("%.3g%% missing", 100*float64(c.Missing)/float64(rows)))
	}
	d := strconv.Itoa(c.Distinct)
	if c.DistinctEstimated {
		d = "about " + d
	}
	return strings.Join(append(parts, d+" distinct"), ", ")
}

// Infer proposes a Schema for a table from its header and all of its
// records; records yields each record's fields (the slice and its strings
// may be reused between calls). Records whose width differs from the
// header's are skipped and counted. The result is a starting point for the
// user to edit, and the same input always gives the same result.
//
// Each value is trimmed; a value that IsMissingText is missing, and a column
// with any missing value is nullable (the target never is: rows without a
// target are rejected at ingest, and a note says how many there were). The
// type of a column follows from its non-missing values:
//
//   - boolean when every value is one of true, false, yes, no, t, f (any
//     case), 1 or 0, with at least one word (0 and 1 alone are integers);
//   - integer when every value is a whole number of at most 2^53 in
//     magnitude written without a decimal point or exponent ("22.0" is a
//     number: a float column that happens to hold whole values today);
//   - number when every value is a finite number;
//   - timestamp when every value is an ISO 8601 date or date-time (see
//     ParseTimestamp), except for the target;
//   - category otherwise, and when there is no value at all.
//
// Digit strings that are not plain numbers are labels, so category: whole
// numbers written with a leading zero ("007", zip and product codes) and
// ones too large to be exact in a float64 (long identifiers).
//
// A target of whole numbers (1 and 1.0 alike) with at most MaxClasses
// distinct values is a category: the values are class labels (survived 0/1
// means classification), listed as their integer text. Integer features stay integers, because their
// order and magnitude are information a model can use (a class 1/2/3 or a
// count of siblings alike); declare a code column as category by hand.
//
// Number and integer columns get no Min or Max by default, so that data
// beyond today's sample is accepted; Bounds asks for min: 0 on columns
// never negative (BoundsPhysical) or for the observed extremes
// (BoundsObserved). The report keeps the observed range either way. A
// category lists its distinct labels in Values when there are at most
// MaxCategories of them (sorted, numeric labels numerically first);
// spellings that differ only in case are one label, written as the most
// frequent spelling. A feature category with Values gets Unknown
// UnknownOther: a label first seen tomorrow is accepted and encoded as
// "other" rather than refused. A category with more labels is open (no
// Values). Fewer than SmallSample rows add a warning to the report.
//
// A feature column is ignored (Ignore, with the reason in the report) when
// it cannot help a model: a category whose distinct values are at least 90%
// of its non-missing values, given at least 20 of them (an identifier or
// free text), or an integer column without missing values that rises by
// exactly 1 from each row to the next, over at least 20 rows (a row
// counter). The target is never ignored. Columns with at most one distinct
// value are flagged Constant in the report but kept.
//
// Infer fails when the target is not set or not in the header, when header
// names are invalid or repeated, when there are no records, or when the
// target has no value at all. When the proposed schema does not Compile
// (say every feature is ignored), Infer returns it and its report with an
// error wrapping ErrInvalid.
func Infer(header []string, records iter.Seq[[]string], opts InferOptions) (Schema, *InferReport, error) {
	opts.MaxCategories = cmp.Or(opts.MaxCategories, DefaultMaxCategories)
	opts.MaxClasses = cmp.Or(opts.MaxClasses, DefaultMaxClasses)
	bounds, err := ParseBounds(string(opts.Bounds))
	if err != nil {
		return Schema{}, nil, fmt.Errorf("infer schema: %w", err)
	}
	opts.Bounds = bounds
	if opts.Target == "" {
		return Schema{}, nil, errors.New("infer schema: no target; name the column to predict")
	}
	names := make([]string, len(header))
	seen := make(map[string]bool, len(header))
	target := -1
	for i, h := range header {
		n := strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if msg := CheckName(n); msg != "" {
			return Schema{}, nil, fmt.Errorf("infer schema: column %d: %s; rename it in the header", i+1, msg)
		}
		if seen[n] {
			return Schema{}, nil, fmt.Errorf("infer schema: column %q appears twice in the header", n)
		}
		seen[n] = true
		names[i] = n
		if n == opts.Target {
			target = i
		}
	}
	if target < 0 {
		return Schema{}, nil, fmt.Errorf("infer schema: target %q is not a column (columns: %s)", opts.Target, strings.Join(names, ", "))
	}

	rep := &InferReport{}
	accs := make([]columnAcc, len(names))
	for i := range accs {
		accs[i] = newColumnAcc(max(opts.MaxCategories, opts.MaxClasses))
	}
	for fields := range records {
		if len(fields) != len(names) {
			rep.Skipped++
			continue
		}
		for i, f := range fields {
			accs[i].add(strings.TrimSpace(f))
		}
		rep.Rows++
	}
	if rep.Rows == 0 {
		return Schema{}, nil, errors.New("infer schema: no data rows to infer from")
	}
	if accs[target].n == 0 {
		return Schema{}, nil, fmt.Errorf("infer schema: target %q has no values", opts.Target)
	}
	if rep.Rows < SmallSample {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("only %d rows: types, labels and ranges are guesses from a small sample; check each column", rep.Rows))
	}

	s := Schema{Target: names[target], Columns: make([]Column, len(names))}
	rep.Columns = make([]ColumnReport, len(names))
	for i := range accs {
		s.Columns[i], rep.Columns[i] = accs[i].decide(names[i], i == target, opts)
	}
	if _, err := Compile(s); err != nil {
		return s, rep, fmt.Errorf("infer schema: the proposed schema is not usable: %w", err)
	}
	return s, rep, nil
}

// columnAcc accumulates what Infer needs to know about one column.
type columnAcc struct {
	n, missing int

	isBool, isInt, isNum, isTime bool // still possible types
	whole                        bool // every number is whole (1 or 1.0)
	boolWord                     bool // saw a word (not 0/1) of a boolean
	leadingZero                  bool // saw a whole number written with a leading 0
	min, max                     float64

	counter bool  // every row so far is the previous plus 1
	prev    int64 // last value, for counter

	maxExact int
	exact    map[string]int // value -> count, nil past maxExact distinct values
	distinct distinctCounter
}

func newColumnAcc(maxExact int) columnAcc {
	return columnAcc{
		isBool: true, isInt: true, isNum: true, isTime: true, whole: true, counter: true,
		min: math.Inf(1), max: math.Inf(-1),
		maxExact: maxExact,
		exact:    make(map[string]int),
	}
}

func (a *columnAcc) add(s string) {
	if IsMissingText(s) {
		a.missing++
		a.counter = false
		return
	}
	a.n++
	if a.exact != nil {
		if _, ok := a.exact[s]; ok {
			a.exact[s]++
		} else if len(a.exact) < a.maxExact {
			a.exact[strings.Clone(s)] = 1
		} else {
			a.exact = nil
		}
	}
	a.distinct.add(s)

	if a.isBool {
		switch boolText(s) {
		case boolNot:
			a.isBool = false
		case boolWordValue:
			a.boolWord = true
		}
	}
	if a.isNum {
		f, intText, lz, ok := parseNumber(s)
		whole := ok && f == math.Trunc(f) && math.Abs(f) <= maxExactInteger
		switch {
		case !ok:
			a.isNum, a.isInt, a.whole, a.counter = false, false, false, false
		case !intText:
			a.isInt, a.counter = false, false
		}
		a.whole = a.whole && whole
		if ok {
			a.leadingZero = a.leadingZero || lz
			a.min = min(a.min, f)
			a.max = max(a.max, f)
			if a.counter {
				if v := int64(f); a.n > 1 && v != a.prev+1 {
					a.counter = false
				} else {
					a.prev = v
				}
			}
		}
	}
	if a.isTime {
		// Numbers are not timestamps, so a.min and a.max are free here.
		if sec, ok := ParseTimestamp(s); ok {
			a.min = min(a.min, sec)
			a.max = max(a.max, sec)
		} else {
			a.isTime = false
		}
	}
}

const (
	boolNot = iota
	boolWordValue
	boolDigit
)

// boolText classifies a value as a boolean word, a 0/1 digit or neither.
func boolText(s string) int {
	switch len(s) {
	case 1:
		switch s[0] {
		case 't', 'T', 'f', 'F':
			return boolWordValue
		case '0', '1':
			return boolDigit
		}
	case 2, 3, 4, 5:
		for _, w := range [...]string{"true", "false", "yes", "no"} {
			if strings.EqualFold(s, w) {
				return boolWordValue
			}
		}
	}
	return boolNot
}

// parseNumber reads s as Coerce reads number and integer values: f is its
// value, intText reports an integer of at most 2^53 in magnitude written
// as digits alone (no decimal point, no exponent), lz a whole number
// written with a leading zero. A plain digit string too large to be exact
// is no number (ok false): it is an identifier.
func parseNumber(s string) (f float64, intText, lz, ok bool) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) <= 1 && digits != "" && strings.Trim(digits, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxExactInteger || n < -maxExactInteger {
			return 0, false, false, false
		}
		return float64(n), true, len(digits) > 1 && digits[0] == '0', true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, false, false
	}
	return f, false, false, true
}

// decide turns the accumulated facts into a column and its report.
func (a *columnAcc) decide(name string, isTarget bool, opts InferOptions) (Column, ColumnReport) {
	col := Column{Name: name, Nullable: a.missing > 0}
	rep := ColumnReport{Name: name, Missing: a.missing}
	rep.Distinct, rep.DistinctEstimated = a.distinct.count()
	rep.Constant = rep.Distinct <= 1
	rows := a.n + a.missing

	switch {
	case a.n == 0:
		col.Type = Category
		rep.Reason = "no values: every value is missing"
	case a.isBool && a.boolWord:
		col.Type = Boolean
		rep.Reason = "every value is true/false, yes/no, t/f or 1/0"
	case a.isInt && a.leadingZero:
		col.Type = Category
		rep.Reason = "whole numbers written with leading zeros: codes, not quantities"
	case a.isNum && a.whole && isTarget && a.exact != nil && len(intLabels(a.exact)) <= opts.MaxClasses:
		col.Type = Category
		col.Values = intLabels(a.exact)
		rep.Reason = fmt.Sprintf("target with %d whole-number values: class labels (classification)", len(col.Values))
	case a.isInt:
		col.Type = Integer
		col.Min, col.Max = a.bounds(opts.Bounds)
		rep.Min, rep.Max = ptr(a.min), ptr(a.max)
		rep.Reason = "every value is a whole number"
		if !isTarget && a.counter && a.n >= identifierMinRows {
			col.Ignore = true
			rep.Reason = fmt.Sprintf("row counter: rises by exactly 1 on every row (%s to %s)", fmtNum(a.min), fmtNum(a.max))
		}
	case a.isNum:
		col.Type = Number
		col.Min, col.Max = a.bounds(opts.Bounds)
		rep.Min, rep.Max = ptr(a.min), ptr(a.max)
		rep.Reason = "every value is a number"
		if a.whole {
			rep.Reason = "every value is a number (whole today, but written with a decimal point)"
		}
	case a.isTime && !isTarget:
		col.Type = Timestamp
		rep.Min, rep.Max = ptr(a.min), ptr(a.max)
		rep.Reason = "every value is an ISO 8601 date or date-time"
	default:
		col.Type = Category
		rep.Reason = "values are text"
		if a.seenNumberAndText() {
			rep.Reason = "values mix numbers and text"
		}
	}

	if col.Type == Category && col.Values == nil && a.n > 0 {
		if !isTarget && a.n >= identifierMinRows && float64(rep.Distinct) >= identifierRatio*float64(a.n) {
			col.Ignore = true
			rep.Reason = fmt.Sprintf("identifier or free text: %d distinct values in %d non-missing values", rep.Distinct, a.n)
		} else if labels, merged := categoryLabels(a.exact); a.exact != nil && len(labels) <= opts.MaxCategories {
			col.Values = labels
			if !isTarget {
				col.Unknown = UnknownOther
			}
			if len(merged) > 0 {
				rep.Notes = append(rep.Notes, "spellings differing only in case read as one label: "+strings.Join(merged, ", "))
			}
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("more than %d distinct labels: an open category (any label accepted)", opts.MaxCategories))
		}
	}
	if col.Ignore { // an ignored column is neither checked nor stored
		col = Column{Name: name, Type: col.Type, Ignore: true}
	}
	if isTarget {
		col.Nullable = false
		if a.missing > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d of %d rows have no target value; they will be rejected", a.missing, rows))
		}
		if col.Type == Category && col.Values == nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("target has more than %d labels: if it is a quantity, make it a number", opts.MaxCategories))
		}
	}
	if rep.Constant {
		rep.Notes = append(rep.Notes, "at most one distinct value: this column cannot help a model")
	}
	rep.Type = col.Type
	rep.Ignore = col.Ignore
	return col, rep
}

// bounds returns the Min and Max a number or integer column gets under b.
func (a *columnAcc) bounds(b Bounds) (lo, hi *float64) {
	switch b {
	case BoundsObserved:
		return ptr(a.min), ptr(a.max)
	case BoundsPhysical:
		if a.min >= 0 {
			return ptr(0), nil
		}
	}
	return nil, nil
}

// seenNumberAndText reports whether a text column also holds numbers, from
// the values it could list (a hint for the report only).
func (a *columnAcc) seenNumberAndText() bool {
	for v := range a.exact {
		if _, _, _, ok := parseNumber(v); ok {
			return true
		}
	}
	return false
}

// intLabels returns the distinct whole numbers among the keys of exact as
// integer text ("1.0" is "1"), in numeric order.
func intLabels(exact map[string]int) []string {
	set := make(map[int64]bool, len(exact))
	for v := range exact {
		f, _, _, _ := parseNumber(v)
		set[int64(f)] = true
	}
	nums := make([]int64, 0, len(set))
	for n := range set {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// categoryLabels returns the labels of a category, spellings that differ
// only in case merged into the most frequent one (the smallest on a tie),
// sorted by compareLabels; merged lists the spellings merged away.
func categoryLabels(exact map[string]int) (labels, merged []string) {
	type group struct {
		best  string
		count int
		all   []string
	}
	groups := make(map[string]*group, len(exact))
	for v, n := range exact {
		k := strings.ToLower(v)
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
		}
		g.all = append(g.all, v)
		if bestN := exact[g.best]; g.best == "" || n > bestN || (n == bestN && v < g.best) {
			g.best = v
		}
		g.count += n
	}
	for _, g := range groups {
		labels = append(labels, g.best)
		for _, v := range g.all {
			if v != g.best {
				merged = append(merged, v)
			}
		}
	}
	slices.SortFunc(labels, compareLabels)
	slices.Sort(merged)
	return labels, merged
}

// compareLabels orders numeric labels numerically, before text labels in
// byte order.
func compareLabels(a, b string) int {
	fa, erra := strconv.ParseFloat(a, 64)
	fb, errb := strconv.ParseFloat(b, 64)
	switch {
	case erra == nil && errb == nil:
		if c := cmp.Compare(fa, fb); c != 0 {
			return c
		}
	case erra == nil:
		return -1
	case errb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func ptr(f float64) *float64 { return &f }
