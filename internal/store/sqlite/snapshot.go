package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// slabRows is how many rows share one backing array of values.
const slabRows = 1 << 14

// SnapshotRead reads a pipeline's rows up to the watermark in one read
// transaction on the read pool. The row count comes from the batch records
// of the same transaction, so values are allocated in a few large slabs.
func (db *DB) SnapshotRead(ctx context.Context, params *store.SnapshotReadParams) (*store.Snapshot, error) {
	table, err := tableName(params.Pipeline)
	if err != nil {
		return nil, err
	}
	c := params.Schema
	if c == nil {
		return nil, fmt.Errorf("snapshot of %s: schema is nil", params.Pipeline)
	}
	snap := &store.Snapshot{Watermark: params.Watermark}
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		m, err := loadMapping(ctx, tx, params.Pipeline)
		if err != nil {
			return err
		}
		idx, cols, ok, err := storageColumns(params.Pipeline, c, m)
		if err != nil {
			return err
		}
		if snap.Watermark <= 0 {
			err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM batches WHERE pipeline = ?`, params.Pipeline).Scan(&snap.Watermark)
			if err != nil {
				return fmt.Errorf("snapshot of %s: watermark: %w", params.Pipeline, interpretError(err))
			}
		}
		var n int64
		err = tx.QueryRowContext(ctx, `SELECT coalesce(sum(accepted), 0) FROM batches WHERE pipeline = ? AND id <= ?`,
			params.Pipeline, snap.Watermark).Scan(&n)
		if err != nil {
			return fmt.Errorf("snapshot of %s: count rows: %w", params.Pipeline, interpretError(err))
		}
		snap.Rows, err = readRows(ctx, tx, table, c, idx, cols, ok, snap.Watermark, n)
		if err != nil {
			return fmt.Errorf("snapshot of %s: %w", params.Pipeline, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h := store.NewRowHasher(c)
	for _, r := range snap.Rows {
		h.Add(r)
	}
	snap.SHA256 = h.Sum()
	return snap, nil
}

// readColumn says how to type one selected storage column.
type readColumn struct {
	pos    int // schema position
	typ    schema.Type
	values []string       // declared category values
	labels map[string]int // declared category value -> index
	intern map[string]string
	// coded: SQL turns a declared label into its index (an int64 the driver
	// hands over without allocating) and passes other labels as text.
	coded bool
}

// maxCoded bounds the declared values of a coded category column (indexes
// below 256 box without allocation) and codedParams all their placeholders.
const (
	maxCoded    = 250
	codedParams = 4000
)

func readRows(ctx context.Context, tx *sql.Tx, table string, c *schema.Compiled, idx []int, cols []storedColumn, ok []bool,
	watermark, expect int64) ([]schema.Row, error) {
	width := c.Len()
	// template: every column missing except those read from the table.
	template := make(schema.Row, width)
	for i := range template {
		template[i].Missing = true
	}
	var rcs []readColumn
	var sel []string
	var args []any
	for k, i := range idx {
		if !ok[k] {
			continue
		}
		col := c.Column(i)
		rc := readColumn{pos: i, typ: col.Type}
		if col.Type == schema.Category {
			rc.values = col.Values
			rc.labels = make(map[string]int, len(col.Values))
			for j, v := range col.Values {
				rc.labels[v] = j
			}
			rc.intern = make(map[string]string)
			rc.coded = len(col.Values) > 0 && len(col.Values) <= maxCoded && len(args)+len(col.Values) <= codedParams
		}
		template[i].Missing = false
		rcs = append(rcs, rc)
		if !rc.coded {
			sel = append(sel, cols[k].ident())
			continue
		}
		// CASE c3 WHEN ? THEN 0 WHEN ? THEN 1 ... ELSE c3 END; the labels
		// are placeholders.
		var b strings.Builder
		b.WriteString(`CASE ` + cols[k].ident())
		for j, v := range col.Values {
			fmt.Fprintf(&b, ` WHEN ? THEN %d`, j)
			args = append(args, v)
		}
		b.WriteString(` ELSE ` + cols[k].ident() + ` END`)
		sel = append(sel, b.String())
	}
	if len(sel) == 0 {
		sel = []string{"batch_id"}
	}
	args = append(args, watermark)
	rows, err := tx.QueryContext(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+table+
		` WHERE batch_id <= ? ORDER BY batch_id, row_no`, args...)
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", interpretError(err))
	}
	defer rows.Close()

	vals := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	for k := range vals {
		ptrs[k] = &vals[k]
	}
	out := make([]schema.Row, 0, expect)
	var slab []schema.Value
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read rows: %w", interpretError(err))
		}
		if len(slab) < width {
			n := min(max(expect-int64(len(out)), 1), slabRows)
			slab = make([]schema.Value, int(n)*width)
		}
		row := schema.Row(slab[:width:width])
		slab = slab[width:]
		copy(row, template)
		for k := range rcs {
			if err := setValue(&row[rcs[k].pos], &rcs[k], vals[k]); err != nil {
				return nil, fmt.Errorf("row %d, column %q: %w", len(out), c.Column(rcs[k].pos).Name, err)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", interpretError(err))
	}
	return out, nil
}

func setValue(dst *schema.Value, rc *readColumn, v any) error {
	if v == nil {
		*dst = schema.Value{Missing: true}
		return nil
	}
	switch rc.typ {
	case schema.Category:
		var s string
		switch x := v.(type) {
		case int64:
			if rc.coded && x >= 0 && int(x) < len(rc.values) {
				*dst = schema.Value{Num: float64(x), Str: rc.values[x]}
				return nil
			}
			s = fmt.Sprint(x)
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			// TEXT affinity keeps labels as text; anything else is a label too.
			s = fmt.Sprint(x)
		}
		if j, ok := rc.labels[s]; ok {
			*dst = schema.Value{Num: float64(j), Str: rc.values[j]}
			return nil
		}
		*dst = schema.Value{Num: -1, Str: intern(rc, s)}
		return nil
	default:
		switch x := v.(type) {
		case float64:
			dst.Num = x
		case int64:
			dst.Num = float64(x)
		default:
			return fmt.Errorf("stored value of type %T is not a number", v)
		}
		if rc.typ == schema.Boolean && dst.Num != 0 {
			dst.Num = 1
		}
		return nil
	}
}

// intern makes rows with the same undeclared label share one string; it
// stops growing past 64k distinct labels (free text, not a category).
func intern(rc *readColumn, s string) string {
	if v, ok := rc.intern[s]; ok {
		return v
	}
	if len(rc.intern) < 1<<16 {
		rc.intern[s] = s
	}
	return s
}
