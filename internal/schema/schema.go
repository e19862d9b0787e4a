// Package schema describes a pipeline's columns and turns raw input values
// (CSV fields, JSON values, query parameters) into typed rows, rejecting each
// bad value with a message that names the column and the rule it broke.
//
// It is a leaf package: it imports nothing else of mlserve.
package schema

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type is the type of a column.
type Type string

// Column types.
const (
	Number   Type = "number"   // float64
	Integer  Type = "integer"  // whole numbers, stored as int64
	Category Type = "category" // string or integer labels
	Boolean  Type = "boolean"  // true / false
	// Timestamp is an ISO 8601 date or date-time, held as Unix seconds
	// (to the millisecond) in UTC; see ParseTimestamp.
	Timestamp Type = "timestamp"
)

// typeList names every type, for messages.
const typeList = "number, integer, category, boolean, timestamp"

// Unknown policies of a category column with declared values: what a label
// outside Values does.
const (
	// UnknownReject refuses the value (the default).
	UnknownReject = "reject"
	// UnknownOther accepts it as "other": the label is kept as written
	// and models encode every such label in one "other" slot.
	UnknownOther = "other"
)

// Column declares one column of a pipeline's data.
type Column struct {
	// Name is the column's name as it appears in CSV headers, JSON keys and
	// query parameters.
	Name string `yaml:"name" json:"name"`
	// Type is one of number, integer, category, boolean, timestamp.
	Type Type `yaml:"type" json:"type"`
	// Values lists the allowed labels of a category column. Empty means any
	// non-empty label is accepted (an open category).
	Values []string `yaml:"values,omitempty,flow" json:"values,omitempty"`
	// Aliases maps other spellings (matched case-insensitively) onto Values.
	Aliases map[string]string `yaml:"aliases,omitempty,flow" json:"aliases,omitempty"`
	// Unknown says what a label outside Values does: UnknownReject ("" is
	// the same) or UnknownOther. Category feature columns with Values only.
	Unknown string `yaml:"unknown,omitempty" json:"unknown,omitempty"`
	// Min and Max bound number and integer columns (inclusive).
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	// Nullable accepts a missing value ("", NA, null, JSON null, absent).
	Nullable bool `yaml:"nullable,omitempty" json:"nullable,omitempty"`
	// Ignore marks a column that is accepted on input but neither stored nor
	// used by models (an identifier, free text).
	Ignore bool `yaml:"ignore,omitempty" json:"ignore,omitempty"`
}

// Schema is the declared shape of a pipeline's rows.
type Schema struct {
	// Target is the column a model predicts.
	Target string `yaml:"target" json:"target"`
	// Columns in their canonical order (the order of a typed Row).
	Columns []Column `yaml:"columns" json:"columns"`
	// UnknownColumns is what a CSV header naming a column the schema
	// lacks gets: UnknownIgnore (the default, "") drops the column and
	// lists it in the answer, UnknownReject refuses the whole file.
	UnknownColumns string `yaml:"unknown_columns,omitempty" json:"unknown_columns,omitempty"`
}

// UnknownIgnore is Schema.UnknownColumns' default; UnknownReject (the
// same word as a category's policy) is its other value.
const UnknownIgnore = "ignore"

// Value is one typed cell of a Row.
type Value struct {
	// Num holds number and integer values, 1/0 for booleans, Unix seconds
	// for timestamps, and for a category with declared Values the index of
	// the label in Values (-1 for an "other" label).
	Num float64
	// Str holds the canonical label of a category value.
	Str string
	// Missing is true when the value is absent (only for nullable columns).
	Missing bool
}

// Row is one typed row: a Value per schema column, in schema order. Ignored
// columns are always Missing.
type Row []Value

// MaxNameLen is the longest column name, in bytes.
const MaxNameLen = 128

// CheckName reports what is wrong with a column name, or "": a name is 1
// to MaxNameLen bytes of printable UTF-8 text (spaces, punctuation and any
// script allowed) without leading or trailing spaces. Names never reach
// SQL: the stores derive their own identifiers.
func CheckName(n string) string {
	switch {
	case n == "":
		return "name is empty"
	case len(n) > MaxNameLen:
		return fmt.Sprintf("name %q is longer than %d bytes", n, MaxNameLen)
	case !utf8.ValidString(n):
		return fmt.Sprintf("name %q is not valid UTF-8", n)
	case strings.TrimSpace(n) != n:
		return fmt.Sprintf("name %q has leading or trailing spaces", n)
	}
	for _, r := range n {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("name %q holds the unprintable character %U; use printable text", n, r)
		}
	}
	return ""
}

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("invalid schema")

