package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// testQuarantinePaging checks that a reject keeps its file line and that
// pages by ID walk the quarantine newest first without gaps or repeats.
func testQuarantinePaging(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("LinesAndPages", func(t *testing.T) {
		b := setup(t, open)
		for i := range 5 {
			r := reject(i, "raw"+string(rune('a'+i)), schema.FieldErrors{"sex": "must be one of male, female"})
			r.Line = i + 2
			b.insert(t, nil, r)
		}
		var seen []string
		var before int64
		for page := 0; page < 5; page++ {
			got, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: TitanicPipeline, Limit: 2, Before: before})
			if err != nil {
				t.Fatalf("QuarantineList(before %d): %v", before, err)
			}
			if len(got) == 0 {
				break
			}
			for _, r := range got {
				if r.ID <= 0 || (before != 0 && r.ID >= before) {
					t.Fatalf("row id %d on the page before %d", r.ID, before)
				}
				if want := int(r.Raw[3]-'a') + 2; r.Line != want {
					t.Fatalf("row %q: line %d, want %d", r.Raw, r.Line, want)
				}
				seen = append(seen, r.Raw)
			}
			before = got[len(got)-1].ID
		}
		if want := "[rawe rawd rawc rawb rawa]"; fmt.Sprint(seen) != want {
			t.Fatalf("pages gave %v, want %s", seen, want)
		}
	})
}

// testQuarantineReplay checks that pending rows come with their batch's
// format and header, and that a replay moves a row once.
func testQuarantineReplay(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Once", func(t *testing.T) {
		b := setup(t, open)
		header := "survived,class,sex,age,embarked"
		res, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{
			Pipeline: TitanicPipeline, Schema: b.c, Source: "test", Format: "csv", Header: header,
			Rejects: []*store.Reject{
				{Row: 0, Line: 2, Raw: "1,1,X,22,S", Fields: schema.FieldErrors{"sex": "must be one of male, female"}},
				{Row: 1, Line: 3, Raw: "0,3,Y,30,C", Fields: schema.FieldErrors{"sex": "must be one of male, female"}},
			},
		})
		if err != nil {
			t.Fatalf("BatchInsert: %v", err)
		}
		pending, err := b.s.QuarantinePending(b.ctx, &store.QuarantinePendingParams{Pipeline: TitanicPipeline})
		if err != nil {
			t.Fatalf("QuarantinePending: %v", err)
		}
		if len(pending) != 2 || pending[0].Raw != "1,1,X,22,S" || pending[0].Format != "csv" || pending[0].Header != header ||
			pending[0].Line != 2 || pending[0].BatchID != res.BatchID || pending[1].ID <= pending[0].ID {
			t.Fatalf("QuarantinePending = %+v, want both rows oldest first with format csv and the header", pending)
		}
		rows := Rows(t, b.c, 1, 7)
		rep, err := b.s.QuarantineReplay(b.ctx, &store.QuarantineReplayParams{
			Pipeline: TitanicPipeline, Schema: b.c, Source: "replay", Rows: rows, IDs: []int64{pending[0].ID},
		})
		if err != nil {
			t.Fatalf("QuarantineReplay: %v", err)
		}
		if rep.BatchID <= res.BatchID || rep.Accepted != 1 || rep.Rejected != 0 {
			t.Fatalf("QuarantineReplay = %+v, want a new batch of 1 row", rep)
		}
		b.wantRows(t, b.c, rows)

		// Again: the row is gone from the pending list, and replaying it is
		// refused without writing anything.
		again, err := b.s.QuarantinePending(b.ctx, &store.QuarantinePendingParams{Pipeline: TitanicPipeline})
		if err != nil || len(again) != 1 || again[0].ID != pending[1].ID {
			t.Fatalf("QuarantinePending after replay = %+v, %v; want only the second row", again, err)
		}
		_, err = b.s.QuarantineReplay(b.ctx, &store.QuarantineReplayParams{
			Pipeline: TitanicPipeline, Schema: b.c, Source: "replay", Rows: rows, IDs: []int64{pending[0].ID},
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second replay of row %d: err = %v, want ErrConflict", pending[0].ID, err)
		}
		b.wantRows(t, b.c, rows)

		// The quarantine keeps the history: both rows, one marked.
		all, err := b.s.QuarantineList(b.ctx, &store.QuarantineListParams{Pipeline: TitanicPipeline})
		if err != nil || len(all) != 2 {
			t.Fatalf("QuarantineList = %v, %v; want both rows", all, err)
		}
		if all[1].ReplayedBatchID != rep.BatchID || all[0].ReplayedBatchID != 0 {
			t.Fatalf("replayed marks %d, %d; want 0 and %d", all[0].ReplayedBatchID, all[1].ReplayedBatchID, rep.BatchID)
		}
	})
}

// testRollbackReason checks that a rollback's log entry keeps the reason
// of the promotion it undoes, next to its own.
func testRollbackReason(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("KeepsUndoneReason", func(t *testing.T) {
		b := setup(t, open)
		for range 3 {
			b.newVersion(t, TitanicPipeline, 0)
		}
		b.promote(t, 1, store.ActionAuto)
		b.promote(t, 2, store.ActionAuto)
		p := b.rollback(t) // reason "bad predictions"
		wantPromotion(t, p, 2, 1, store.ActionRollback)
		for _, want := range []string{"bad predictions", "promote 2"} {
			if !strings.Contains(p.Reason, want) {
				t.Errorf("rollback reason %q lacks %q", p.Reason, want)
			}
		}
		log, err := b.s.PromotionList(b.ctx, TitanicPipeline)
		if err != nil || len(log) != 3 || log[0].Reason != p.Reason {
			t.Fatalf("PromotionList = %+v, %v; want the rollback first with its reason", log, err)
		}

		// Without a reason of its own, it still says what it undid.
		b.promote(t, 3, store.ActionPromote)
		p, err = b.s.VersionRollback(b.ctx, &store.VersionRollbackParams{Pipeline: TitanicPipeline, Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Reason, "promote 3") || !strings.Contains(p.Reason, "v3") {
			t.Errorf("rollback without a reason: %q, want it to name v3 and its promotion's reason", p.Reason)
		}
	})
}
