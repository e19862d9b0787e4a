package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/store"
)

func (b *testBundle) runCreate(t *testing.T, pipeline, reason string) *store.Run {
	t.Helper()
	r, err := b.s.RunCreate(b.ctx, &store.RunCreateParams{Pipeline: pipeline, Reason: reason})
	if err != nil {
		t.Fatalf("RunCreate: %v", err)
	}
	return r
}

func testRun(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CreateDedupesQueued", func(t *testing.T) {
		b := setup(t, open)
		start := time.Now().Add(-time.Minute)
		r := b.runCreate(t, TitanicPipeline, store.ReasonSchedule)
		if r.ID <= 0 || r.State != store.RunQueued || r.Reason != store.ReasonSchedule || r.Existing || r.Attempt != 0 ||
			r.StartedAt != nil || r.FinishedAt != nil || r.Pipeline != TitanicPipeline {
			t.Fatalf("RunCreate = %+v, want a new queued run", r)
		}
		if r.CreatedAt.Location() != time.UTC || r.CreatedAt.Before(start) {
			t.Fatalf("CreatedAt = %v, want a UTC time of now", r.CreatedAt)
		}
		again := b.runCreate(t, TitanicPipeline, store.ReasonNewRows)
		if again.ID != r.ID || !again.Existing || again.Reason != store.ReasonSchedule {
			t.Fatalf("RunCreate with one queued = %+v, want run %d with Existing", again, r.ID)
		}
		other := b.runCreate(t, "other", store.ReasonManual)
		if other.ID == r.ID || other.Existing {
			t.Fatalf("RunCreate of another pipeline = %+v, want a new run", other)
		}
		got, err := b.s.RunGet(b.ctx, r.ID)
		if err != nil || got.ID != r.ID || got.State != store.RunQueued || got.Existing {
			t.Fatalf("RunGet = %+v, %v", got, err)
		}
	})

	t.Run("ConcurrentCreateQueuesOne", func(t *testing.T) {
		b := setup(t, open)
		const n = 8
		runs := make([]*store.Run, n)
		errs := parallel(n, func(i int) error {
			r, err := b.s.RunCreate(b.ctx, &store.RunCreateParams{Pipeline: TitanicPipeline, Reason: store.ReasonNewRows})
			runs[i] = r
			return err
		})
		fresh := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("RunCreate #%d: %v", i, err)
			}
			if runs[i].ID != runs[0].ID {
				t.Fatalf("RunCreate #%d = run %d, #0 = run %d; want one queued run", i, runs[i].ID, runs[0].ID)
			}
			if !runs[i].Existing {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d calls created the run, want 1", fresh)
		}
		list, err := b.s.RunList(b.ctx, &store.RunListParams{Pipeline: TitanicPipeline})
		if err != nil || len(list) != 1 {
			t.Fatalf("RunList = %v, %v; want one run", list, err)
		}
	})

	t.Run("Lifecycle", func(t *testing.T) {
		b := setup(t, open)
		r := b.runCreate(t, TitanicPipeline, store.ReasonManual)
		started, err := b.s.RunStart(b.ctx, &store.RunStartParams{ID: r.ID})
		if err != nil || started.State != store.RunRunning || started.Attempt != 1 || started.StartedAt == nil {
			t.Fatalf("RunStart = %+v, %v; want running, attempt 1, started", started, err)
		}
		// A running run is not queued: a new one can queue behind it.
		next := b.runCreate(t, TitanicPipeline, store.ReasonNewRows)
		if next.ID == r.ID || next.Existing {
			t.Fatalf("RunCreate while one runs = %+v, want a new queued run", next)
		}

		failed, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: r.ID, State: store.RunFailed, Error: "fit: singular matrix"})
		if err != nil || failed.State != store.RunFailed || failed.Error != "fit: singular matrix" || failed.FinishedAt == nil {
			t.Fatalf("RunFinish(failed) = %+v, %v", failed, err)
		}
		// A retried job starts the run again.
		retry, err := b.s.RunStart(b.ctx, &store.RunStartParams{ID: r.ID})
		if err != nil || retry.State != store.RunRunning || retry.Attempt != 2 {
			t.Fatalf("RunStart retry = %+v, %v; want running, attempt 2", retry, err)
		}
		// A failed attempt that will be retried: the run stays running.
		attempt, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: r.ID, State: store.RunRunning, Error: "read snapshot: timeout"})
		if err != nil || attempt.State != store.RunRunning || attempt.Error != "read snapshot: timeout" ||
			attempt.FinishedAt != nil || attempt.Attempt != 2 {
			t.Fatalf("RunFinish(running) = %+v, %v; want running with the error, not finished, attempt 2", attempt, err)
		}
		// Its trainer stopped during the attempt: interrupted, not finished,
		// and read back so by RunGet and RunList.
		stopped, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: r.ID, State: store.RunInterrupted, Error: "the trainer stopped"})
		if err != nil || stopped.State != store.RunInterrupted || stopped.FinishedAt != nil || stopped.Attempt != 2 || stopped.Error != "the trainer stopped" {
			t.Fatalf("RunFinish(interrupted) = %+v, %v; want interrupted with the error, not finished, attempt 2", stopped, err)
		}
		if got, err := b.s.RunGet(b.ctx, r.ID); err != nil || got.State != store.RunInterrupted {
			t.Fatalf("RunGet of an interrupted run = %+v, %v", got, err)
		}
		if list, err := b.s.RunList(b.ctx, &store.RunListParams{Pipeline: TitanicPipeline}); err != nil || len(list) != 2 || list[1].State != store.RunInterrupted {
			t.Fatalf("RunList with an interrupted run = %+v, %v", list, err)
		}
		// The next attempt makes it running again.
		retry, err = b.s.RunStart(b.ctx, &store.RunStartParams{ID: r.ID})
		if err != nil || retry.State != store.RunRunning || retry.Attempt != 3 {
			t.Fatalf("RunStart from interrupted = %+v, %v; want running, attempt 3", retry, err)
		}
		done, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{
			ID: r.ID, State: store.RunSucceeded, Version: 4, ArtifactSHA256: "cafe", Message: "promoted",
			DataWatermark: 12, DataRows: 891,
		})
		if err != nil {
			t.Fatalf("RunFinish(succeeded): %v", err)
		}
		if done.State != store.RunSucceeded || done.Version != 4 || done.ArtifactSHA256 != "cafe" || done.Message != "promoted" || done.Error != "" ||
			done.DataWatermark != 12 || done.DataRows != 891 || done.FinishedAt == nil || done.StartedAt == nil ||
			done.Attempt != 3 || done.Reason != store.ReasonManual {
			t.Fatalf("RunFinish(succeeded) = %+v", done)
		}
		if done.FinishedAt.Before(*done.StartedAt) || done.FinishedAt.Location() != time.UTC {
			t.Fatalf("finished %v before started %v, or not UTC", done.FinishedAt, done.StartedAt)
		}
		got, err := b.s.RunGet(b.ctx, r.ID)
		if err != nil || got.State != store.RunSucceeded || got.Version != 4 {
			t.Fatalf("RunGet = %+v, %v", got, err)
		}
		// A succeeded run does not start again.
		if _, err := b.s.RunStart(b.ctx, &store.RunStartParams{ID: r.ID}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("RunStart of a succeeded run: err = %v, want ErrConflict", err)
		}
		for _, st := range []store.RunState{store.RunFailed, store.RunRunning, store.RunSucceeded} {
			if _, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: r.ID, State: st}); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("RunFinish(%s) of a succeeded run: err = %v, want ErrConflict", st, err)
			}
		}
		if _, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: next.ID, State: store.RunQueued}); err == nil {
			t.Fatal("RunFinish with state queued: no error")
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		b := setup(t, open)
		if _, err := b.s.RunGet(b.ctx, 99); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RunGet(99): err = %v, want ErrNotFound", err)
		}
		if _, err := b.s.RunStart(b.ctx, &store.RunStartParams{ID: 99}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RunStart(99): err = %v, want ErrNotFound", err)
		}
		if _, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: 99, State: store.RunFailed}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RunFinish(99): err = %v, want ErrNotFound", err)
		}
	})

	t.Run("ListNewestFirst", func(t *testing.T) {
		b := setup(t, open)
		var ids []int64
		for i := range 4 {
			p := []string{TitanicPipeline, "other"}[i%2]
			r := b.runCreate(t, p, store.ReasonManual)
			ids = append(ids, r.ID)
			if _, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: r.ID, State: store.RunFailed, Error: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := b.s.RunList(b.ctx, &store.RunListParams{})
		if err != nil || len(all) != 4 || all[0].ID != ids[3] || all[3].ID != ids[0] {
			t.Fatalf("RunList = %v, %v; want 4 newest first", all, err)
		}
		mine, err := b.s.RunList(b.ctx, &store.RunListParams{Pipeline: TitanicPipeline})
		if err != nil || len(mine) != 2 || mine[0].ID != ids[2] || mine[1].ID != ids[0] {
			t.Fatalf("RunList(titanic) = %v, %v", mine, err)
		}
		one, err := b.s.RunList(b.ctx, &store.RunListParams{Limit: 1})
		if err != nil || len(one) != 1 || one[0].ID != ids[3] {
			t.Fatalf("RunList(limit 1) = %v, %v", one, err)
		}
		if none, err := b.s.RunList(b.ctx, &store.RunListParams{Pipeline: "nope"}); err != nil || len(none) != 0 {
			t.Fatalf("RunList(nope) = %v, %v; want empty", none, err)
		}
	})
}