// Validate checks the schema's declarations: names, types, value lists,
// aliases, ranges and the target column.
func (s Schema) Validate() error {
	_, err := Compile(s)
	return err
}

// Index returns the position of the named column, or -1.
func (s Schema) Index(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// TargetIndex returns the position of the target column, or -1.
func (s Schema) TargetIndex() int { return s.Index(s.Target) }

// Stored reports the columns that are stored (not ignored), in order.
func (s Schema) Stored() []int {
	var out []int
	for i, c := range s.Columns {
		if !c.Ignore {
			out = append(out, i)
		}
	}
	return out
}

// Features returns the positions of the columns a model reads: stored
// columns other than the target.
func (s Schema) Features() []int {
	var out []int
	t := s.TargetIndex()
	for i, c := range s.Columns {
		if !c.Ignore && i != t {
			out = append(out, i)
		}
	}
	return out
}

// Compiled is a validated schema with the lookup tables that coercion needs.
// It is immutable and safe for concurrent use.
type Compiled struct {
	schema Schema
	byName map[string]int
	cols   []compiledColumn
}

type compiledColumn struct {
	Column
	labels map[string]int // lower-cased spelling (value or alias) -> index in Values
	rule   string         // human description of the accepted values
}

// Compile validates s and prepares it for coercion.
func Compile(s Schema) (*Compiled, error) {
	if len(s.Columns) == 0 {
		return nil, fmt.Errorf("%w: no columns", ErrInvalid)
	}
	c := &Compiled{schema: s, byName: make(map[string]int, len(s.Columns))}
	for i, col := range s.Columns {
		if msg := CheckName(col.Name); msg != "" {
			return nil, fmt.Errorf("%w: column %d: %s", ErrInvalid, i+1, msg)
		}
		if _, dup := c.byName[col.Name]; dup {
			return nil, fmt.Errorf("%w: column %q is declared twice", ErrInvalid, col.Name)
		}
		c.byName[col.Name] = i
		cc, err := compileColumn(col)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q: %w", ErrInvalid, col.Name, err)
		}
		c.cols = append(c.cols, cc)
	}
	if u := s.UnknownColumns; u != "" && u != UnknownIgnore && u != UnknownReject {
		return nil, fmt.Errorf("%w: unknown_columns %q: want %s (the default) or %s", ErrInvalid, u, UnknownIgnore, UnknownReject)
	}
	if s.Target == "" {
		return nil, fmt.Errorf("%w: target is empty; set it to the column to predict", ErrInvalid)
	}
	t, ok := c.byName[s.Target]
	if !ok {
		return nil, fmt.Errorf("%w: target %q is not one of the columns", ErrInvalid, s.Target)
	}
	if s.Columns[t].Ignore {
		return nil, fmt.Errorf("%w: target %q is marked ignore", ErrInvalid, s.Target)
	}
	if s.Columns[t].Nullable {
		return nil, fmt.Errorf("%w: target %q must not be nullable (a row without a target cannot train a model)", ErrInvalid, s.Target)
	}
	if s.Columns[t].Type == Timestamp {
		return nil, fmt.Errorf("%w: target %q is a timestamp; a model predicts a number, integer, category or boolean", ErrInvalid, s.Target)
	}
	if s.Columns[t].Unknown == UnknownOther {
		return nil, fmt.Errorf("%w: target %q has unknown: other; a target's classes must be known, so only features take it", ErrInvalid, s.Target)
	}
	if len(s.Features()) == 0 {
		return nil, fmt.Errorf("%w: no feature columns besides the target %q", ErrInvalid, s.Target)
	}
	return c, nil
}

