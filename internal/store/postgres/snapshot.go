package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// slabRows is how many rows share one backing array of values.
const slabRows = 1 << 14

// SnapshotRead reads a pipeline's rows up to the watermark in one
// REPEATABLE READ READ ONLY transaction: the watermark, the row count and
// the rows come from one view of the database. Batches of a pipeline
// commit in id order, so that view holds every batch up to its largest id.
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
	err = db.inTx(ctx, snapshot, func(tx pgx.Tx) error {
		m, err := loadMapping(ctx, tx, params.Pipeline, false)
		if err != nil {
			return err
		}
		idx, cols, ok, err := storageColumns(params.Pipeline, c, m)
		if err != nil {
			return err
		}
		if snap.Watermark <= 0 {
			err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM batches WHERE pipeline = $1`, params.Pipeline).Scan(&snap.Watermark)
			if err != nil {
				return fmt.Errorf("snapshot of %s: watermark: %w", params.Pipeline, interpretError(err))
			}
		}
		var n int64
		err = tx.QueryRow(ctx, `SELECT coalesce(sum(accepted), 0)::bigint FROM batches WHERE pipeline = $1 AND id <= $2`,
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
}

func readRows(ctx context.Context, tx pgx.Tx, table pgx.Identifier, c *schema.Compiled, idx []int, cols []storedColumn, ok []bool,
	watermark, expect int64) ([]schema.Row, error) {
	width := c.Len()
	// template: every column missing except those read from the table.
	template := make(schema.Row, width)
	for i := range template {
		template[i].Missing = true
	}
	var rcs []readColumn
	var sel []string
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
		}
		template[i].Missing = false
		rcs = append(rcs, rc)
		sel = append(sel, cols[k].ident())
	}
	if len(sel) == 0 {
		sel = []string{"batch_id"}
	}
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+table.Sanitize()+
		` WHERE batch_id <= $1 ORDER BY batch_id, row_no`, watermark)
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", interpretError(err))
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	bins := make([]bool, len(fds))
	for k, fd := range fds {
		bins[k] = fd.Format == pgtype.BinaryFormatCode
	}

	out := make([]schema.Row, 0, expect)
	var slab []schema.Value
	for rows.Next() {
		// Raw bytes, decoded here: no allocation per value.
		raw := rows.RawValues()
		if len(slab) < width {
			n := min(max(expect-int64(len(out)), 1), slabRows)
			slab = make([]schema.Value, int(n)*width)
		}
		row := schema.Row(slab[:width:width])
		slab = slab[width:]
		copy(row, template)
		for k := range rcs {
			if err := setValue(&row[rcs[k].pos], &rcs[k], raw[k], bins[k]); err != nil {
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

// setValue decodes one stored value (nil: NULL) in the binary or the text
// format of its column type.
func setValue(dst *schema.Value, rc *readColumn, b []byte, bin bool) error {
	if b == nil {
		*dst = schema.Value{Missing: true}
		return nil
	}
	switch rc.typ {
	case schema.Category:
		if j, ok := rc.labels[string(b)]; ok {
			*dst = schema.Value{Num: float64(j), Str: rc.values[j]}
			return nil
		}
		*dst = schema.Value{Num: -1, Str: intern(rc, b)}
	case schema.Number:
		if bin {
			if len(b) != 8 {
				return fmt.Errorf("stored double has %d bytes", len(b))
			}
			dst.Num = math.Float64frombits(binary.BigEndian.Uint64(b))
		} else {
			f, err := strconv.ParseFloat(string(b), 64)
			if err != nil {
				// PostgreSQL spells the infinities Infinity and -Infinity.
				f, err = strconv.ParseFloat(strings.Replace(string(b), "Infinity", "Inf", 1), 64)
			}
			if err != nil {
				return fmt.Errorf("stored double %q: %w", b, err)
			}
			dst.Num = f
		}
		if dst.Num == 0 {
			dst.Num = 0 // -0 reads as 0, as on SQLite
		}
	case schema.Integer:
		if bin {
			if len(b) != 8 {
				return fmt.Errorf("stored bigint has %d bytes", len(b))
			}
			dst.Num = float64(int64(binary.BigEndian.Uint64(b)))
			return nil
		}
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("stored bigint %q: %w", b, err)
		}
		dst.Num = float64(n)
	case schema.Boolean:
		switch {
		case bin && len(b) == 1:
			dst.Num = float64(b[0] & 1)
		case !bin && len(b) == 1 && (b[0] == 't' || b[0] == 'f'):
			dst.Num = 0
			if b[0] == 't' {
				dst.Num = 1
			}
		default:
			return fmt.Errorf("stored boolean %q", b)
		}
	default:
		return fmt.Errorf("column type %q has no storage type", rc.typ)
	}
	return nil
}

// intern makes rows with the same undeclared label share one string; it
// stops growing past 64k distinct labels (free text, not a category).
func intern(rc *readColumn, b []byte) string {
	if v, ok := rc.intern[string(b)]; ok {
		return v
	}
	s := string(b)
	if len(rc.intern) < 1<<16 {
		rc.intern[s] = s
	}
	return s
}
