package storetest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/store"
)

// newVersion registers a candidate of pipeline made by run runID.
func (b *testBundle) newVersion(t *testing.T, pipeline string, runID int64) *store.Version {
	t.Helper()
	v, err := b.s.VersionCreate(b.ctx, &store.VersionCreateParams{
		Pipeline: pipeline, Algorithm: "logistic", Metrics: map[string]float64{"roc_auc": 0.8, "accuracy": 0.75},
		ArtifactSHA256: fmt.Sprintf("%064x", runID), ArtifactKey: fmt.Sprintf("artifacts/%s/%d.json", pipeline, runID),
		DataWatermark: 10, DataRows: 891, DataSHA256: "ab12", RunID: runID,
	})
	if err != nil {
		t.Fatalf("VersionCreate: %v", err)
	}
	return v
}

func (b *testBundle) promote(t *testing.T, version int, action string) *store.Promotion {
	t.Helper()
	p, err := b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{
		Pipeline: TitanicPipeline, Version: version, Action: action, Actor: "test", Reason: fmt.Sprintf("promote %d", version),
	})
	if err != nil {
		t.Fatalf("VersionPromote(%d): %v", version, err)
	}
	return p
}

func (b *testBundle) rollback(t *testing.T) *store.Promotion {
	t.Helper()
	p, err := b.s.VersionRollback(b.ctx, &store.VersionRollbackParams{Pipeline: TitanicPipeline, Actor: "cli", Reason: "bad predictions"})
	if err != nil {
		t.Fatalf("VersionRollback: %v", err)
	}
	return p
}

// wantStates checks the state of every version of the titanic pipeline
// (want[i] is the state of version i+1) and that the production version is
// the only one.
func (b *testBundle) wantStates(t *testing.T, want ...store.VersionState) {
	t.Helper()
	vs, err := b.s.VersionList(b.ctx, TitanicPipeline)
	if err != nil {
		t.Fatalf("VersionList: %v", err)
	}
	if len(vs) != len(want) {
		t.Fatalf("VersionList: %d versions, want %d", len(vs), len(want))
	}
	prod := 0
	for _, v := range vs {
		if v.State != want[v.Version-1] {
			t.Errorf("version %d is %s, want %s", v.Version, v.State, want[v.Version-1])
		}
		if v.State == store.StateProduction {
			prod = v.Version
		}
	}
	p, err := b.s.VersionProduction(b.ctx, TitanicPipeline)
	switch {
	case prod == 0 && !errors.Is(err, store.ErrNotFound):
		t.Errorf("VersionProduction = %v, %v; want ErrNotFound", p, err)
	case prod != 0 && (err != nil || p.Version != prod):
		t.Errorf("VersionProduction = %v, %v; want version %d", p, err, prod)
	}
}

func wantPromotion(t *testing.T, p *store.Promotion, from, to int, action string) {
	t.Helper()
	if p.FromVersion != from || p.ToVersion != to || p.Action != action || p.Pipeline != TitanicPipeline ||
		p.ID <= 0 || p.CreatedAt.IsZero() || p.CreatedAt.Location() != time.UTC {
		t.Fatalf("promotion = %+v, want %s %d -> %d", p, action, from, to)
	}
}

const (
	cand = store.StateCandidate
	prod = store.StateProduction
	arch = store.StateArchived
	rej  = store.StateRejected
)

