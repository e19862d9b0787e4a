// Package features turns typed rows into the float64 feature vectors that
// algorithms read. An Encoder is fitted on training rows (medians, category
// levels, scaling), stored inside the model artifact, and applied unchanged at
// prediction time, so training and serving see the same numbers.
//
// A timestamp column becomes five numbers, in UTC: hour (0-23), weekday
// (0 = Sunday), month (1-12), day of year (1-366) and the Unix time in
// seconds. A category with unknown: other has an "other" slot: labels
// outside its values, and levels seen in fewer than OtherMinRows training
// rows, all encode there, so the slot is learned at training and a label
// first seen at prediction gets its (deterministic) value.
package features

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
)

// Encoder is a fitted feature encoding. It is immutable after Fit or
// Decode and safe for concurrent use.
type Encoder struct {
	// Kind is the encoding: ml.OneHot (linear models) or ml.Native (trees).
	Kind ml.Input `json:"kind"`
	// Columns encodes each feature column, in schema order.
	Columns []*Column `json:"columns"`
	// Target describes the target column.
	Target Target `json:"target"`
	// Mean and Scale standardise every output column (OneHot only):
	// x' = (x - Mean) / Scale.
	Mean  []float64 `json:"mean,omitempty"`
	Scale []float64 `json:"scale,omitempty"`

	width int
	names []ml.Feature
}

// Column is the fitted encoding of one schema column.
type Column struct {
	Name  string      `json:"name"`
	Index int         `json:"index"` // position in the schema's Row
	Type  schema.Type `json:"type"`
	// Median replaces a missing number, integer, boolean or timestamp
	// (OneHot).
	Median float64 `json:"median,omitempty"`
	// Indicator adds a 0/1 "was missing" column (OneHot, nullable columns).
	Indicator bool `json:"indicator,omitempty"`
	// Levels are the category labels, in code order.
	Levels []string `json:"levels,omitempty"`
	// MissingLevel adds a one-hot column for a missing category (OneHot,
	// nullable columns).
	MissingLevel bool `json:"missing_level,omitempty"`
	// Other marks a category with unknown: other: code len(Levels) is its
	// "other" level (a level of its own for trees too, not "missing").
	Other bool `json:"other,omitempty"`
	// Offset is the first output column of this column.
	Offset int `json:"offset"`
	// Rare lists the levels seen in fewer than Options.MinCategoryRows
	// training rows, and MissingAsCommon says a missing value was that
	// rare: both are encoded as level Common, the most frequent, so that
	// a handful of rows cannot give them a weight of their own.
	Rare            []string `json:"rare,omitempty"`
	MissingAsCommon bool     `json:"missing_as_common,omitempty"`
	Common          int      `json:"common,omitempty"`

	levelOf   map[string]int
	rareCode  []bool // by code, from Rare
	schemaIdx bool   // Levels equal the schema's Values: a Value's Num is its code
}

// Target describes how the target column maps to ml targets.
type Target struct {
	Name  string      `json:"name"`
	Index int         `json:"index"`
	Type  schema.Type `json:"type"`
	Task  ml.Task     `json:"task"`
	// Classes are the class labels in class-index order (classification).
	Classes []string `json:"classes,omitempty"`

	classOf map[string]int
}

// TaskOf returns the task a schema's target implies and, for
// classification with declared values, its classes.
func TaskOf(s schema.Schema) ml.Task {
	t := s.TargetIndex()
	if t < 0 {
		return ""
	}
	col := s.Columns[t]
	switch col.Type {
	case schema.Number, schema.Integer:
		return ml.Regression
	case schema.Boolean:
		return ml.Binary
	}
	if len(col.Values) > 0 && len(col.Values) <= 2 {
		return ml.Binary
	}
	if len(col.Values) > 2 {
		return ml.Multiclass
	}
	return "" // open category: decided by the data
}

// ErrTooFewClasses is returned when training rows hold fewer than two
// target classes.
var ErrTooFewClasses = errors.New("target has fewer than two classes in the training rows")

// Options tune Fit. The zero value is the plain encoding.
type Options struct {
	// MinCategoryRows: a category level, or a missing value of a nullable
	// column, seen in fewer training rows than this gets no weight of its
	// own. A rare level or missing category is encoded as the column's most
	// frequent level (Column.Rare, Column.MissingAsCommon), a rare missing
	// number as its median without the "was missing" column. 0 turns the
	// rule off.
	MinCategoryRows int
}

