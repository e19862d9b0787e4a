package storetest

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// ensure creates another pipeline with the schema s.
func (b *testBundle) ensure(t *testing.T, pipeline string, s schema.Schema) {
	t.Helper()
	if err := b.s.DatasetEnsure(b.ctx, &store.DatasetEnsureParams{Pipeline: pipeline, Schema: s}); err != nil {
		t.Fatalf("DatasetEnsure(%s): %v", pipeline, err)
	}
}

// widen returns rows with Missing values appended up to width.
func widen(rows []schema.Row, width int) []schema.Row {
	out := make([]schema.Row, len(rows))
	for i, r := range rows {
		w := make(schema.Row, width)
		copy(w, r)
		for j := len(r); j < width; j++ {
			w[j] = schema.Value{Missing: true}
		}
		out[i] = w
	}
	return out
}

// project returns rows with only the columns at idx.
func project(rows []schema.Row, idx ...int) []schema.Row {
	out := make([]schema.Row, len(rows))
	for i, r := range rows {
		p := make(schema.Row, len(idx))
		for k, j := range idx {
			p[k] = r[j]
		}
		out[i] = p
	}
	return out
}

func (b *testBundle) wantRows(t *testing.T, c *schema.Compiled, want []schema.Row) *store.Snapshot {
	t.Helper()
	snap := b.snapshot(t, c, 0)
	if d := DiffRows(c, snap.Rows, want); d != "" {
		t.Fatalf("snapshot rows: %s", d)
	}
	if got, w := snap.SHA256, store.HashRows(c, want); got != w {
		t.Fatalf("snapshot SHA256 = %s, want %s", got, w)
	}
	return snap
}

func (b *testBundle) wantInfo(t *testing.T, pipeline string, rows, batches, quarantined int64) *store.DatasetInfo {
	t.Helper()
	info, err := b.s.DatasetInfo(b.ctx, pipeline)
	if err != nil {
		t.Fatalf("DatasetInfo: %v", err)
	}
	if info.Rows != rows || info.Batches != batches || info.Quarantined != quarantined {
		t.Fatalf("DatasetInfo = rows %d, batches %d, quarantined %d; want %d, %d, %d",
			info.Rows, info.Batches, info.Quarantined, rows, batches, quarantined)
	}
	return info
}