func testLease(t *testing.T, open func(t *testing.T) store.Store) {
	lease := func(holder string, ttl time.Duration) *store.LeaseParams {
		return &store.LeaseParams{Name: "train:titanic", Holder: holder, TTL: ttl}
	}
	t.Run("AcquireRenewRelease", func(t *testing.T) {
		b := setup(t, open)
		acquire := func(holder string, want bool) {
			t.Helper()
			got, err := b.s.LeaseAcquire(b.ctx, lease(holder, time.Hour))
			if err != nil || got != want {
				t.Fatalf("LeaseAcquire(%s) = %v, %v; want %v", holder, got, err, want)
			}
		}
		acquire("a", true)
		acquire("b", false)
		acquire("a", true) // renew
		// Another lease name is independent.
		if got, err := b.s.LeaseAcquire(b.ctx, &store.LeaseParams{Name: "train:other", Holder: "b", TTL: time.Hour}); err != nil || !got {
			t.Fatalf("LeaseAcquire(other name) = %v, %v; want true", got, err)
		}
		// Releasing a lease one does not hold changes nothing.
		if err := b.s.LeaseRelease(b.ctx, lease("b", 0)); err != nil {
			t.Fatalf("LeaseRelease by non-holder: %v", err)
		}
		acquire("b", false)
		if err := b.s.LeaseRelease(b.ctx, lease("a", 0)); err != nil {
			t.Fatalf("LeaseRelease: %v", err)
		}
		acquire("b", true)
		acquire("a", false)
		if err := b.s.LeaseRelease(b.ctx, lease("nobody", 0)); err != nil {
			t.Fatalf("LeaseRelease of a lease not held: %v", err)
		}
	})

	t.Run("Get", func(t *testing.T) {
		b := setup(t, open)
		if _, err := b.s.LeaseGet(b.ctx, "train:titanic"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("LeaseGet of a lease never taken: %v, want ErrNotFound", err)
		}
		before := time.Now()
		if got, err := b.s.LeaseAcquire(b.ctx, lease("a", 50*time.Millisecond)); err != nil || !got {
			t.Fatalf("LeaseAcquire(a) = %v, %v", got, err)
		}
		l, err := b.s.LeaseGet(b.ctx, "train:titanic")
		if err != nil {
			t.Fatalf("LeaseGet: %v", err)
		}
		if l.Name != "train:titanic" || l.Holder != "a" || l.ExpiresAt.Before(before.Add(49*time.Millisecond)) || l.ExpiresAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("LeaseGet = %+v; want holder a, expiring about 50 ms after %v", l, before)
		}
		// An expired lease stays readable (its holder died) until another
		// holder takes it or it is released.
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := b.s.LeaseAcquire(b.ctx, lease("b", time.Hour))
			if err != nil {
				t.Fatalf("LeaseAcquire(b): %v", err)
			}
			if got {
				break
			}
			if l, err := b.s.LeaseGet(b.ctx, "train:titanic"); err != nil || l.Holder != "a" {
				t.Fatalf("LeaseGet while a holds it = %+v, %v", l, err)
			}
			if time.Now().After(deadline) {
				t.Fatal("expired lease was never taken over")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if l, err := b.s.LeaseGet(b.ctx, "train:titanic"); err != nil || l.Holder != "b" {
			t.Fatalf("LeaseGet after b took over = %+v, %v; want holder b", l, err)
		}
		if err := b.s.LeaseRelease(b.ctx, lease("b", 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.s.LeaseGet(b.ctx, "train:titanic"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("LeaseGet after release: %v, want ErrNotFound", err)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		b := setup(t, open)
		if got, err := b.s.LeaseAcquire(b.ctx, lease("a", 50*time.Millisecond)); err != nil || !got {
			t.Fatalf("LeaseAcquire(a) = %v, %v", got, err)
		}
		// b gets it once a's short lease has expired; poll, do not sleep a
		// fixed time.
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := b.s.LeaseAcquire(b.ctx, lease("b", time.Hour))
			if err != nil {
				t.Fatalf("LeaseAcquire(b): %v", err)
			}
			if got {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("expired lease was never taken over")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got, err := b.s.LeaseAcquire(b.ctx, lease("a", time.Hour)); err != nil || got {
			t.Fatalf("LeaseAcquire(a) after b took over = %v, %v; want false", got, err)
		}
	})

	t.Run("ConcurrentAcquireOneWins", func(t *testing.T) {
		b := setup(t, open)
		const n = 8
		won := make([]bool, n)
		errs := parallel(n, func(i int) error {
			var err error
			won[i], err = b.s.LeaseAcquire(b.ctx, lease(fmt.Sprintf("holder-%d", i), time.Hour))
			return err
		})
		winners := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("LeaseAcquire #%d: %v", i, err)
			}
			if won[i] {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("%d holders acquired the lease, want 1", winners)
		}
	})

	t.Run("InvalidParams", func(t *testing.T) {
		b := setup(t, open)
		for _, p := range []*store.LeaseParams{
			{Name: "", Holder: "a", TTL: time.Second},
			{Name: "x", Holder: "", TTL: time.Second},
			{Name: "x", Holder: "a", TTL: 0},
		} {
			if _, err := b.s.LeaseAcquire(b.ctx, p); err == nil {
				t.Errorf("LeaseAcquire(%+v): no error", p)
			}
		}
	})
}
