package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

// ReadRows differs by necessity (the fast path each driver allows): it
// selects the stored columns and decodes each value from the raw bytes of
// its column type, in the binary or the text format, instead of pgx's
// Scan: no allocation per value.
func (dialect) ReadRows(ctx context.Context, q sqlstore.Querier, rd *sqlstore.RowsRead) error {
	tx, err := nativeTx(q)
	if err != nil {
		return err
	}
	sel := []string{"batch_id"}
	if len(rd.Columns) > 0 {
		sel = sel[:0]
		for _, col := range rd.Columns {
			if col.Type == schema.Timestamp {
				// Whole milliseconds as a bigint: the same in the binary and
				// the text format, whatever the session's TimeZone and
				// DateStyle.
				sel = append(sel, `(EXTRACT(EPOCH FROM `+col.Ident+`) * 1000)::bigint`)
				continue
			}
			sel = append(sel, col.Ident)
		}
	}
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+rd.Table+
		` WHERE batch_id <= $1 ORDER BY batch_id, row_no`, rd.Watermark)
	if err != nil {
		return fmt.Errorf("read rows: %w", interpretError(err))
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	bins := make([]bool, len(fds))
	for k, fd := range fds {
		bins[k] = fd.Format == pgtype.BinaryFormatCode
	}
	for rows.Next() {
		raw := rows.RawValues()
		row := rd.Add()
		for k, col := range rd.Columns {
			if err := setValue(&row[col.Pos], col, raw[k], bins[k]); err != nil {
				return rd.ValueError(k, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rows: %w", interpretError(err))
	}
	return nil
}

// pgEpochMillis is PostgreSQL's timestamp epoch, 2000-01-01 UTC, in Unix
// milliseconds.
const pgEpochMillis = 946_684_800_000

// setValue decodes one stored value (nil: NULL) in the binary or the text
// format of its column type.
func setValue(dst *schema.Value, col *sqlstore.Column, b []byte, bin bool) error {
	if b == nil {
		*dst = schema.Value{Missing: true}
		return nil
	}
	switch col.Type {
	case schema.Category:
		col.SetLabelBytes(dst, b)
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
	case schema.Timestamp:
		var ms int64
		if bin {
			if len(b) != 8 {
				return fmt.Errorf("stored timestamp has %d bytes", len(b))
			}
			ms = int64(binary.BigEndian.Uint64(b))
		} else {
			n, err := strconv.ParseInt(string(b), 10, 64)
			if err != nil {
				return fmt.Errorf("stored timestamp %q: %w", b, err)
			}
			ms = n
		}
		dst.Num = float64(ms) / 1000 // as schema.ParseTimestamp computes it
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
		return fmt.Errorf("column type %q has no storage type", col.Type)
	}
	return nil
}