func testDataset(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("EnsureIdempotentAndEmptyInfo", func(t *testing.T) {
		b := setup(t, open)
		b.ensure(t, TitanicPipeline, TitanicSchema())
		info := b.wantInfo(t, TitanicPipeline, 0, 0, 0)
		if info.Pipeline != TitanicPipeline || info.LastBatchID != 0 || info.LastBatchAt != nil {
			t.Fatalf("empty DatasetInfo = %+v", info)
		}
	})

	t.Run("InfoNotFound", func(t *testing.T) {
		b := setup(t, open)
		if _, err := b.s.DatasetInfo(b.ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DatasetInfo(nope): err = %v, want ErrNotFound", err)
		}
	})

	t.Run("InvalidPipelineName", func(t *testing.T) {
		b := setup(t, open)
		for _, name := range []string{"", "Titanic", "1abc", `x"; DROP TABLE datasets; --`, "a-b"} {
			err := b.s.DatasetEnsure(b.ctx, &store.DatasetEnsureParams{Pipeline: name, Schema: TitanicSchema()})
			if err == nil {
				t.Errorf("DatasetEnsure(%q): no error for an invalid pipeline name", name)
			}
		}
	})

	t.Run("AddColumns", func(t *testing.T) {
		b := setup(t, open)
		rows1 := Rows(t, b.c, 20, 1)
		b.insert(t, rows1)

		// New names that are not SQL identifiers: storage names must not
		// come from them.
		s2 := TitanicSchema()
		s2.Columns = append(s2.Columns,
			schema.Column{Name: "fare paid", Type: schema.Number, Nullable: true},
			schema.Column{Name: "cabin.deck-x", Type: schema.Category, Nullable: true},
			schema.Column{Name: "siblings", Type: schema.Integer, Nullable: true},
			schema.Column{Name: "alone", Type: schema.Boolean, Nullable: true},
		)
		c2 := MustCompile(t, s2)
		b.ensure(t, TitanicPipeline, s2)
		b.ensure(t, TitanicPipeline, s2) // idempotent
		rows2 := Rows(t, c2, 30, 2)
		if _, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: TitanicPipeline, Schema: c2, Rows: rows2}); err != nil {
			t.Fatalf("BatchInsert with new columns: %v", err)
		}
		// Earlier rows read the new columns as missing.
		b.wantRows(t, c2, append(widen(rows1, c2.Len()), rows2...))
		// The old schema still reads its own columns.
		b.wantRows(t, b.c, append(slices.Clone(rows1), project(rows2, 0, 1, 2, 3, 4)...))
		b.wantInfo(t, TitanicPipeline, 50, 2, 0)
	})

	t.Run("RemoveAndReAddColumn", func(t *testing.T) {
		b := setup(t, open)
		rows1 := Rows(t, b.c, 10, 1)
		b.insert(t, rows1)

		s2 := TitanicSchema()
		s2.Columns = s2.Columns[:4] // without embarked
		c2 := MustCompile(t, s2)
		b.ensure(t, TitanicPipeline, s2)
		rows2 := Rows(t, c2, 10, 2)
		if _, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: TitanicPipeline, Schema: c2, Rows: rows2}); err != nil {
			t.Fatalf("BatchInsert without embarked: %v", err)
		}
		b.wantRows(t, c2, append(project(rows1, 0, 1, 2, 3), rows2...))

		// Re-adding the name with its old type reads the kept values again.
		b.ensure(t, TitanicPipeline, TitanicSchema())
		b.wantRows(t, b.c, append(slices.Clone(rows1), widen(rows2, 5)...))
	})

	t.Run("TypeChangeIsErrSchemaChanged", func(t *testing.T) {
		b := setup(t, open)
		b.insert(t, Rows(t, b.c, 5, 1))

		s2 := TitanicSchema()
		s2.Columns[3].Type = schema.Integer // age: number -> integer
		err := b.s.DatasetEnsure(b.ctx, &store.DatasetEnsureParams{Pipeline: TitanicPipeline, Schema: s2})
		if !errors.Is(err, store.ErrSchemaChanged) {
			t.Fatalf("DatasetEnsure with age as integer: err = %v, want ErrSchemaChanged", err)
		}
		wantErrContains(t, err, "age", "number", "integer")

		// Writing or reading with the changed schema is refused too.
		c2 := MustCompile(t, s2)
		_, err = b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: TitanicPipeline, Schema: c2, Rows: Rows(t, c2, 3, 2)})
		if !errors.Is(err, store.ErrSchemaChanged) {
			t.Fatalf("BatchInsert with age as integer: err = %v, want ErrSchemaChanged", err)
		}
		_, err = b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: TitanicPipeline, Schema: c2})
		if !errors.Is(err, store.ErrSchemaChanged) {
			t.Fatalf("SnapshotRead with age as integer: err = %v, want ErrSchemaChanged", err)
		}

		// A removed column keeps its type: re-adding it as another type fails.
		s3 := TitanicSchema()
		s3.Columns = s3.Columns[:3]
		s3.Columns = append(s3.Columns, TitanicSchema().Columns[4])
		b.ensure(t, TitanicPipeline, s3)
		s4 := s3
		s4.Columns = append(slices.Clone(s3.Columns), schema.Column{Name: "age", Type: schema.Category, Nullable: true})
		err = b.s.DatasetEnsure(b.ctx, &store.DatasetEnsureParams{Pipeline: TitanicPipeline, Schema: s4})
		if !errors.Is(err, store.ErrSchemaChanged) {
			t.Fatalf("DatasetEnsure re-adding age as category: err = %v, want ErrSchemaChanged", err)
		}
		wantErrContains(t, err, "age", "number", "category")
		// The failed change left the data readable.
		b.wantInfo(t, TitanicPipeline, 5, 1, 0)
	})

	t.Run("IgnoredColumnNotStored", func(t *testing.T) {
		b := setup(t, open)
		s := TitanicSchema()
		s.Columns = append(s.Columns, schema.Column{Name: "name", Type: schema.Category, Ignore: true})
		c := MustCompile(t, s)
		b.ensure(t, "people", s)
		rows := Rows(t, c, 10, 3)
		if _, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: "people", Schema: c, Rows: rows}); err != nil {
			t.Fatalf("BatchInsert: %v", err)
		}
		snap, err := b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: "people", Schema: c})
		if err != nil {
			t.Fatalf("SnapshotRead: %v", err)
		}
		if d := DiffRows(c, snap.Rows, rows); d != "" {
			t.Fatalf("snapshot: %s", d)
		}
		for i, r := range snap.Rows {
			if !r[5].Missing {
				t.Fatalf("row %d: ignored column read as %+v, want missing", i, r[5])
			}
		}
		// Storing the column later adds it; earlier rows read it as missing.
		s.Columns[5].Ignore = false
		s.Columns[5].Nullable = true
		b.ensure(t, "people", s)
		c2 := MustCompile(t, s)
		snap, err = b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: "people", Schema: c2})
		if err != nil {
			t.Fatalf("SnapshotRead: %v", err)
		}
		if d := DiffRows(c2, snap.Rows, rows); d != "" {
			t.Fatalf("snapshot after storing the column: %s", d)
		}
	})

	// Column names are data, never SQL: hostile and printable names,
	// timestamps and "other" labels go in and come back unchanged.
	t.Run("TimestampsOtherLabelsAndHostileNames", func(t *testing.T) {
		b := setup(t, open)
		s := schema.Schema{Target: "y", Columns: []schema.Column{
			{Name: "y", Type: schema.Number},
			{Name: `a"; DROP TABLE x; --`, Type: schema.Number, Nullable: true},
			{Name: "od280/od315_of_diluted_wines", Type: schema.Number},
			{Name: "at", Type: schema.Timestamp, Nullable: true},
			{Name: `when'); DELETE FROM batches; --`, Type: schema.Timestamp},
			{Name: "color", Type: schema.Category, Values: []string{"red", "blue"}, Unknown: schema.UnknownOther, Nullable: true},
			{Name: `"`, Type: schema.Category, Nullable: true},
		}}
		c := MustCompile(t, s)
		b.ensure(t, "hostile", s)
		rows := Rows(t, c, 300, 4)
		var other, stamps int
		for _, r := range rows {
			if !r[5].Missing && r[5].Num == -1 {
				other++
			}
			if !r[3].Missing {
				stamps++
			}
		}
		if other == 0 || stamps == 0 {
			t.Fatalf("fixture has %d other labels and %d timestamps, want some of each", other, stamps)
		}
		if _, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: "hostile", Schema: c, Rows: rows}); err != nil {
			t.Fatalf("BatchInsert: %v", err)
		}
		snap, err := b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: "hostile", Schema: c})
		if err != nil {
			t.Fatalf("SnapshotRead: %v", err)
		}
		if d := DiffRows(c, snap.Rows, rows); d != "" {
			t.Fatalf("snapshot: %s", d)
		}
		if got, w := snap.SHA256, store.HashRows(c, rows); got != w {
			t.Fatalf("snapshot SHA256 = %s, want %s", got, w)
		}
		for i, r := range snap.Rows {
			if w := rows[i][4]; r[4].Num != w.Num {
				t.Fatalf("row %d: timestamp %v, want %v exactly", i, r[4].Num, w.Num)
			}
		}
		// The titanic table and the batches are still there.
		b.insert(t, Rows(t, b.c, 3, 5))
		b.wantInfo(t, "hostile", 300, 1, 0)
		b.wantInfo(t, TitanicPipeline, 3, 1, 0)
	})
}

