package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/storetest"
)

// benchRows is the size of one batch in the ingest benchmarks.
const benchRows = 10000

func reportRows(b *testing.B, perOp int) {
	b.ReportMetric(float64(perOp*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkBatchInsert stores batches of 10,000 typed titanic rows (5
// columns): the transaction, the pipeline lock, the batch record, COPY of
// the rows and the notification. Compare with BenchmarkCopyBaseline.
func BenchmarkBatchInsert(b *testing.B) {
	db := openTemp(b)
	c := titanic(b, db)
	rows := storetest.Rows(b, c, benchRows, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: rows}); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
}

// BenchmarkValidatedBatchInsert is ingestion from text fields: each record
// is coerced and checked against the schema (as ingest does, without CSV
// tokenizing), then the batch is stored with BatchInsert.
func BenchmarkValidatedBatchInsert(b *testing.B) {
	db := openTemp(b)
	c := titanic(b, db)
	typed := storetest.Rows(b, c, benchRows, 1)
	names := make([]string, c.Len())
	for i := range names {
		names[i] = c.Column(i).Name
	}
	h, err := c.Header(names)
	if err != nil {
		b.Fatal(err)
	}
	records := make([][]string, len(typed))
	for r, row := range typed {
		records[r] = make([]string, c.Len())
		for i := range row {
			records[r][i] = c.Format(i, row[i])
		}
	}
	slab := make([]schema.Value, benchRows*c.Len())
	rows := make([]schema.Row, benchRows)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for r, rec := range records {
			row, fe := h.Row(rec, slab[r*c.Len():(r+1)*c.Len()])
			if fe != nil {
				b.Fatalf("record %d: %v", r, fe)
			}
			rows[r] = row
		}
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: rows}); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
}

// BenchmarkCopyBaseline is a plain COPY (pgx CopyFrom, autocommit) of the
// same 10,000 rows, as ready Go values, into a plain table: with the same
// columns and primary key as a dataset table, and with no index at all.
// BatchInsert's rows/s over this one's is the cost of the store.
func BenchmarkCopyBaseline(b *testing.B) {
	for _, bc := range []struct {
		name, pk string
	}{
		{"same_table", ", PRIMARY KEY (batch_id, row_no)"},
		{"no_index", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := openTemp(b)
			c := titanic(b, db)
			ctx := context.Background()
			_, err := db.pool.Exec(ctx, `CREATE TABLE plain (batch_id bigint NOT NULL, row_no integer NOT NULL,
				survived text, class text, sex text, age double precision, embarked text`+bc.pk+`)`)
			if err != nil {
				b.Fatal(err)
			}
			typed := storetest.Rows(b, c, benchRows, 1)
			values := make([][]any, len(typed))
			for r, row := range typed {
				v := []any{nil, int32(r)}
				for i, x := range row {
					switch {
					case x.Missing:
						v = append(v, nil)
					case i == 3:
						v = append(v, x.Num)
					default:
						v = append(v, x.Str)
					}
				}
				values[r] = v
			}
			cols := []string{"batch_id", "row_no", "survived", "class", "sex", "age", "embarked"}
			var batch int64
			b.ReportAllocs()
			for b.Loop() {
				batch++
				id := any(batch)
				n, err := db.pool.CopyFrom(ctx, pgx.Identifier{"plain"}, cols, pgx.CopyFromSlice(len(values), func(i int) ([]any, error) {
					values[i][0] = id
					return values[i], nil
				}))
				if err != nil || n != benchRows {
					b.Fatalf("CopyFrom = %d, %v", n, err)
				}
			}
			reportRows(b, benchRows)
		})
	}
}

// BenchmarkSnapshotRead reads a 100,000-row snapshot and reports rows/s.
func BenchmarkSnapshotRead(b *testing.B) {
	db := openTemp(b)
	c := titanic(b, db)
	ctx := context.Background()
	const n = 100000
	for i := range 10 {
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c,
			Rows: storetest.Rows(b, c, n/10, uint64(i))}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		snap, err := db.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: storetest.TitanicPipeline, Schema: c})
		if err != nil || len(snap.Rows) != n {
			b.Fatalf("SnapshotRead = %v rows, %v", snap, err)
		}
	}
	reportRows(b, n)
}

// BenchmarkIngestRatio interleaves, in every iteration, a validated
// ingest of 10,000 records (coerce + BatchInsert), a BatchInsert of the
// same typed rows and a plain COPY of them into a table of the same shape,
// so that load on the machine hits all three alike. It reports each one's
// rows/s and the ratios to plain COPY.
func BenchmarkIngestRatio(b *testing.B) {
	db := openTemp(b)
	c := titanic(b, db)
	ctx := context.Background()
	_, err := db.pool.Exec(ctx, `CREATE TABLE plain (batch_id bigint NOT NULL, row_no integer NOT NULL,
		survived text, class text, sex text, age double precision, embarked text, PRIMARY KEY (batch_id, row_no))`)
	if err != nil {
		b.Fatal(err)
	}
	typed := storetest.Rows(b, c, benchRows, 1)
	names := make([]string, c.Len())
	for i := range names {
		names[i] = c.Column(i).Name
	}
	h, err := c.Header(names)
	if err != nil {
		b.Fatal(err)
	}
	records := make([][]string, len(typed))
	values := make([][]any, len(typed))
	for r, row := range typed {
		records[r] = make([]string, c.Len())
		values[r] = []any{nil, int32(r)}
		for i, x := range row {
			records[r][i] = c.Format(i, x)
			switch {
			case x.Missing:
				values[r] = append(values[r], nil)
			case i == 3:
				values[r] = append(values[r], x.Num)
			default:
				values[r] = append(values[r], x.Str)
			}
		}
	}
	slab := make([]schema.Value, benchRows*c.Len())
	rows := make([]schema.Row, benchRows)
	cols := []string{"batch_id", "row_no", "survived", "class", "sex", "age", "embarked"}
	var validated, insert, plain time.Duration
	var batch int64
	for b.Loop() {
		t0 := time.Now()
		for r, rec := range records {
			row, fe := h.Row(rec, slab[r*c.Len():(r+1)*c.Len()])
			if fe != nil {
				b.Fatalf("record %d: %v", r, fe)
			}
			rows[r] = row
		}
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: rows}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: typed}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		batch++
		id := any(batch)
		n, err := db.pool.CopyFrom(ctx, pgx.Identifier{"plain"}, cols, pgx.CopyFromSlice(len(values), func(i int) ([]any, error) {
			values[i][0] = id
			return values[i], nil
		}))
		if err != nil || n != benchRows {
			b.Fatalf("CopyFrom = %d, %v", n, err)
		}
		t3 := time.Now()
		validated += t1.Sub(t0)
		insert += t2.Sub(t1)
		plain += t3.Sub(t2)
	}
	rate := func(d time.Duration) float64 { return float64(benchRows*b.N) / d.Seconds() }
	b.ReportMetric(rate(validated), "validated-rows/s")
	b.ReportMetric(rate(insert), "insert-rows/s")
	b.ReportMetric(rate(plain), "copy-rows/s")
	b.ReportMetric(plain.Seconds()/validated.Seconds(), "validated/copy")
	b.ReportMetric(plain.Seconds()/insert.Seconds(), "insert/copy")
}
