package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

// nativeTx is the *sql.Tx under a transaction's Querier.
func nativeTx(tx sqlstore.Querier) (*sql.Tx, error) {
	if q, ok := tx.(sqlQuerier); ok {
		if t, ok := q.q.(*sql.Tx); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("sqlite: %T is not a transaction of this store", tx)
}

// rowsPerInsert is how many rows one INSERT statement carries: binding a
// chunk per step halves the per-row cost of the driver round trip.
const rowsPerInsert = 64

// InsertRows differs by necessity: SQLite has no bulk load, so rows go in
// with one prepared multi-row INSERT, reused for every full chunk, and one
// more for the tail. Declared category labels are boxed once: no
// allocation per value.
func (dialect) InsertRows(ctx context.Context, q sqlstore.Querier, ins *sqlstore.RowsInsert) error {
	tx, err := nativeTx(q)
	if err != nil {
		return err
	}
	cols := ins.Columns
	per := 2 + len(cols)
	prepare := func(n int) (*sql.Stmt, error) {
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + ins.Table + ` (batch_id, row_no`)
		for _, col := range cols {
			b.WriteString(`, ` + col.Ident)
		}
		b.WriteString(`) VALUES `)
		tuple := `(?` + strings.Repeat(`, ?`, per-1) + `)`
		for i := range n {
			if i > 0 {
				b.WriteString(`, `)
			}
			b.WriteString(tuple)
		}
		stmt, err := tx.PrepareContext(ctx, b.String())
		if err != nil {
			return nil, fmt.Errorf("prepare row insert: %w", interpretError(err))
		}
		return stmt, nil
	}
	labels := make([][]any, len(cols))
	for k, col := range cols {
		for _, v := range col.Values {
			labels[k] = append(labels[k], v)
		}
	}
	rows := ins.Rows
	args := make([]any, per*min(rowsPerInsert, len(rows)))
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for start := 0; start < len(rows); start += rowsPerInsert {
		chunk := rows[start:min(start+rowsPerInsert, len(rows))]
		if stmt == nil || len(chunk) != rowsPerInsert {
			if stmt != nil {
				stmt.Close()
			}
			if stmt, err = prepare(len(chunk)); err != nil {
				return err
			}
		}
		a := args[:per*len(chunk)]
		for r, row := range chunk {
			o := a[r*per : (r+1)*per]
			o[0] = ins.BatchID
			o[1] = int64(start + r)
			for k, col := range cols {
				v := &row[col.Pos]
				switch {
				case v.Missing:
					o[2+k] = nil
				case col.Type == schema.Number, col.Type == schema.Timestamp:
					o[2+k] = v.Num
				case col.Type == schema.Integer:
					o[2+k] = int64(v.Num)
				case col.Type == schema.Boolean:
					o[2+k] = boolInt(v.Num != 0)
				case col.Declared(v):
					o[2+k] = labels[k][int(v.Num)]
				default:
					o[2+k] = v.Str
				}
			}
		}
		if _, err := stmt.ExecContext(ctx, a...); err != nil {
			return fmt.Errorf("insert rows %d..%d: %w", start, start+len(chunk)-1, interpretError(err))
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// BulkInsert differs by necessity (SQLite has no bulk load): one prepared
// INSERT, run for each row.
func (dialect) BulkInsert(ctx context.Context, q sqlstore.Querier, table string, columns []string, rows [][]any) error {
	tx, err := nativeTx(q)
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+sqlstore.QuoteIdent(table)+` (`+strings.Join(columns, ", ")+`) VALUES (?`+
		strings.Repeat(`, ?`, len(columns)-1)+`)`)
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, interpretError(err))
	}
	defer stmt.Close()
	for i, row := range rows {
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("insert row %d into %s: %w", i, table, interpretError(err))
		}
	}
	return nil
}

// maxCoded bounds the declared values of a coded category column (indexes
// below 256 box without allocation) and codedParams all their placeholders.
const (
	maxCoded    = 250
	codedParams = 4000
)

// ReadRows differs by necessity: the driver hands each value over as an
// interface, and a string label would be allocated for every row. So a
// category column with a few declared labels is read coded: SQL turns a
// declared label into its index (an int64 the driver boxes without
// allocating) and passes other labels as text.
func (dialect) ReadRows(ctx context.Context, q sqlstore.Querier, rd *sqlstore.RowsRead) error {
	tx, err := nativeTx(q)
	if err != nil {
		return err
	}
	coded := make([]bool, len(rd.Columns))
	var sel []string
	var args []any
	for k, col := range rd.Columns {
		coded[k] = col.Type == schema.Category && len(col.Values) > 0 && len(col.Values) <= maxCoded &&
			len(args)+len(col.Values) <= codedParams
		if !coded[k] {
			sel = append(sel, col.Ident)
			continue
		}
		// CASE c3 WHEN ? THEN 0 WHEN ? THEN 1 ... ELSE c3 END; the labels
		// are placeholders.
		var b strings.Builder
		b.WriteString(`CASE ` + col.Ident)
		for j, v := range col.Values {
			fmt.Fprintf(&b, ` WHEN ? THEN %d`, j)
			args = append(args, v)
		}
		b.WriteString(` ELSE ` + col.Ident + ` END`)
		sel = append(sel, b.String())
	}
	if len(sel) == 0 {
		sel = []string{"batch_id"}
	}
	args = append(args, rd.Watermark)
	rows, err := tx.QueryContext(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+rd.Table+
		` WHERE batch_id <= ? ORDER BY batch_id, row_no`, args...)
	if err != nil {
		return fmt.Errorf("read rows: %w", interpretError(err))
	}
	defer rows.Close()

	vals := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	for k := range vals {
		ptrs[k] = &vals[k]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read rows: %w", interpretError(err))
		}
		row := rd.Add()
		for k, col := range rd.Columns {
			if err := setValue(&row[col.Pos], col, coded[k], vals[k]); err != nil {
				return rd.ValueError(k, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rows: %w", interpretError(err))
	}
	return nil
}

// setValue types one stored value (nil: NULL) as SQLite hands it over.
func setValue(dst *schema.Value, col *sqlstore.Column, coded bool, v any) error {
	if v == nil {
		*dst = schema.Value{Missing: true}
		return nil
	}
	switch col.Type {
	case schema.Category:
		switch x := v.(type) {
		case int64:
			if coded && x >= 0 && int(x) < len(col.Values) {
				*dst = schema.Value{Num: float64(x), Str: col.Values[x]}
				return nil
			}
			col.SetLabel(dst, fmt.Sprint(x))
		case string:
			col.SetLabel(dst, x)
		case []byte:
			col.SetLabelBytes(dst, x)
		default:
			// TEXT affinity keeps labels as text; anything else is a label too.
			col.SetLabel(dst, fmt.Sprint(x))
		}
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
		if col.Type == schema.Boolean && dst.Num != 0 {
			dst.Num = 1
		}
		return nil
	}
}