func testVersion(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CreateNumbersAndFields", func(t *testing.T) {
		b := setup(t, open)
		start := time.Now().Add(-time.Minute)
		for want := 1; want <= 3; want++ {
			if v := b.newVersion(t, TitanicPipeline, 0); v.Version != want || v.State != cand {
				t.Fatalf("VersionCreate #%d = version %d %s, want %d candidate", want, v.Version, v.State, want)
			}
		}
		if v := b.newVersion(t, "other", 0); v.Version != 1 {
			t.Fatalf("first version of another pipeline = %d, want 1", v.Version)
		}
		v := b.newVersion(t, TitanicPipeline, 42)
		got, err := b.s.VersionGet(b.ctx, TitanicPipeline, v.Version)
		if err != nil {
			t.Fatalf("VersionGet: %v", err)
		}
		for _, g := range []*store.Version{v, got} {
			if g.Pipeline != TitanicPipeline || g.Version != 4 || g.Algorithm != "logistic" || g.Metrics["roc_auc"] != 0.8 ||
				g.Metrics["accuracy"] != 0.75 || len(g.Metrics) != 2 || g.ArtifactSHA256 != fmt.Sprintf("%064x", 42) ||
				g.ArtifactKey != "artifacts/titanic/42.json" || g.DataWatermark != 10 || g.DataRows != 891 ||
				g.DataSHA256 != "ab12" || g.RunID != 42 || g.State != cand {
				t.Fatalf("version = %+v", g)
			}
			if g.CreatedAt.Location() != time.UTC || g.CreatedAt.Before(start) || g.CreatedAt.After(time.Now().Add(time.Minute)) {
				t.Fatalf("CreatedAt = %v, want a UTC time of now", g.CreatedAt)
			}
		}
		vs, err := b.s.VersionList(b.ctx, TitanicPipeline)
		if err != nil || len(vs) != 4 || vs[0].Version != 4 || vs[3].Version != 1 {
			t.Fatalf("VersionList = %v, %v; want 4..1", vs, err)
		}
	})

	t.Run("CreateIdempotentByRunID", func(t *testing.T) {
		b := setup(t, open)
		v1 := b.newVersion(t, TitanicPipeline, 7)
		again, err := b.s.VersionCreate(b.ctx, &store.VersionCreateParams{Pipeline: TitanicPipeline, Algorithm: "gbdt", RunID: 7})
		if err != nil {
			t.Fatalf("VersionCreate again: %v", err)
		}
		if again.Version != v1.Version || again.Algorithm != "logistic" || again.ArtifactSHA256 != v1.ArtifactSHA256 {
			t.Fatalf("VersionCreate with the same run = %+v, want version %d unchanged", again, v1.Version)
		}
		if v := b.newVersion(t, TitanicPipeline, 8); v.Version != 2 {
			t.Fatalf("another run's version = %d, want 2", v.Version)
		}
		if v := b.newVersion(t, "other", 7); v.Version != 1 || v.Pipeline != "other" {
			t.Fatalf("same run id on another pipeline = %+v, want its version 1", v)
		}
		b.wantStates(t, cand, cand)
	})

	t.Run("ConcurrentCreate", func(t *testing.T) {
		b := setup(t, open)
		const n = 8
		got := make([]int, n)
		errs := parallel(n, func(i int) error {
			v, err := b.s.VersionCreate(b.ctx, &store.VersionCreateParams{Pipeline: TitanicPipeline, RunID: int64(i%4 + 1)})
			if err == nil {
				got[i] = v.Version
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("VersionCreate #%d: %v", i, err)
			}
		}
		// Four runs, each registered once, numbered 1..4.
		byRun := map[int]int{}
		seen := map[int]bool{}
		for i, v := range got {
			if old, ok := byRun[i%4]; ok && old != v {
				t.Fatalf("run %d registered versions %d and %d", i%4+1, old, v)
			}
			byRun[i%4] = v
			seen[v] = true
		}
		for v := 1; v <= 4; v++ {
			if !seen[v] {
				t.Fatalf("versions %v: want exactly 1..4", got)
			}
		}
		b.wantStates(t, cand, cand, cand, cand)
	})

	t.Run("NotFoundAndEmpty", func(t *testing.T) {
		b := setup(t, open)
		b.newVersion(t, TitanicPipeline, 0)
		if _, err := b.s.VersionGet(b.ctx, TitanicPipeline, 2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("VersionGet(2): err = %v, want ErrNotFound", err)
		}
		if _, err := b.s.VersionGet(b.ctx, "nope", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("VersionGet(nope, 1): err = %v, want ErrNotFound", err)
		}
		if _, err := b.s.VersionProduction(b.ctx, TitanicPipeline); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("VersionProduction without one: err = %v, want ErrNotFound", err)
		}
		if vs, err := b.s.VersionList(b.ctx, "nope"); err != nil || len(vs) != 0 {
			t.Errorf("VersionList(nope) = %v, %v; want empty", vs, err)
		}
		if vs, err := b.s.ProductionList(b.ctx); err != nil || len(vs) != 0 {
			t.Errorf("ProductionList = %v, %v; want empty", vs, err)
		}
		if _, err := b.s.VersionReject(b.ctx, &store.VersionRejectParams{Pipeline: TitanicPipeline, Version: 9}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("VersionReject(9): err = %v, want ErrNotFound", err)
		}
	})

	t.Run("Reject", func(t *testing.T) {
		b := setup(t, open)
		b.newVersion(t, TitanicPipeline, 0)
		b.newVersion(t, TitanicPipeline, 0)
		v, err := b.s.VersionReject(b.ctx, &store.VersionRejectParams{Pipeline: TitanicPipeline, Version: 2, Reason: "roc_auc 0.61 < min 0.70"})
		if err != nil || v.State != rej || v.Reason != "roc_auc 0.61 < min 0.70" || v.Version != 2 {
			t.Fatalf("VersionReject = %+v, %v", v, err)
		}
		// A retried run rejecting again is harmless.
		if v, err := b.s.VersionReject(b.ctx, &store.VersionRejectParams{Pipeline: TitanicPipeline, Version: 2, Reason: "again"}); err != nil || v.State != rej {
			t.Fatalf("VersionReject again = %+v, %v", v, err)
		}
		b.promote(t, 1, store.ActionAuto)
		_, err = b.s.VersionReject(b.ctx, &store.VersionRejectParams{Pipeline: TitanicPipeline, Version: 1, Reason: "x"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("VersionReject of production: err = %v, want ErrConflict", err)
		}
		b.wantStates(t, prod, rej)
	})

	t.Run("NonFiniteMetrics", func(t *testing.T) {
		b := setup(t, open)
		v, err := b.s.VersionCreate(b.ctx, &store.VersionCreateParams{
			Pipeline: TitanicPipeline, Metrics: map[string]float64{"log_loss": math.Inf(1), "r2": math.NaN(), "mae": 0.5, "x": math.Inf(-1)},
		})
		if err != nil {
			t.Fatalf("VersionCreate: %v", err)
		}
		got, err := b.s.VersionGet(b.ctx, TitanicPipeline, v.Version)
		if err != nil {
			t.Fatalf("VersionGet: %v", err)
		}
		m := got.Metrics
		if !math.IsInf(m["log_loss"], 1) || !math.IsNaN(m["r2"]) || m["mae"] != 0.5 || !math.IsInf(m["x"], -1) {
			t.Fatalf("metrics = %v", m)
		}
	})
}

