package postgres

import (
	"errors"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/storetest"
)

// TestConcurrentIngestSnapshots ingests from several pools (processes) at
// once into one pipeline, and into another pipeline in between, while a
// third pool reads snapshots. Every snapshot holds whole batches, and
// re-reading it at its watermark after all writers are done gives the same
// rows: no batch with an id at or below a snapshot's watermark committed
// after it (DESIGN §5).
func TestConcurrentIngestSnapshots(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	name := newSchema(t)
	writers := []*DB{openSchema(t, name, nil), openSchema(t, name, nil)}
	reader := openSchema(t, name, nil)
	if err := reader.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := titanic(t, reader)
	if err := reader.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: "other", Schema: c.Schema()}); err != nil {
		t.Fatal(err)
	}

	const workers, batches, per = 6, 8, 150
	const age = 3 // marks the batch: worker*batches + j
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		db := writers[w%len(writers)]
		wg.Go(func() {
			for j := range batches {
				rows := storetest.Rows(t, c, per, uint64(w*batches+j))
				for _, r := range rows {
					r[age] = schema.Value{Num: float64(w*batches + j)}
				}
				p := storetest.TitanicPipeline
				if j%3 == 2 {
					p = "other"
				}
				if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: p, Schema: c, Rows: rows}); err != nil {
					errs <- err
					return
				}
			}
		})
	}

	type seen struct {
		watermark int64
		n         int
		sha       string
	}
	var snaps []seen
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for writing := true; writing; {
		select {
		case <-done:
			writing = false
		default:
		}
		snap, err := reader.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: storetest.TitanicPipeline, Schema: c})
		if err != nil {
			t.Fatalf("SnapshotRead while writing: %v", err)
		}
		if len(snap.Rows)%per != 0 {
			t.Fatalf("snapshot of %d rows is not whole batches of %d", len(snap.Rows), per)
		}
		for g := 0; g < len(snap.Rows); g += per {
			for _, r := range snap.Rows[g : g+per] {
				if r[age] != snap.Rows[g][age] {
					t.Fatalf("snapshot mixes batches %v and %v", snap.Rows[g][age].Num, r[age].Num)
				}
			}
		}
		snaps = append(snaps, seen{snap.Watermark, len(snap.Rows), snap.SHA256})
	}
	close(errs)
	for err := range errs {
		t.Fatalf("BatchInsert: %v", err)
	}
	t.Logf("%d snapshots during ingestion", len(snaps))
	for _, s := range snaps {
		if s.watermark == 0 {
			continue
		}
		again, err := reader.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: storetest.TitanicPipeline, Schema: c, Watermark: s.watermark})
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Rows) != s.n || again.SHA256 != s.sha {
			t.Fatalf("re-read at watermark %d: %d rows, hash %s; the snapshot read %d rows, hash %s",
				s.watermark, len(again.Rows), again.SHA256, s.n, s.sha)
		}
	}
	want := int64(workers * per * (batches - batches/3)) // every third batch went to "other"
	info, err := reader.DatasetInfo(ctx, storetest.TitanicPipeline)
	if err != nil || info.Rows != want {
		t.Fatalf("DatasetInfo = %+v, %v; want %d rows", info, err, want)
	}
}

// TestIdempotencyRace sends one request with an Idempotency-Key from
// several pools at once: exactly one batch is written, every other call
// returns it replayed, and a racer with another body is refused.
func TestIdempotencyRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	name := newSchema(t)
	dbs := []*DB{openSchema(t, name, nil), openSchema(t, name, nil), openSchema(t, name, nil)}
	if err := dbs[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := titanic(t, dbs[0])
	rows := storetest.Rows(t, c, 2000, 1)
	rejects := []*store.Reject{{Row: 5, Raw: "bad", Fields: schema.FieldErrors{"age": "is required"}}}
	const n = 9
	results := make([]*store.BatchResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			hash := "same"
			if i == n-1 {
				hash = "other"
			}
			results[i], errs[i] = dbs[i%len(dbs)].BatchInsert(ctx, &store.BatchInsertParams{
				Pipeline: storetest.TitanicPipeline, Schema: c, IdempotencyKey: "req-1", RequestSHA256: hash,
				Rows: rows, Rejects: rejects,
			})
		})
	}
	close(start)
	wg.Wait()
	// Either the other body won and every same-body call is refused, or
	// one same-body call wrote the batch, the others replayed it and the
	// other body is refused.
	otherWon := errs[n-1] == nil
	fresh, batchID := 0, int64(0)
	for i := range n - 1 {
		if otherWon {
			if !errors.Is(errs[i], store.ErrIdempotencyMismatch) {
				t.Fatalf("BatchInsert #%d after the other body won: err = %v, want ErrIdempotencyMismatch", i, errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("BatchInsert #%d: %v", i, errs[i])
		}
		r := results[i]
		if !r.Replayed {
			fresh++
		}
		if batchID != 0 && r.BatchID != batchID {
			t.Fatalf("BatchInsert #%d = batch %d, another call got %d", i, r.BatchID, batchID)
		}
		batchID = r.BatchID
		if r.Accepted != int64(len(rows)) || r.Rejected != 1 || len(r.Errors) != 1 || r.Errors[0].Row != 5 {
			t.Fatalf("BatchInsert #%d = %+v", i, r)
		}
	}
	switch {
	case otherWon && results[n-1].Replayed:
		t.Fatalf("the request with another body replayed batch %d", results[n-1].BatchID)
	case !otherWon && !errors.Is(errs[n-1], store.ErrIdempotencyMismatch):
		t.Fatalf("BatchInsert with another body: err = %v, want ErrIdempotencyMismatch", errs[n-1])
	case !otherWon && fresh != 1:
		t.Fatalf("%d calls wrote a batch, want 1", fresh)
	}
	info, err := dbs[1].DatasetInfo(ctx, storetest.TitanicPipeline)
	if err != nil || info.Batches != 1 || info.Rows != int64(len(rows)) || info.Quarantined != 1 {
		t.Fatalf("DatasetInfo = %+v, %v; want one batch of %d rows", info, err, len(rows))
	}
	snap, err := dbs[2].SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: storetest.TitanicPipeline, Schema: c})
	if err != nil || len(snap.Rows) != len(rows) {
		t.Fatalf("SnapshotRead = %d rows, %v", len(snap.Rows), err)
	}
}
