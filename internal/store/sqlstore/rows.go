package sqlstore

import (
	"fmt"

	"github.com/mlserve/mlserve/internal/schema"
)

// Column is a stored column of a schema as the dialect writes or reads it
// in a pipeline's typed table.
type Column struct {
	Pos    int    // position in the schema and in a row
	Ident  string // storage column: c<N>, never the user's name
	Name   string // the column's name, for errors
	Type   schema.Type
	Values []string // declared category labels; a declared value's Num is its index

	// Reads only: declared label -> index, and the undeclared labels seen.
	labels map[string]int
	intern map[string]string
}

func newColumn(c *schema.Compiled, pos int, sc storedColumn) *Column {
	col := c.Column(pos)
	return &Column{Pos: pos, Ident: sc.ident(), Name: col.Name, Type: col.Type, Values: col.Values}
}

// Declared reports whether v holds one of the column's declared labels as
// the schema coded it (Num its index, Str the label): text that came from
// the schema, not from the request.
func (col *Column) Declared(v *schema.Value) bool {
	n := int(v.Num)
	return n >= 0 && n < len(col.Values) && float64(n) == v.Num && col.Values[n] == v.Str
}

// SetLabel sets dst to the category label s: a declared label reads as its
// index, any other as -1 with its text. Rows with the same undeclared label
// share one string, up to 64k distinct labels (past that it is free text,
// not a category).
func (col *Column) SetLabel(dst *schema.Value, s string) {
	if j, ok := col.labels[s]; ok {
		*dst = schema.Value{Num: float64(j), Str: col.Values[j]}
		return
	}
	if v, ok := col.intern[s]; ok {
		s = v
	} else if len(col.intern) < 1<<16 {
		col.intern[s] = s
	}
	*dst = schema.Value{Num: -1, Str: s}
}

// SetLabelBytes is SetLabel for a label in a driver's buffer: it allocates
// only for an undeclared label not seen before.
func (col *Column) SetLabelBytes(dst *schema.Value, b []byte) {
	if j, ok := col.labels[string(b)]; ok {
		*dst = schema.Value{Num: float64(j), Str: col.Values[j]}
		return
	}
	if v, ok := col.intern[string(b)]; ok {
		*dst = schema.Value{Num: -1, Str: v}
		return
	}
	col.SetLabel(dst, string(b))
}

// RowsInsert is one batch's rows for the dialect's InsertRows.
type RowsInsert struct {
	Table   string // quoted name of the typed table
	BatchID int64
	// Columns are the schema's stored columns, every one in the table; a
	// row's value for Columns[k] is row[Columns[k].Pos].
	Columns []*Column
	// Rows are in batch order (row_no 0, 1, …), each as wide as the schema.
	Rows []schema.Row
}

// RowsRead is one read of a typed table for SnapshotRead: the dialect
// selects Columns of the rows with batch_id <= Watermark, ordered by
// batch_id then row_no, and fills a row from Add for each.
type RowsRead struct {
	Table     string
	Columns   []*Column // the stored columns the table has; the others read as missing
	Watermark int64

	width    int
	expect   int64      // rows the batch records count
	template schema.Row // every value missing but Columns'
	slab     []schema.Value
	rows     []schema.Row
}

// slabRows is how many rows share one backing array of values.
const slabRows = 1 << 14

func newRowsRead(table string, c *schema.Compiled, cols []*Column, watermark, expect int64) *RowsRead {
	r := &RowsRead{Table: table, Columns: cols, Watermark: watermark, width: c.Len(), expect: expect,
		template: make(schema.Row, c.Len()), rows: make([]schema.Row, 0, expect)}
	for i := range r.template {
		r.template[i].Missing = true
	}
	for _, col := range cols {
		r.template[col.Pos].Missing = false
		if col.Type == schema.Category {
			col.labels = make(map[string]int, len(col.Values))
			for j, v := range col.Values {
				col.labels[v] = j
			}
			col.intern = make(map[string]string)
		}
	}
	return r
}

// Add appends a row to the result and returns it to be filled. Values are
// allocated in a few large slabs sized by the expected count.
func (r *RowsRead) Add() schema.Row {
	if len(r.slab) < r.width {
		n := min(max(r.expect-int64(len(r.rows)), 1), slabRows)
		r.slab = make([]schema.Value, int(n)*r.width)
	}
	row := schema.Row(r.slab[:r.width:r.width])
	r.slab = r.slab[r.width:]
	copy(row, r.template)
	r.rows = append(r.rows, row)
	return row
}

// ValueError says which value of the last row added err is about.
func (r *RowsRead) ValueError(k int, err error) error {
	return fmt.Errorf("row %d, column %q: %w", len(r.rows)-1, r.Columns[k].Name, err)
}
