package storetest

import (
	"errors"
	"testing"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

func testSnapshot(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("OrderAndTypes", func(t *testing.T) {
		b := setup(t, open)
		raw := func(s, c, x, a, e string) map[string]schema.Raw {
			m := map[string]schema.Raw{"survived": {Text: s}, "class": {Text: c}, "sex": {Text: x}}
			if a != "" {
				m["age"] = schema.Raw{Text: a}
			}
			if e != "" {
				m["embarked"] = schema.Raw{Text: e}
			}
			return m
		}
		var want []schema.Row
		for _, m := range []map[string]schema.Raw{
			raw("1", "3", "F", "22.5", "S"),
			raw("0", "1.0", "male", "", ""),
			raw("0", "2", "M", "0", "c"),
		} {
			row, fe := b.c.RowFromMap(m)
			if fe != nil {
				t.Fatalf("fixture: %v", fe)
			}
			want = append(want, row)
		}
		r1 := b.insert(t, want[:2])
		b.insert(t, want[2:])
		more := Rows(t, b.c, 50, 7)
		r3 := b.insert(t, more)
		want = append(want, more...)

		snap := b.wantRows(t, b.c, want)
		if snap.Watermark != r3.BatchID {
			t.Fatalf("Watermark = %d, want the last batch %d", snap.Watermark, r3.BatchID)
		}
		first := snap.Rows[0]
		for i, w := range []schema.Value{{Num: 1, Str: "1"}, {Num: 2, Str: "3"}, {Num: 1, Str: "female"}, {Num: 22.5}, {Num: 1, Str: "S"}} {
			if first[i] != w {
				t.Errorf("row 0 column %s = %+v, want %+v", b.c.Column(i).Name, first[i], w)
			}
		}
		if second := snap.Rows[1]; !second[3].Missing || !second[4].Missing || second[1] != (schema.Value{Num: 0, Str: "1"}) {
			t.Errorf("row 1 = %+v, want class 1 (index 0), age and embarked missing", second)
		}
		if r1.BatchID >= snap.Watermark {
			t.Fatalf("batch ids %d, %d not increasing", r1.BatchID, snap.Watermark)
		}
	})

	t.Run("Watermark", func(t *testing.T) {
		b := setup(t, open)
		rows1, rows2, rows3 := Rows(t, b.c, 3, 1), Rows(t, b.c, 4, 2), Rows(t, b.c, 5, 3)
		r1 := b.insert(t, rows1)
		r2 := b.insert(t, rows2)
		before := b.snapshot(t, b.c, 0)
		b.insert(t, rows3)

		snap := b.snapshot(t, b.c, r2.BatchID)
		if d := DiffRows(b.c, snap.Rows, append(rows1, rows2...)); d != "" {
			t.Fatalf("snapshot at batch %d: %s", r2.BatchID, d)
		}
		if snap.Watermark != r2.BatchID || snap.SHA256 != before.SHA256 {
			t.Fatalf("snapshot at %d = watermark %d hash %s; want %d and the hash read before batch 3 (%s)",
				r2.BatchID, snap.Watermark, snap.SHA256, r2.BatchID, before.SHA256)
		}
		snap = b.snapshot(t, b.c, r1.BatchID)
		if d := DiffRows(b.c, snap.Rows, rows1); d != "" {
			t.Fatalf("snapshot at batch %d: %s", r1.BatchID, d)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		b := setup(t, open)
		snap := b.snapshot(t, b.c, 0)
		if len(snap.Rows) != 0 || snap.Watermark != 0 || snap.SHA256 != store.HashRows(b.c, nil) {
			t.Fatalf("empty snapshot = %d rows, watermark %d, hash %s", len(snap.Rows), snap.Watermark, snap.SHA256)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		b := setup(t, open)
		_, err := b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: "nope", Schema: b.c})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SnapshotRead(nope): err = %v, want ErrNotFound", err)
		}
	})

	t.Run("HashStableAndContentBased", func(t *testing.T) {
		b := setup(t, open)
		rows := Rows(t, b.c, 40, 1)
		b.insert(t, rows[:15])
		b.insert(t, rows[15:])
		b.ensure(t, "same", TitanicSchema())
		b.ensure(t, "different", TitanicSchema())
		if _, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: "same", Schema: b.c, Rows: rows}); err != nil {
			t.Fatal(err)
		}
		other := Rows(t, b.c, 40, 1)
		other[39][3] = schema.Value{Num: 99.5} // one value differs
		if _, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: "different", Schema: b.c, Rows: other}); err != nil {
			t.Fatal(err)
		}
		read := func(p string) string {
			snap, err := b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: p, Schema: b.c})
			if err != nil {
				t.Fatalf("SnapshotRead(%s): %v", p, err)
			}
			return snap.SHA256
		}
		h1, h2 := read(TitanicPipeline), read(TitanicPipeline)
		if h1 != h2 || h1 != store.HashRows(b.c, rows) {
			t.Fatalf("two reads: hashes %s, %s; want both %s", h1, h2, store.HashRows(b.c, rows))
		}
		if h := read("same"); h != h1 {
			t.Fatalf("same rows in other batches: hash %s, want %s", h, h1)
		}
		if h := read("different"); h == h1 {
			t.Fatalf("different rows: same hash %s", h)
		}
	})

	t.Run("UndeclaredLabels", func(t *testing.T) {
		b := setup(t, open)
		rows := Rows(t, b.c, 60, 4)
		b.insert(t, rows)

		// class 1 is no longer declared and 3 comes first.
		s := TitanicSchema()
		s.Columns[1].Values = []string{"3", "2"}
		c := MustCompile(t, s)
		snap := b.snapshot(t, c, 0)
		// embarked open: any label, index -1.
		s.Columns[4].Values = nil
		openCat := MustCompile(t, s)
		snapOpen := b.snapshot(t, openCat, 0)
		for i, r := range snap.Rows {
			label := rows[i][1].Str
			want := map[string]float64{"3": 0, "2": 1, "1": -1}[label]
			if got := r[1]; got.Str != label || got.Num != want || got.Missing {
				t.Fatalf("row %d class = %+v, want label %q index %v", i, got, label, want)
			}
			e, w := snapOpen.Rows[i][4], rows[i][4]
			if e.Missing != w.Missing || (!w.Missing && (e.Str != w.Str || e.Num != -1)) {
				t.Fatalf("row %d open embarked = %+v, want label %q index -1 (sent %+v)", i, e, w.Str, w)
			}
		}
	})

	t.Run("ConsistentWhileWriting", func(t *testing.T) {
		b := setup(t, open)
		const batches, per = 25, 40
		const age = 3
		var input [][]schema.Row
		for j := range batches {
			rows := Rows(t, b.c, per, uint64(j))
			for _, r := range rows {
				r[age] = schema.Value{Num: float64(j)} // marks the batch
			}
			input = append(input, rows)
		}
		ids := make([]int64, batches)
		done := make(chan error, 1)
		go func() {
			for j, rows := range input {
				res, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{Pipeline: TitanicPipeline, Schema: b.c, Rows: rows})
				if err != nil {
					done <- err
					return
				}
				ids[j] = res.BatchID
			}
			done <- nil
		}()

		type seen struct {
			watermark int64
			n         int
			sha       string
		}
		var snaps []seen
		var werr error
		for writing := true; writing; {
			select {
			case werr = <-done:
				writing = false
			default:
			}
			snap, err := b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: TitanicPipeline, Schema: b.c})
			if err != nil {
				if writing {
					<-done
				}
				t.Fatalf("SnapshotRead while writing: %v", err)
			}
			// Only whole batches, in order.
			if len(snap.Rows)%per != 0 {
				t.Errorf("snapshot of %d rows is not whole batches of %d", len(snap.Rows), per)
			}
			for i, r := range snap.Rows {
				if r[age].Num != float64(i/per) {
					t.Errorf("snapshot row %d is from batch %v, want %d", i, r[age].Num, i/per)
					break
				}
			}
			snaps = append(snaps, seen{snap.Watermark, len(snap.Rows), snap.SHA256})
		}
		if werr != nil {
			t.Fatalf("BatchInsert while reading: %v", werr)
		}
		t.Logf("%d snapshots during %d batches", len(snaps), batches)
		for _, s := range snaps {
			n := s.n / per
			if (n == 0 && s.watermark != 0) || (n > 0 && s.watermark != ids[n-1]) {
				t.Fatalf("snapshot of %d batches has watermark %d, want %v", n, s.watermark, ids[max(n-1, 0)])
			}
			if n == 0 {
				continue
			}
			again := b.snapshot(t, b.c, s.watermark)
			if len(again.Rows) != s.n || again.SHA256 != s.sha {
				t.Fatalf("re-read at watermark %d: %d rows hash %s, want %d rows hash %s", s.watermark, len(again.Rows), again.SHA256, s.n, s.sha)
			}
		}
	})
}