func compileColumn(col Column) (compiledColumn, error) {
	cc := compiledColumn{Column: col}
	switch col.Unknown {
	case "", UnknownReject:
	case UnknownOther:
		if col.Type != Category || len(col.Values) == 0 {
			return cc, fmt.Errorf("unknown: other applies to category columns with values only")
		}
	default:
		return cc, fmt.Errorf("unknown %q is not a policy; use reject or other", col.Unknown)
	}
	switch col.Type {
	case Number, Integer:
		if len(col.Values) > 0 || len(col.Aliases) > 0 {
			return cc, fmt.Errorf("values and aliases apply to category columns only")
		}
		if col.Min != nil && col.Max != nil && *col.Min > *col.Max {
			return cc, fmt.Errorf("min %v is greater than max %v", *col.Min, *col.Max)
		}
		for _, b := range []*float64{col.Min, col.Max} {
			if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
				return cc, fmt.Errorf("min and max must be finite numbers")
			}
		}
		cc.rule = numberRule(col)
	case Category:
		if col.Min != nil || col.Max != nil {
			return cc, fmt.Errorf("min and max apply to number and integer columns only")
		}
		cc.labels = make(map[string]int, len(col.Values)+len(col.Aliases))
		for i, v := range col.Values {
			if strings.TrimSpace(v) != v || v == "" {
				return cc, fmt.Errorf("value %q must be non-empty without leading or trailing spaces", v)
			}
			k := strings.ToLower(v)
			if j, dup := cc.labels[k]; dup {
				return cc, fmt.Errorf("values %q and %q are the same ignoring case", col.Values[j], v)
			}
			cc.labels[k] = i
		}
		if len(col.Aliases) > 0 && len(col.Values) == 0 {
			return cc, fmt.Errorf("aliases need a values list to map onto")
		}
		for a, v := range col.Aliases {
			i := slices.Index(col.Values, v)
			if i < 0 {
				return cc, fmt.Errorf("alias %q maps to %q, which is not in values %v", a, v, col.Values)
			}
			k := strings.ToLower(strings.TrimSpace(a))
			if j, dup := cc.labels[k]; dup && j != i {
				return cc, fmt.Errorf("alias %q clashes with value %q", a, col.Values[j])
			}
			cc.labels[k] = i
		}
		cc.rule = categoryRule(col.Values)
		if col.Unknown == UnknownOther {
			cc.rule = "must be a non-empty label (" + strings.TrimPrefix(cc.rule, "must be ") + ", or any other label as other)"
		}
	case Timestamp:
		if len(col.Values) > 0 || len(col.Aliases) > 0 || col.Min != nil || col.Max != nil {
			return cc, fmt.Errorf("timestamp columns take no values, aliases, min or max")
		}
		cc.rule = "must be an ISO 8601 date or date-time (2024-03-01, 2024-03-01T13:45:00Z)"
	case Boolean:
		if len(col.Values) > 0 || len(col.Aliases) > 0 || col.Min != nil || col.Max != nil {
			return cc, fmt.Errorf("boolean columns take no values, aliases, min or max")
		}
		cc.rule = "must be true or false (1/0 and yes/no are accepted too)"
	case "":
		return cc, fmt.Errorf("type is missing; use one of %s", typeList)
	default:
		return cc, fmt.Errorf("type %q is unknown; use one of %s", col.Type, typeList)
	}
	return cc, nil
}

func numberRule(col Column) string {
	kind := "a number"
	if col.Type == Integer {
		kind = "an integer"
	}
	switch {
	case col.Min != nil && col.Max != nil:
		return fmt.Sprintf("must be %s between %s and %s", kind, fmtNum(*col.Min), fmtNum(*col.Max))
	case col.Min != nil:
		return fmt.Sprintf("must be %s >= %s", kind, fmtNum(*col.Min))
	case col.Max != nil:
		return fmt.Sprintf("must be %s <= %s", kind, fmtNum(*col.Max))
	}
	return "must be " + kind
}