func testBatch(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("InsertAndGet", func(t *testing.T) {
		b := setup(t, open)
		rejects := []*store.Reject{
			reject(3, `{"class": 7}`, schema.FieldErrors{"class": "must be one of 1, 2, 3"}),
			reject(11, "1,2,3", schema.FieldErrors{"_row": "has 3 fields, the header has 5"}),
		}
		res := b.insert(t, Rows(t, b.c, 10, 1), rejects...)
		if res.BatchID <= 0 || res.Accepted != 10 || res.Rejected != 2 || res.Replayed {
			t.Fatalf("BatchInsert = %+v, want a batch id, 10 accepted, 2 rejected", res)
		}
		checkErrors(t, res.Errors, rejects, res.BatchID)

		got, err := b.s.BatchGet(b.ctx, TitanicPipeline, res.BatchID, -1)
		if err != nil {
			t.Fatalf("BatchGet: %v", err)
		}
		if got.BatchID != res.BatchID || got.Accepted != 10 || got.Rejected != 2 || got.Replayed {
			t.Fatalf("BatchGet = %+v", got)
		}
		checkErrors(t, got.Errors, rejects, res.BatchID)

		got, err = b.s.BatchGet(b.ctx, TitanicPipeline, res.BatchID, 1)
		if err != nil || len(got.Errors) != 1 || got.Rejected != 2 || got.Errors[0].Row != 3 {
			t.Fatalf("BatchGet(maxErrors 1) = %+v, %v; want the first of 2 errors", got, err)
		}
		got, err = b.s.BatchGet(b.ctx, TitanicPipeline, res.BatchID, 0)
		if err != nil || len(got.Errors) != 0 || got.Rejected != 2 {
			t.Fatalf("BatchGet(maxErrors 0) = %+v, %v; want no errors, 2 rejected", got, err)
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		b := setup(t, open)
		res := b.insert(t, Rows(t, b.c, 1, 1))
		b.ensure(t, "other", TitanicSchema())
		for _, c := range []struct {
			pipeline string
			id       int64
		}{{TitanicPipeline, res.BatchID + 1}, {"other", res.BatchID}, {"nope", res.BatchID}} {
			if _, err := b.s.BatchGet(b.ctx, c.pipeline, c.id, -1); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("BatchGet(%s, %d): err = %v, want ErrNotFound", c.pipeline, c.id, err)
			}
		}
	})

	t.Run("IDsIncreaseAcrossPipelines", func(t *testing.T) {
		b := setup(t, open)
		b.ensure(t, "other", TitanicSchema())
		var last int64
		for i := range 6 {
			p := []string{TitanicPipeline, "other"}[i%2]
			res, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: p, Schema: b.c, Rows: Rows(t, b.c, 2, uint64(i))})
			if err != nil {
				t.Fatalf("BatchInsert: %v", err)
			}
			if res.BatchID <= last {
				t.Fatalf("batch %d got id %d, not above the previous %d", i, res.BatchID, last)
			}
			last = res.BatchID
		}
	})

	t.Run("ZeroAcceptedGetsID", func(t *testing.T) {
		b := setup(t, open)
		first := b.insert(t, Rows(t, b.c, 1, 1))
		res := b.insert(t, nil, reject(0, "garbage", schema.FieldErrors{"_row": "not a JSON object"}))
		if res.BatchID <= first.BatchID || res.Accepted != 0 || res.Rejected != 1 {
			t.Fatalf("BatchInsert of rejects only = %+v", res)
		}
		q, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: TitanicPipeline})
		if err != nil || len(q) != 1 || q[0].BatchID != res.BatchID {
			t.Fatalf("QuarantineList = %v, %v; want one reject of batch %d", q, err, res.BatchID)
		}
		info := b.wantInfo(t, TitanicPipeline, 1, 2, 1)
		if info.LastBatchID != res.BatchID {
			t.Fatalf("LastBatchID = %d, want %d", info.LastBatchID, res.BatchID)
		}
	})

	t.Run("IdempotencyReplay", func(t *testing.T) {
		b := setup(t, open)
		params := &store.BatchInsertParams{
			Pipeline: TitanicPipeline, Schema: b.c, Source: "http", IdempotencyKey: "req-1", RequestSHA256: "aaaa",
			Rows:    Rows(t, b.c, 7, 1),
			Rejects: []*store.Reject{reject(2, `{"age": -1}`, schema.FieldErrors{"age": "must be a number between 0 and 120"})},
		}
		first, err := b.s.BatchInsert(b.ctx, params)
		if err != nil || first.Replayed {
			t.Fatalf("first BatchInsert = %+v, %v", first, err)
		}
		again, err := b.s.BatchInsert(b.ctx, params)
		if err != nil {
			t.Fatalf("replayed BatchInsert: %v", err)
		}
		if !again.Replayed || again.BatchID != first.BatchID || again.Accepted != 7 || again.Rejected != 1 {
			t.Fatalf("replayed BatchInsert = %+v, want Replayed and batch %d, 7 accepted, 1 rejected", again, first.BatchID)
		}
		checkErrors(t, again.Errors, params.Rejects, first.BatchID)
		b.wantInfo(t, TitanicPipeline, 7, 1, 1)

		// Without a key every request is a new batch.
		params.IdempotencyKey = ""
		for range 2 {
			if res, err := b.s.BatchInsert(b.ctx, params); err != nil || res.Replayed {
				t.Fatalf("BatchInsert without key = %+v, %v", res, err)
			}
		}
		// Keys are per pipeline.
		b.ensure(t, "other", TitanicSchema())
		params.Pipeline, params.IdempotencyKey = "other", "req-1"
		if res, err := b.s.BatchInsert(b.ctx, params); err != nil || res.Replayed {
			t.Fatalf("same key on another pipeline = %+v, %v; want a new batch", res, err)
		}
	})

	t.Run("IdempotencyMismatch", func(t *testing.T) {
		b := setup(t, open)
		params := &store.BatchInsertParams{Pipeline: TitanicPipeline, Schema: b.c, IdempotencyKey: "k", RequestSHA256: "aaaa", Rows: Rows(t, b.c, 3, 1)}
		if _, err := b.s.BatchInsert(b.ctx, params); err != nil {
			t.Fatal(err)
		}
		params.RequestSHA256 = "bbbb"
		params.Rows = Rows(t, b.c, 4, 2)
		if _, err := b.s.BatchInsert(b.ctx, params); !errors.Is(err, store.ErrIdempotencyMismatch) {
			t.Fatalf("reused key with another hash: err = %v, want ErrIdempotencyMismatch", err)
		}
		b.wantInfo(t, TitanicPipeline, 3, 1, 0)
	})

	t.Run("AtomicOnBadRow", func(t *testing.T) {
		b := setup(t, open)
		kept := Rows(t, b.c, 5, 1)
		b.insert(t, kept)
		rows := Rows(t, b.c, 100, 2)
		rows[60] = rows[60][:3] // does not match the schema: fails midway
		_, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{
			Pipeline: TitanicPipeline, Schema: b.c, IdempotencyKey: "k", RequestSHA256: "aaaa", Rows: rows,
			Rejects: []*store.Reject{reject(100, "x", schema.FieldErrors{"_row": "bad"})},
		})
		if err == nil {
			t.Fatal("BatchInsert with a short row: no error")
		}
		b.wantInfo(t, TitanicPipeline, 5, 1, 0)
		b.wantRows(t, b.c, kept)
		if q, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: TitanicPipeline}); err != nil || len(q) != 0 {
			t.Fatalf("QuarantineList after failed batch = %v, %v; want empty", q, err)
		}
		// The key was not recorded: a new request with it is a new batch.
		res, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{
			Pipeline: TitanicPipeline, Schema: b.c, IdempotencyKey: "k", RequestSHA256: "bbbb", Rows: Rows(t, b.c, 2, 3),
		})
		if err != nil || res.Replayed {
			t.Fatalf("BatchInsert reusing the failed batch's key = %+v, %v", res, err)
		}
	})

	t.Run("AtomicOnCancel", func(t *testing.T) {
		b := setup(t, open)
		ctx, cancel := context.WithCancel(b.ctx)
		cancel()
		_, err := b.s.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: TitanicPipeline, Schema: b.c, Rows: Rows(t, b.c, 10, 1)})
		if err == nil {
			t.Fatal("BatchInsert with a cancelled context: no error")
		}
		b.wantInfo(t, TitanicPipeline, 0, 0, 0)

		// Cancelled while running: the context ends once the backend has
		// looked at it a number of times. Whether that falls in the middle
		// depends on the backend; all or nothing must hold either way.
		rows := Rows(t, b.c, 20000, 2)
		for _, after := range []int64{3, 100, 5000} {
			ctx := cancelAfter(b.ctx, after)
			res, err := b.s.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: TitanicPipeline, Schema: b.c, Rows: rows})
			if err == nil {
				t.Logf("cancel after %d checks: batch %d committed first", after, res.BatchID)
				if _, err := b.s.BatchGet(b.ctx, TitanicPipeline, res.BatchID, 0); err != nil {
					t.Fatalf("BatchGet of the committed batch: %v", err)
				}
				continue
			}
			info := b.wantInfo(t, TitanicPipeline, 0, 0, 0)
			if info.LastBatchID != 0 {
				t.Fatalf("cancelled batch left batch %d", info.LastBatchID)
			}
		}
		info, err := b.s.DatasetInfo(b.ctx, TitanicPipeline)
		if err != nil || info.Rows != info.Batches*20000 {
			t.Fatalf("DatasetInfo = %+v, %v; want whole batches only", info, err)
		}
		snap := b.snapshot(t, b.c, 0)
		if len(snap.Rows) != int(info.Rows) {
			t.Fatalf("snapshot has %d rows, info says %d", len(snap.Rows), info.Rows)
		}
		// The store is still usable.
		b.insert(t, Rows(t, b.c, 3, 3))
	})

	t.Run("UnknownPipeline", func(t *testing.T) {
		b := setup(t, open)
		_, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: "nope", Schema: b.c, Rows: Rows(t, b.c, 1, 1)})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("BatchInsert(nope): err = %v, want ErrNotFound", err)
		}
	})

	t.Run("RowsCountAndInfo", func(t *testing.T) {
		b := setup(t, open)
		start := time.Now().Add(-time.Minute)
		r1 := b.insert(t, Rows(t, b.c, 4, 1))
		r2 := b.insert(t, Rows(t, b.c, 5, 2), reject(0, "x", nil))
		r3 := b.insert(t, Rows(t, b.c, 6, 3))
		for _, c := range []struct{ after, want int64 }{{0, 15}, {r1.BatchID, 11}, {r2.BatchID, 6}, {r3.BatchID, 0}} {
			n, err := b.s.RowsCount(b.ctx, &store.RowsCountParams{Pipeline: TitanicPipeline, AfterBatch: c.after})
			if err != nil || n != c.want {
				t.Errorf("RowsCount(after %d) = %d, %v; want %d", c.after, n, err, c.want)
			}
		}
		if _, err := b.s.RowsCount(b.ctx, &store.RowsCountParams{Pipeline: "nope"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RowsCount(nope): err = %v, want ErrNotFound", err)
		}
		info := b.wantInfo(t, TitanicPipeline, 15, 3, 1)
		if info.LastBatchID != r3.BatchID || info.LastBatchAt == nil {
			t.Fatalf("DatasetInfo = %+v, want last batch %d with a time", info, r3.BatchID)
		}
		if at := *info.LastBatchAt; at.Location() != time.UTC || at.Before(start) || at.After(time.Now().Add(time.Minute)) {
			t.Fatalf("LastBatchAt = %v, want a UTC time of now", at)
		}
	})
}