func testPromotion(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("PromoteArchivesPreviousAndLogs", func(t *testing.T) {
		b := setup(t, open)
		for range 3 {
			b.newVersion(t, TitanicPipeline, 0)
		}
		p1 := b.promote(t, 1, store.ActionAuto)
		wantPromotion(t, p1, 0, 1, store.ActionAuto)
		b.wantStates(t, prod, cand, cand)
		p2 := b.promote(t, 2, store.ActionPromote)
		wantPromotion(t, p2, 1, 2, store.ActionPromote)
		b.wantStates(t, arch, prod, cand)
		if p2.Actor != "test" || p2.Reason != "promote 2" {
			t.Fatalf("promotion actor/reason = %q/%q", p2.Actor, p2.Reason)
		}
		log, err := b.s.PromotionList(b.ctx, TitanicPipeline)
		if err != nil || len(log) != 2 || log[0].ID != p2.ID || log[1].ID != p1.ID {
			t.Fatalf("PromotionList = %v, %v; want newest first", log, err)
		}
		if *log[0] != *p2 {
			t.Fatalf("PromotionList[0] = %+v, want %+v", log[0], p2)
		}
		if l, err := b.s.PromotionList(b.ctx, "nope"); err != nil || len(l) != 0 {
			t.Fatalf("PromotionList(nope) = %v, %v; want empty", l, err)
		}
		// An archived version can be promoted again.
		wantPromotion(t, b.promote(t, 1, store.ActionPromote), 2, 1, store.ActionPromote)
		b.wantStates(t, prod, arch, cand)
	})

	t.Run("ConflictsAndNotFound", func(t *testing.T) {
		b := setup(t, open)
		b.newVersion(t, TitanicPipeline, 0)
		b.newVersion(t, TitanicPipeline, 0)
		b.promote(t, 1, store.ActionAuto)
		_, err := b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{Pipeline: TitanicPipeline, Version: 1, Action: store.ActionPromote})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("promoting the production version: err = %v, want ErrConflict", err)
		}
		_, err = b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{Pipeline: TitanicPipeline, Version: 9, Action: store.ActionPromote})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("promoting a missing version: err = %v, want ErrNotFound", err)
		}
		_, err = b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{Pipeline: TitanicPipeline, Version: 2, Action: store.ActionRollback})
		if err == nil {
			t.Errorf("VersionPromote with action rollback: no error")
		}
		b.wantStates(t, prod, cand)
	})

	t.Run("ExpectCurrent", func(t *testing.T) {
		b := setup(t, open)
		for range 3 {
			b.newVersion(t, TitanicPipeline, 0)
		}
		try := func(v, expect int) error {
			_, err := b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{
				Pipeline: TitanicPipeline, Version: v, Action: store.ActionAuto, Actor: "gate", ExpectCurrent: &expect,
			})
			return err
		}
		if err := try(1, 0); err != nil {
			t.Fatalf("promote 1 expecting none: %v", err)
		}
		if err := try(2, 0); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("promote 2 expecting none while 1 is production: err = %v, want ErrConflict", err)
		}
		if err := try(2, 3); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("promote 2 expecting 3: err = %v, want ErrConflict", err)
		}
		if err := try(2, 1); err != nil {
			t.Fatalf("promote 2 expecting 1: %v", err)
		}
		b.wantStates(t, arch, prod, cand)
	})

	t.Run("RejectedNeedsManualPromote", func(t *testing.T) {
		b := setup(t, open)
		b.newVersion(t, TitanicPipeline, 0)
		if _, err := b.s.VersionReject(b.ctx, &store.VersionRejectParams{Pipeline: TitanicPipeline, Version: 1, Reason: "below min"}); err != nil {
			t.Fatal(err)
		}
		_, err := b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{Pipeline: TitanicPipeline, Version: 1, Action: store.ActionAuto, Actor: "gate"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("auto-promoting a rejected version: err = %v, want ErrConflict", err)
		}
		b.wantStates(t, rej)
		p := b.promote(t, 1, store.ActionPromote)
		wantPromotion(t, p, 0, 1, store.ActionPromote)
		b.wantStates(t, prod)
	})

	t.Run("ConcurrentPromotions", func(t *testing.T) {
		b := setup(t, open)
		const n = 8
		for range n {
			b.newVersion(t, TitanicPipeline, 0)
		}
		errs := parallel(n, func(i int) error {
			_, err := b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{Pipeline: TitanicPipeline, Version: i + 1, Action: store.ActionPromote})
			return err
		})
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("VersionPromote(%d): %v; want success or ErrConflict", i+1, err)
			}
		}
		// Exactly one production, and the log is a chain ending at it.
		vs, err := b.s.ProductionList(b.ctx)
		if err != nil || len(vs) != 1 {
			t.Fatalf("ProductionList = %v, %v; want one version", vs, err)
		}
		log, err := b.s.PromotionList(b.ctx, TitanicPipeline)
		if err != nil || len(log) != ok {
			t.Fatalf("PromotionList: %d entries, %v; want %d", len(log), err, ok)
		}
		if log[0].ToVersion != vs[0].Version || log[len(log)-1].FromVersion != 0 {
			t.Fatalf("log %v does not end at production version %d", log, vs[0].Version)
		}
		for i := 0; i+1 < len(log); i++ {
			if log[i].FromVersion != log[i+1].ToVersion {
				t.Fatalf("log entry %d goes from %d, the one before went to %d", log[i].ID, log[i].FromVersion, log[i+1].ToVersion)
			}
		}
		archived := 0
		all, _ := b.s.VersionList(b.ctx, TitanicPipeline)
		for _, v := range all {
			if v.State == arch {
				archived++
			}
		}
		if archived != ok-1 {
			t.Fatalf("%d archived versions after %d promotions, want %d", archived, ok, ok-1)
		}
	})

	t.Run("ConcurrentExpectNone", func(t *testing.T) {
		b := setup(t, open)
		const n = 8
		for range n {
			b.newVersion(t, TitanicPipeline, 0)
		}
		errs := parallel(n, func(i int) error {
			_, err := b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{
				Pipeline: TitanicPipeline, Version: i + 1, Action: store.ActionAuto, ExpectCurrent: new(int),
			})
			return err
		})
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("VersionPromote(%d): %v; want success or ErrConflict", i+1, err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d promotions expecting no production version succeeded, want 1", ok)
		}
		if vs, err := b.s.ProductionList(b.ctx); err != nil || len(vs) != 1 {
			t.Fatalf("ProductionList = %v, %v; want one", vs, err)
		}
	})

	t.Run("RollbackWalksBack", func(t *testing.T) {
		b := setup(t, open)
		for v := 1; v <= 3; v++ {
			b.newVersion(t, TitanicPipeline, 0)
			b.promote(t, v, store.ActionAuto)
		}
		p := b.rollback(t)
		wantPromotion(t, p, 3, 2, store.ActionRollback)
		if p.Actor != "cli" || !strings.HasPrefix(p.Reason, "bad predictions") {
			t.Fatalf("rollback actor/reason = %q/%q", p.Actor, p.Reason)
		}
		b.wantStates(t, arch, prod, arch)
		wantPromotion(t, b.rollback(t), 2, 1, store.ActionRollback)
		b.wantStates(t, prod, arch, arch)
		_, err := b.s.VersionRollback(b.ctx, &store.VersionRollbackParams{Pipeline: TitanicPipeline})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("rollback past the first version: err = %v, want ErrConflict", err)
		}
		b.wantStates(t, prod, arch, arch)
		log, err := b.s.PromotionList(b.ctx, TitanicPipeline)
		if err != nil || len(log) != 5 || log[0].Action != store.ActionRollback || log[2].Action != store.ActionAuto {
			t.Fatalf("PromotionList = %v, %v; want 3 promotions then 2 rollbacks", log, err)
		}
	})

	t.Run("RollbackAfterPromoteFromRolledBack", func(t *testing.T) {
		b := setup(t, open)
		for range 3 {
			b.newVersion(t, TitanicPipeline, 0)
		}
		b.promote(t, 1, store.ActionAuto)
		b.promote(t, 2, store.ActionAuto)
		wantPromotion(t, b.rollback(t), 2, 1, store.ActionRollback)
		b.promote(t, 3, store.ActionAuto) // 1 -> 3
		wantPromotion(t, b.rollback(t), 3, 1, store.ActionRollback)
		b.wantStates(t, prod, arch, arch)
	})

	t.Run("RollbackWithoutHistory", func(t *testing.T) {
		b := setup(t, open)
		_, err := b.s.VersionRollback(b.ctx, &store.VersionRollbackParams{Pipeline: TitanicPipeline})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("rollback with no production version: err = %v, want ErrConflict", err)
		}
		b.newVersion(t, TitanicPipeline, 0)
		b.promote(t, 1, store.ActionAuto)
		_, err = b.s.VersionRollback(b.ctx, &store.VersionRollbackParams{Pipeline: TitanicPipeline})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("rollback of the first production version: err = %v, want ErrConflict", err)
		}
		b.wantStates(t, prod)
	})

	t.Run("ProductionList", func(t *testing.T) {
		b := setup(t, open)
		b.newVersion(t, TitanicPipeline, 0)
		b.newVersion(t, "zeta", 0)
		b.newVersion(t, "alpha", 0)
		b.promote(t, 1, store.ActionAuto)
		if _, err := b.s.VersionPromote(b.ctx, &store.VersionPromoteParams{Pipeline: "zeta", Version: 1, Action: store.ActionAuto}); err != nil {
			t.Fatal(err)
		}
		vs, err := b.s.ProductionList(b.ctx)
		if err != nil || len(vs) != 2 {
			t.Fatalf("ProductionList = %v, %v; want titanic and zeta", vs, err)
		}
		got := map[string]int{}
		for _, v := range vs {
			if v.State != prod {
				t.Fatalf("ProductionList has %s version %d", v.State, v.Version)
			}
			got[v.Pipeline] = v.Version
		}
		if got[TitanicPipeline] != 1 || got["zeta"] != 1 {
			t.Fatalf("ProductionList = %v", got)
		}
	})
}
