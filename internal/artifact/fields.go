package artifact

import (
	"github.com/mlserve/mlserve/internal/didyoumean"
	"github.com/mlserve/mlserve/internal/schema"
)

// Fields is one instance's raw input held by schema position, as a query
// string or a JSON object gave it, so that decoding a request needs no map.
// Reset readies it for the next instance.
type Fields struct {
	c *schema.Compiled
	// Raw holds each column's value; Missing when absent or null.
	Raw []schema.Raw
	// Given says which columns were named, even as null.
	Given []bool
	// Unknown are names given that are no column of the schema.
	Unknown []string
	// Errs are problems the decoder found with single names (a repeated
	// query parameter, a nested JSON value). When there are any,
	// coercion reports only them.
	Errs schema.FieldErrors
}

// NewFields returns empty Fields for the columns of c.
func NewFields(c *schema.Compiled) *Fields {
	return &Fields{c: c, Raw: make([]schema.Raw, c.Len()), Given: make([]bool, c.Len())}
}

// Schema is the compiled schema f was made for.
func (f *Fields) Schema() *schema.Compiled { return f.c }

// Reset forgets every value.
func (f *Fields) Reset() {
	clear(f.Raw)
	clear(f.Given)
	f.Unknown = f.Unknown[:0]
	f.Errs = nil
}

// Set records the value of name; a later Set of the same name wins. It
// reports the column index, or -1 for a name that is no column.
func (f *Fields) Set(name string, r schema.Raw) int {
	i := f.c.Index(name)
	if i < 0 {
		for _, u := range f.Unknown {
			if u == name {
				return -1
			}
		}
		f.Unknown = append(f.Unknown, name)
		return -1
	}
	f.Raw[i], f.Given[i] = r, true
	return i
}

// Fail records a problem with name's value.
func (f *Fields) Fail(name, msg string) {
	if f.Errs == nil {
		f.Errs = schema.FieldErrors{}
	}
	f.Errs[name] = msg
}

// CoerceFields fills row (len Schema().Len()) from f. The target and
// ignored columns may be absent; any other column of the schema is coerced
// by its rules; names that are not feature columns are errors. It does not
// allocate unless there are errors.
func (m *Model) CoerceFields(f *Fields, row schema.Row) schema.FieldErrors {
	if len(f.Errs) > 0 {
		return f.Errs
	}
	var fe schema.FieldErrors
	add := func(k, msg string) {
		if fe == nil {
			fe = schema.FieldErrors{}
		}
		fe[k] = msg
	}
	for i := range row {
		row[i] = schema.Value{Missing: true} // the target and ignored columns
	}
	for _, i := range m.inputs {
		v, msg := m.schema.Coerce(i, f.Raw[i].Text, !f.Given[i] || f.Raw[i].Missing)
		if msg != "" {
			add(m.names[i], msg)
			continue
		}
		row[i] = v
	}
	if t := m.Artifact.Encoder.Target.Index; t >= 0 && f.Given[t] {
		add(m.names[t], "is the target; leave it out of a prediction request")
	}
	for _, k := range f.Unknown {
		add(k, "is not a feature of this model"+didyoumean.Suffix(k, m.inputNames))
	}
	return fe
}