// checkErrors compares stored rejects with what was sent, in row order.
func checkErrors(t *testing.T, got, sent []*store.Reject, batchID int64) {
	t.Helper()
	want := slices.Clone(sent)
	slices.SortFunc(want, func(a, b *store.Reject) int { return a.Row - b.Row })
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Row != w.Row || g.Raw != w.Raw || g.BatchID != batchID || g.CreatedAt.IsZero() || len(g.Fields) != len(w.Fields) {
			t.Fatalf("error %d = %+v, want row %d raw %q fields %v of batch %d", i, g, w.Row, w.Raw, w.Fields, batchID)
		}
		for k, v := range w.Fields {
			if g.Fields[k] != v {
				t.Fatalf("error %d field %s = %q, want %q", i, k, g.Fields[k], v)
			}
		}
	}
}

func testQuarantine(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("NewestFirstFilterLimit", func(t *testing.T) {
		b := setup(t, open)
		r1 := b.insert(t, nil, reject(0, "a", schema.FieldErrors{"sex": "must be one of male, female"}), reject(1, "b", nil))
		r2 := b.insert(t, Rows(t, b.c, 1, 1), reject(5, "c", schema.FieldErrors{"age": "is required"}))

		all, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: TitanicPipeline})
		if err != nil {
			t.Fatalf("QuarantineList: %v", err)
		}
		if len(all) != 3 || all[0].Raw != "c" || all[0].BatchID != r2.BatchID || all[2].BatchID != r1.BatchID {
			t.Fatalf("QuarantineList = %v, want c (batch %d) first and 3 in all", all, r2.BatchID)
		}
		if all[0].Row != 5 || all[0].Fields["age"] != "is required" || all[0].CreatedAt.IsZero() {
			t.Fatalf("newest reject = %+v", all[0])
		}

		one, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: TitanicPipeline, BatchID: r1.BatchID})
		if err != nil || len(one) != 2 || one[0].BatchID != r1.BatchID || one[1].BatchID != r1.BatchID {
			t.Fatalf("QuarantineList(batch %d) = %v, %v", r1.BatchID, one, err)
		}
		lim, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: TitanicPipeline, Limit: 1})
		if err != nil || len(lim) != 1 || lim[0].Raw != "c" {
			t.Fatalf("QuarantineList(limit 1) = %v, %v", lim, err)
		}
	})

	t.Run("UnknownPipelineEmpty", func(t *testing.T) {
		b := setup(t, open)
		q, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: "nope"})
		if err != nil || len(q) != 0 {
			t.Fatalf("QuarantineList(nope) = %v, %v; want empty", q, err)
		}
	})
}

// countdownCtx is cancelled once its Done or Err method has been called
// n times: a cancellation in the middle of a call, without timing.
type countdownCtx struct {
	context.Context
	cancel context.CancelFunc
	left   atomic.Int64
}

func cancelAfter(parent context.Context, n int64) context.Context {
	ctx, cancel := context.WithCancel(parent)
	c := &countdownCtx{Context: ctx, cancel: cancel}
	c.left.Store(n)
	return c
}

func (c *countdownCtx) tick() {
	if c.left.Add(-1) <= 0 {
		c.cancel()
	}
}

func (c *countdownCtx) Done() <-chan struct{} { c.tick(); return c.Context.Done() }

func (c *countdownCtx) Err() error { c.tick(); return c.Context.Err() }
