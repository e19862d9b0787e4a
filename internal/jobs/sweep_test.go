package jobs

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// deadAttempt records run as started by holder (attempt 1) with holder's
// lease for ttl, as a trainer that died in the attempt leaves them. Its
// River job is not there: only the sweeper can bring the run back.
func deadAttempt(t *testing.T, b *testBundle, holder train.Holder, ttl time.Duration) *store.Run {
	t.Helper()
	ctx := context.Background()
	run, err := b.store.RunCreate(ctx, &store.RunCreateParams{Pipeline: "titanic", Reason: store.ReasonManual})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.RunStart(ctx, &store.RunStartParams{ID: run.ID}); err != nil {
		t.Fatal(err)
	}
	holder.Run = run.ID
	got, err := b.store.LeaseAcquire(ctx, &store.LeaseParams{Name: train.LeaseName("titanic"), Holder: holder.String(), TTL: ttl})
	if err != nil || !got {
		t.Fatalf("LeaseAcquire = %v, %v", got, err)
	}
	return run
}

// deadPID returns the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	return cmd.Process.Pid
}

func TestSweep(t *testing.T) {
	t.Parallel()
	fast := func(c *Config) { c.SweepEvery = 100 * time.Millisecond }

	// A trainer on another machine died: its lease expires and the run is
	// trained again here, the dead attempt noted.
	t.Run("ExpiredLeaseOfAnotherMachine", func(t *testing.T) {
		t.Parallel()
		q, b := setup(t, nil, fast)
		b.insert(t, 300)
		const ttl = time.Second
		run := deadAttempt(t, b, train.Holder{Host: "elsewhere", PID: 42, Boot: "b", PIDNS: "1", Instance: "i"}, ttl)
		began := time.Now()
		start(t, q)
		fin := b.wait(t, 30*time.Second)
		if fin.ID != run.ID || fin.State != store.RunSucceeded || fin.Attempt != 2 {
			t.Fatalf("run = %+v, want run %d succeeded in attempt 2", fin, run.ID)
		}
		if took := time.Since(began); took < ttl {
			t.Errorf("run trained again after %v, before its lease expired (%v)", took, ttl)
		}
	})

	// A trainer on this machine died (a restart of `up` on the same data
	// folder): its run is handed back at once, without waiting for its
	// lease to expire.
	t.Run("GoneProcessOfThisMachine", func(t *testing.T) {
		t.Parallel()
		q, b := setup(t, nil, fast)
		b.insert(t, 300)
		dead := train.Self(0)
		dead.PID, dead.Instance = deadPID(t), "previous"
		run := deadAttempt(t, b, dead, time.Hour)
		start(t, q)
		fin := b.wait(t, 30*time.Second)
		if fin.ID != run.ID || fin.State != store.RunSucceeded || fin.Attempt != 2 {
			t.Fatalf("run = %+v, want run %d succeeded in attempt 2", fin, run.ID)
		}
	})

	// A live holder (this process) keeps its run.
	t.Run("LiveHolderKeepsItsRun", func(t *testing.T) {
		t.Parallel()
		q, b := setup(t, nil, nil)
		run := deadAttempt(t, b, train.Self(0), time.Hour)
		if err := q.Sweep(context.Background(), b.pipeline); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.RunGet(context.Background(), run.ID)
		if err != nil || got.State != store.RunRunning || got.Error != "" {
			t.Fatalf("run after a sweep = %+v, %v; want it running untouched", got, err)
		}
	})

	// A trainer died and, before any sweep, another run took the
	// pipeline's lease (its own lease had expired, or a restarted process
	// started a manual run at once): the dead run holds no lease but is
	// still running. It is handed back at once, not after the other run.
	t.Run("OrphanWithoutLease", func(t *testing.T) {
		t.Parallel()
		q, b := setup(t, nil, nil)
		dead := train.Self(0)
		dead.PID, dead.Instance = deadPID(t), "previous"
		orphan := deadAttempt(t, b, dead, time.Hour)
		// The other run takes the lease over from the dead holder.
		ctx := context.Background()
		dead.Run = orphan.ID
		if err := b.store.LeaseRelease(ctx, &store.LeaseParams{Name: train.LeaseName("titanic"), Holder: dead.String()}); err != nil {
			t.Fatal(err)
		}
		live := deadAttempt(t, b, train.Self(0), time.Hour)
		if err := q.Sweep(ctx, b.pipeline); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.RunGet(ctx, orphan.ID)
		if err != nil || !strings.Contains(got.Error, "trainer gone") {
			t.Fatalf("orphaned run after a sweep = %+v, %v; want it handed back: trainer gone", got, err)
		}
		other, err := b.store.RunGet(ctx, live.ID)
		if err != nil || other.State != store.RunRunning || other.Error != "" {
			t.Fatalf("the lease holder's run after a sweep = %+v, %v; want it running untouched", other, err)
		}
	})

	// The last attempt's trainer died: the run fails, saying so.
	t.Run("LastAttemptFails", func(t *testing.T) {
		t.Parallel()
		q, b := setup(t, nil, func(c *Config) { c.MaxAttempts = 1 })
		dead := train.Self(0)
		dead.PID, dead.Instance = deadPID(t), "previous"
		run := deadAttempt(t, b, dead, time.Hour)
		if err := q.Sweep(context.Background(), b.pipeline); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.RunGet(context.Background(), run.ID)
		if err != nil || got.State != store.RunFailed || !strings.Contains(got.Error, "trainer gone") || !strings.Contains(got.Error, "not retried") {
			t.Fatalf("run after a sweep = %+v, %v; want failed: trainer gone, not retried", got, err)
		}
	})
}