// Fit fits an encoder of the given kind on training rows.
func Fit(c *schema.Compiled, rows []schema.Row, kind ml.Input) (*Encoder, error) {
	return FitWith(c, rows, kind, Options{})
}

// FitWith is Fit with options.
func FitWith(c *schema.Compiled, rows []schema.Row, kind ml.Input, opts Options) (*Encoder, error) {
	if kind != ml.OneHot && kind != ml.Native {
		return nil, fmt.Errorf("fit encoder: unknown kind %q", kind)
	}
	if len(rows) == 0 {
		return nil, errors.New("fit encoder: no rows")
	}
	s := c.Schema()
	e := &Encoder{Kind: kind}
	tgt, err := fitTarget(c, rows)
	if err != nil {
		return nil, err
	}
	e.Target = tgt
	for _, i := range s.Features() {
		col := c.Column(i)
		ce := &Column{Name: col.Name, Index: i, Type: col.Type}
		switch col.Type {
		case schema.Category:
			ce.Levels, ce.schemaIdx = levels(col, rows, i)
			if col.Unknown == schema.UnknownOther {
				ce.Other = true
				if kept := frequentLevels(ce.Levels, rows, i); len(kept) < len(ce.Levels) {
					ce.Levels, ce.schemaIdx = kept, false
				}
			}
			ce.foldRare(col, rows, opts.MinCategoryRows)
			ce.MissingLevel = kind == ml.OneHot && col.Nullable && !ce.MissingAsCommon
		default:
			if kind == ml.OneHot {
				ce.Median = median(rows, i)
				ce.Indicator = col.Nullable && !rareMissing(rows, i, opts.MinCategoryRows)
			}
		}
		e.Columns = append(e.Columns, ce)
	}
	e.init()
	if kind == ml.OneHot {
		e.fitScaling(rows)
	}
	return e, nil
}

func fitTarget(c *schema.Compiled, rows []schema.Row) (Target, error) {
	s := c.Schema()
	ti := s.TargetIndex()
	col := c.Column(ti)
	t := Target{Name: col.Name, Index: ti, Type: col.Type, Task: TaskOf(s)}
	switch {
	case t.Task == ml.Regression:
		return t, nil
	case col.Type == schema.Boolean:
		t.Classes = []string{"false", "true"}
	case len(col.Values) > 0:
		t.Classes = slices.Clone(col.Values)
	default:
		t.Classes, _ = levels(col, rows, ti)
		switch {
		case len(t.Classes) < 2:
			return t, fmt.Errorf("fit encoder: %w (%q has %d)", ErrTooFewClasses, col.Name, len(t.Classes))
		case len(t.Classes) == 2:
			t.Task = ml.Binary
		default:
			t.Task = ml.Multiclass
		}
	}
	return t, nil
}