func categoryRule(values []string) string {
	if len(values) == 0 {
		return "must be a non-empty label"
	}
	const show = 12
	if len(values) <= show {
		return "must be one of " + strings.Join(values, ", ")
	}
	return fmt.Sprintf("must be one of %s, … (%d values)", strings.Join(values[:show], ", "), len(values))
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Schema returns the schema this was compiled from.
func (c *Compiled) Schema() Schema { return c.schema }

// Len returns the number of columns.
func (c *Compiled) Len() int { return len(c.cols) }

// Column returns column i.
func (c *Compiled) Column(i int) Column { return c.cols[i].Column }

// Index returns the position of the named column, or -1.
func (c *Compiled) Index(name string) int {
	if i, ok := c.byName[name]; ok {
		return i
	}
	return -1
}

// Rule describes in words what column i accepts.
func (c *Compiled) Rule(i int) string { return c.cols[i].rule }

// IsMissingText reports whether a trimmed raw value spells "no value".
func IsMissingText(s string) bool {
	switch s {
	case "", "NA", "N/A", "na", "n/a", "NaN", "nan", "null", "NULL", "Null", "None", "none":
		return true
	}
	return false
}

// Coerce turns the raw text of column i into a typed value. missing reports
// that the caller had no value at all (absent key, JSON null). On failure it
// returns the message for the column, naming the rule.
func (c *Compiled) Coerce(i int, raw string, missing bool) (Value, string) {
	col := &c.cols[i]
	if col.Ignore {
		return Value{Missing: true}, ""
	}
	s := strings.TrimSpace(raw)
	if missing || IsMissingText(s) {
		if col.Nullable {
			return Value{Missing: true}, ""
		}
		return Value{}, "is required (" + col.rule + ")"
	}
	switch col.Type {
	case Number:
		f, err := parseDecimal(s)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Value{}, col.rule
		}
		if !inRange(col, f) {
			return Value{}, col.rule
		}
		if f == 0 {
			f = 0 // -0 is stored and hashed as 0 on every backend
		}
		return Value{Num: f}, ""
	case Integer:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return Value{}, col.rule
			}
			n = int64(f)
		}
		if math.Abs(float64(n)) > 1<<53 {
			return Value{}, col.rule + " (at most 2^53 in magnitude)"
		}
		if !inRange(col, float64(n)) {
			return Value{}, col.rule
		}
		return Value{Num: float64(n)}, ""
	case Category:
		if len(col.Values) == 0 {
			// Labels are stored as text: PostgreSQL holds neither NUL bytes
			// nor invalid UTF-8.
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				return Value{}, "must be text (valid UTF-8 without NUL bytes)"
			}
			return Value{Str: s}, ""
		}
		if j, ok := lookupFold(col.labels, s); ok {
			return Value{Num: float64(j), Str: col.Values[j]}, ""
		}
		// "1.0" for an integer label 1.
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			if j, ok := col.labels[strconv.FormatInt(int64(f), 10)]; ok {
				return Value{Num: float64(j), Str: col.Values[j]}, ""
			}
		}
		if col.Unknown == UnknownOther {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				return Value{}, "must be text (valid UTF-8 without NUL bytes)"
			}
			return Value{Num: -1, Str: s}, ""
		}
		return Value{}, col.rule
	case Timestamp:
		sec, ok := ParseTimestamp(s)
		if !ok {
			return Value{}, col.rule
		}
		return Value{Num: sec}, ""
	case Boolean:
		switch strings.ToLower(s) {
		case "true", "t", "1", "yes", "y", "1.0":
			return Value{Num: 1}, ""
		case "false", "f", "0", "no", "n", "0.0":
			return Value{Num: 0}, ""
		}
		return Value{}, col.rule
	}
	return Value{}, "has an unknown type"
}

// lookupFold looks s up in a map keyed by lower-cased labels. ASCII text is
// lowered into a stack buffer (a map index by string(bytes) does not
// allocate); other text goes through strings.ToLower.
func lookupFold(labels map[string]int, s string) (int, bool) {
	var buf [64]byte
	if len(s) > len(buf) {
		j, ok := labels[strings.ToLower(s)]
		return j, ok
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			j, ok := labels[strings.ToLower(s)]
			return j, ok
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	j, ok := labels[string(buf[:len(s)])]
	return j, ok
}

func inRange(col *compiledColumn, f float64) bool {
	if col.Min != nil && f < *col.Min {
		return false
	}
	if col.Max != nil && f > *col.Max {
		return false
	}
	return true
}

// Format renders a typed value of column i as canonical text ("" when
// missing): the inverse of Coerce for valid values.
func (c *Compiled) Format(i int, v Value) string {
	if v.Missing {
		return ""
	}
	switch c.cols[i].Type {
	case Number:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case Integer:
		return strconv.FormatInt(int64(v.Num), 10)
	case Timestamp:
		return FormatTimestamp(v.Num)
	case Boolean:
		if v.Num != 0 {
			return "true"
		}
		return "false"
	}
	return v.Str
}

// Label returns the category label of value v of column i, for categories
// declared with and without a values list alike.
func (c *Compiled) Label(i int, v Value) string { return c.Format(i, v) }
