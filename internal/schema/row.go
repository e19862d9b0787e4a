package schema

import (
	"fmt"
	"slices"
	"strings"
)

// FieldErrors maps a column name to what is wrong with its value. It is the
// error type of row coercion and feeds the "fields" object of HTTP errors.
type FieldErrors map[string]string

// Error lists the fields in name order.
func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", k, fe[k])
	}
	return b.String()
}

// Raw is one raw input value: its text, or Missing when the input had none
// (absent key, JSON null).
type Raw struct {
	Text    string
	Missing bool
}

// RowFromMap coerces a row given as column name to raw value (a JSON object
// or query parameters). Unknown names are reported as field errors, as are
// absent columns that are not nullable. Ignored columns may be present or
// absent.
func (c *Compiled) RowFromMap(m map[string]Raw) (Row, FieldErrors) {
	row := make(Row, len(c.cols))
	var fe FieldErrors
	for i := range c.cols {
		r, ok := m[c.cols[i].Name]
		v, msg := c.Coerce(i, r.Text, !ok || r.Missing)
		if msg != "" {
			if fe == nil {
				fe = FieldErrors{}
			}
			fe[c.cols[i].Name] = msg
			continue
		}
		row[i] = v
	}
	for name := range m {
		if _, ok := c.byName[name]; !ok {
			if fe == nil {
				fe = FieldErrors{}
			}
			fe[name] = "is not a column of this pipeline (columns: " + strings.Join(c.names(), ", ") + ")"
		}
	}
	if fe != nil {
		return nil, fe
	}
	return row, nil
}

func (c *Compiled) names() []string {
	out := make([]string, len(c.cols))
	for i := range c.cols {
		out[i] = c.cols[i].Name
	}
	return out
}

// HeaderError is returned for a CSV header that does not fit the schema.
type HeaderError struct {
	Missing   []string // required columns the header lacks
	Unknown   []string // header names that are not columns
	Duplicate []string // names that appear more than once
}

// Error describes every problem of the header at once.
func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required column(s) "+strings.Join(e.Missing, ", "))
	}
	if len(e.Unknown) > 0 {
		parts = append(parts, "unknown column(s) "+strings.Join(e.Unknown, ", "))
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, "duplicate column(s) "+strings.Join(e.Duplicate, ", "))
	}
	return "csv header: " + strings.Join(parts, "; ")
}

// Fields returns the header problems keyed by column name, for an HTTP error.
func (e *HeaderError) Fields() FieldErrors {
	fe := FieldErrors{}
	for _, n := range e.Missing {
		fe[n] = "is required but missing from the header"
	}
	for _, n := range e.Unknown {
		fe[n] = "is not a column of this pipeline"
	}
	for _, n := range e.Duplicate {
		fe[n] = "appears more than once in the header"
	}
	return fe
}

// Header maps the fields of CSV records onto schema columns.
type Header struct {
	c      *Compiled
	pos    []int // schema column -> field index, -1 when absent
	fields int   // number of fields in the header
	// Ignored are the header's names the schema does not know, in header
	// order: their fields are dropped (Schema.UnknownColumns "ignore").
	Ignored []string
}

// Header matches a CSV header against the schema. Names are trimmed and
// matched exactly. A header that lacks a required (non-nullable, not
// ignored) column or names one twice is an error listing all of them and
// the names the schema does not know; so is a header with unknown names
// under Schema.UnknownColumns "reject". Otherwise unknown names are listed
// in Header.Ignored and their fields dropped.
func (c *Compiled) Header(names []string) (*Header, error) {
	h := &Header{c: c, pos: make([]int, len(c.cols)), fields: len(names)}
	for i := range h.pos {
		h.pos[i] = -1
	}
	var he HeaderError
	for j, n := range names {
		n = strings.TrimSpace(strings.TrimPrefix(n, "\ufeff"))
		i, ok := c.byName[n]
		if !ok {
			he.Unknown = append(he.Unknown, n)
			continue
		}
		if h.pos[i] >= 0 {
			he.Duplicate = append(he.Duplicate, n)
			continue
		}
		h.pos[i] = j
	}
	for i, col := range c.cols {
		if h.pos[i] < 0 && !col.Nullable && !col.Ignore {
			he.Missing = append(he.Missing, col.Name)
		}
	}
	if c.schema.UnknownColumns != UnknownReject && len(he.Missing)+len(he.Duplicate) == 0 {
		// Otherwise the unknown names stay in the error: a misspelt
		// required column is most likely why one is missing.
		h.Ignored, he.Unknown = he.Unknown, nil
	}
	if len(he.Missing)+len(he.Unknown)+len(he.Duplicate) > 0 {
		return nil, &he
	}
	return h, nil
}

// Width is the number of fields each record must have.
func (h *Header) Width() int { return h.fields }

// Row coerces one CSV record into dst (reused when it has room). A record
// with the wrong number of fields is reported under the key "_row".
func (h *Header) Row(fields []string, dst Row) (Row, FieldErrors) {
	if len(fields) != h.fields {
		return nil, FieldErrors{"_row": fmt.Sprintf("has %d fields, the header has %d", len(fields), h.fields)}
	}
	row := slices.Grow(dst[:0], len(h.c.cols))[:len(h.c.cols)]
	var fe FieldErrors
	for i, p := range h.pos {
		var v Value
		var msg string
		if p < 0 {
			v, msg = h.c.Coerce(i, "", true)
		} else {
			v, msg = h.c.Coerce(i, fields[p], false)
		}
		if msg != "" {
			if fe == nil {
				fe = FieldErrors{}
			}
			fe[h.c.cols[i].Name] = msg
			continue
		}
		row[i] = v
	}
	if fe != nil {
		return nil, fe
	}
	return row, nil
}