// levels returns a category's levels: the declared values, or the observed
// labels sorted (numerically when all are numbers).
func levels(col schema.Column, rows []schema.Row, i int) ([]string, bool) {
	if len(col.Values) > 0 {
		return slices.Clone(col.Values), true
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if !r[i].Missing {
			seen[r[i].Str] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	SortLabels(out)
	return out, false
}

// OtherMinRows is the fewest training rows a level of a category with
// unknown: other needs to keep a code of its own; rarer levels encode as
// "other", so that slot is learned from real rows.
const OtherMinRows = 5

// frequentLevels returns the levels seen in at least OtherMinRows rows, in
// their order.
func frequentLevels(levels []string, rows []schema.Row, i int) []string {
	count := make(map[string]int, len(levels))
	for _, r := range rows {
		if !r[i].Missing {
			count[r[i].Str]++
		}
	}
	kept := make([]string, 0, len(levels))
	for _, l := range levels {
		if count[l] >= OtherMinRows {
			kept = append(kept, l)
		}
	}
	return kept
}

// SortLabels sorts labels numerically when all parse as numbers, else as
// strings.
func SortLabels(labels []string) {
	nums := make(map[string]float64, len(labels))
	for _, l := range labels {
		f, err := strconv.ParseFloat(l, 64)
		if err != nil {
			slices.Sort(labels)
			return
		}
		nums[l] = f
	}
	slices.SortFunc(labels, func(a, b string) int { return cmp.Or(cmp.Compare(nums[a], nums[b]), cmp.Compare(a, b)) })
}

// median is numpy's median of the column's present values (0 when none).
func median(rows []schema.Row, i int) float64 {
	vals := make([]float64, 0, len(rows))
	for _, r := range rows {
		if !r[i].Missing {
			vals = append(vals, r[i].Num)
		}
	}
	if len(vals) == 0 {
		return 0
	}
	slices.Sort(vals)
	n := len(vals)
	if n%2 == 1 {
		return vals[n/2]
	}
	return (vals[n/2-1] + vals[n/2]) / 2
}

// init computes offsets, widths, names and lookup maps.
func (e *Encoder) init() {
	off := 0
	e.names = e.names[:0]
	for _, ce := range e.Columns {
		ce.Offset = off
		switch {
		case ce.Type == schema.Category && e.Kind == ml.OneHot:
			ce.initRare()
			ce.levelOf = make(map[string]int, len(ce.Levels))
			for j, l := range ce.Levels {
				ce.levelOf[l] = j
				e.names = append(e.names, ml.Feature{Name: ce.Name + "=" + l})
			}
			if ce.MissingLevel {
				e.names = append(e.names, ml.Feature{Name: ce.Name + "=(missing)"})
			}
			if ce.Other {
				e.names = append(e.names, ml.Feature{Name: ce.Name + "=(other)"})
			} else {
				e.names = append(e.names, ml.Feature{Name: ce.Name + "=(unseen)"})
			}
		case ce.Type == schema.Category:
			ce.initRare()
			ce.levelOf = make(map[string]int, len(ce.Levels))
			for j, l := range ce.Levels {
				ce.levelOf[l] = j
			}
			n := len(ce.Levels)
			if ce.Other {
				n++ // the other code is a level, not the missing bin
			}
			e.names = append(e.names, ml.Feature{Name: ce.Name, Categorical: true, Levels: n})
		case ce.Type == schema.Timestamp:
			for _, part := range timeParts {
				e.names = append(e.names, ml.Feature{Name: ce.Name + ":" + part})
			}
			if ce.Indicator {
				e.names = append(e.names, ml.Feature{Name: ce.Name + "=(missing)"})
			}
		default:
			e.names = append(e.names, ml.Feature{Name: ce.Name})
			if ce.Indicator {
				e.names = append(e.names, ml.Feature{Name: ce.Name + "=(missing)"})
			}
		}
		off = len(e.names)
	}
	e.width = off
	e.Target.classOf = make(map[string]int, len(e.Target.Classes))
	for j, c := range e.Target.Classes {
		e.Target.classOf[c] = j
	}
}

// fitScaling computes the mean and population standard deviation of every
// output column over the training rows.
func (e *Encoder) fitScaling(rows []schema.Row) {
	w := e.width
	sum := make([]float64, w)
	buf := make([]float64, w)
	for _, r := range rows {
		e.encodeRaw(r, buf)
		for j, v := range buf {
			sum[j] += v
		}
	}
	n := float64(len(rows))
	e.Mean = make([]float64, w)
	for j := range sum {
		e.Mean[j] = sum[j] / n
	}
	ss := make([]float64, w)
	for _, r := range rows {
		e.encodeRaw(r, buf)
		for j, v := range buf {
			d := v - e.Mean[j]
			ss[j] += d * d
		}
	}
	e.Scale = make([]float64, w)
	for j := range ss {
		sd := math.Sqrt(ss[j] / n)
		if sd == 0 || math.IsNaN(sd) {
			sd = 1
		}
		e.Scale[j] = sd
	}
}

// Width is the length of an encoded feature vector.
func (e *Encoder) Width() int { return e.width }

// Features describes the encoded columns.
func (e *Encoder) Features() []ml.Feature { return e.names }

// Task is the ml task of the target.
func (e *Encoder) Task() ml.Task { return e.Target.Task }

// Classes is the number of classes (1 for regression).
func (e *Encoder) Classes() int {
	if e.Target.Task == ml.Regression {
		return 1
	}
	return len(e.Target.Classes)
}

// Encode writes the feature vector of row into dst (len Width). It does not
// allocate.
func (e *Encoder) Encode(row schema.Row, dst []float64) {
	e.encodeRaw(row, dst)
	if e.Kind == ml.OneHot {
		for j := range dst[:e.width] {
			dst[j] = (dst[j] - e.Mean[j]) / e.Scale[j]
		}
	}
}

func (e *Encoder) encodeRaw(row schema.Row, dst []float64) {
	for _, ce := range e.Columns {
		v := row[ce.Index]
		o := ce.Offset
		if ce.Type == schema.Category {
			code := ce.code(v)
			missing := v.Missing
			if ce.rareCode != nil || ce.MissingAsCommon {
				code, missing = ce.fold(code, missing)
			}
			if e.Kind == ml.Native {
				switch {
				case missing:
					dst[o] = math.NaN()
				default:
					dst[o] = float64(code) // len(Levels) when unseen
				}
				continue
			}
			n := len(ce.Levels)
			width := n + 1
			if ce.MissingLevel {
				width++
			}
			clear(dst[o : o+width])
			switch {
			case missing && ce.MissingLevel:
				dst[o+n] = 1
			case missing:
				dst[o+width-1] = 1 // treated as unseen
			default:
				if code == n && ce.MissingLevel {
					code++ // unseen bucket sits after the missing level
				}
				dst[o+code] = 1
			}
			continue
		}
		if ce.Type == schema.Timestamp {
			switch {
			case !v.Missing:
				timeFeatures(v.Num, dst[o:o+len(timeParts)])
			case e.Kind == ml.Native:
				for j := range timeParts {
					dst[o+j] = math.NaN()
				}
			default:
				timeFeatures(ce.Median, dst[o:o+len(timeParts)])
			}
			if ce.Indicator {
				dst[o+len(timeParts)] = 0
				if v.Missing {
					dst[o+len(timeParts)] = 1
				}
			}
			continue
		}
		if e.Kind == ml.Native {
			if v.Missing {
				dst[o] = math.NaN()
			} else {
				dst[o] = v.Num
			}
			continue
		}
		if v.Missing {
			dst[o] = ce.Median
		} else {
			dst[o] = v.Num
		}
		if ce.Indicator {
			if v.Missing {
				dst[o+1] = 1
			} else {
				dst[o+1] = 0
			}
		}
	}
}

// code returns the level index of a present category value, or
// len(Levels) when the label was not seen in training.
func (ce *Column) code(v schema.Value) int {
	if ce.schemaIdx && v.Num >= 0 && int(v.Num) < len(ce.Levels) && ce.Levels[int(v.Num)] == v.Str {
		return int(v.Num)
	}
	if j, ok := ce.levelOf[v.Str]; ok {
		return j
	}
	return len(ce.Levels)
}

// TargetOf returns the ml target of a row: the class index, or the value.
// ok is false for a class label the encoder does not know.
func (e *Encoder) TargetOf(row schema.Row) (y float64, ok bool) {
	v := row[e.Target.Index]
	if v.Missing {
		return 0, false
	}
	if e.Target.Task == ml.Regression {
		return v.Num, true
	}
	if e.Target.Type == schema.Boolean {
		return v.Num, true
	}
	j, ok := e.Target.classOf[v.Str]
	return float64(j), ok
}

// Dataset encodes rows into an ml.Dataset. Rows whose target class is unknown
// to the encoder are skipped; the count of skipped rows is returned.
func (e *Encoder) Dataset(rows []schema.Row) (*ml.Dataset, int) {
	d := &ml.Dataset{
		X:        ml.NewMatrix(len(rows), e.width),
		Y:        make([]float64, 0, len(rows)),
		Features: e.names,
		Task:     e.Target.Task,
		Classes:  e.Classes(),
	}
	n := 0
	for _, r := range rows {
		y, ok := e.TargetOf(r)
		if !ok {
			continue
		}
		e.Encode(r, d.X.Row(n))
		d.Y = append(d.Y, y)
		n++
	}
	d.X.Rows = n
	d.X.Data = d.X.Data[:n*e.width]
	return d, len(rows) - n
}

// Validate checks a decoded encoder and prepares its lookup tables.
func (e *Encoder) Validate(s schema.Schema) error {
	if e.Kind != ml.OneHot && e.Kind != ml.Native {
		return fmt.Errorf("encoder kind %q is unknown", e.Kind)
	}
	for _, ce := range e.Columns {
		if ce.Index < 0 || ce.Index >= len(s.Columns) || s.Columns[ce.Index].Name != ce.Name {
			return fmt.Errorf("encoder column %q does not match the schema", ce.Name)
		}
		if ce.Type == schema.Category {
			ce.schemaIdx = slices.Equal(ce.Levels, s.Columns[ce.Index].Values)
		}
	}
	if e.Target.Index < 0 || e.Target.Index >= len(s.Columns) || s.Columns[e.Target.Index].Name != e.Target.Name {
		return fmt.Errorf("encoder target %q does not match the schema", e.Target.Name)
	}
	e.init()
	if e.Kind == ml.OneHot && (len(e.Mean) != e.width || len(e.Scale) != e.width) {
		return fmt.Errorf("encoder scaling has %d/%d values for %d columns", len(e.Mean), len(e.Scale), e.width)
	}
	return nil
}
