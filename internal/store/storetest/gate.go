package storetest

import (
	"errors"
	"testing"

	"github.com/mlserve/mlserve/internal/store"
)

// testGate checks the gate record on a version and a run's SameAs.
func testGate(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("VersionGateSet", func(t *testing.T) {
		b := setup(t, open)
		v := b.newVersion(t, TitanicPipeline, 0)
		if v.Gate != nil {
			t.Fatalf("new version's Gate = %+v, want nil", v.Gate)
		}
		want := &store.Gate{
			Metric: "roc_auc", Candidate: 0.81943, Production: 0.81937, ProductionVersion: 3, Basis: "same holdout",
			Rows: 178, Confidence: 0.9, Resamples: 1000, DiffMean: 0.00006, DiffP05: -0.011, DiffP95: 0.012, WinShare: 0.51,
		}
		for range 2 { // a retried gate replaces its record
			if err := b.s.VersionGateSet(b.ctx, &store.VersionGateSetParams{Pipeline: TitanicPipeline, Version: v.Version, Gate: want}); err != nil {
				t.Fatalf("VersionGateSet: %v", err)
			}
		}
		got, err := b.s.VersionGet(b.ctx, TitanicPipeline, v.Version)
		if err != nil || got.Gate == nil || *got.Gate != *want {
			t.Fatalf("VersionGet after VersionGateSet: Gate = %+v, %v; want %+v", got.Gate, err, want)
		}
		if got.State != cand || got.Reason != "" {
			t.Fatalf("VersionGateSet changed state or reason: %+v", got)
		}
		err = b.s.VersionGateSet(b.ctx, &store.VersionGateSetParams{Pipeline: TitanicPipeline, Version: 99, Gate: want})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("VersionGateSet of a missing version: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("RunSameAs", func(t *testing.T) {
		b := setup(t, open)
		r := b.runCreate(t, TitanicPipeline, store.ReasonManual)
		if _, err := b.s.RunStart(b.ctx, &store.RunStartParams{ID: r.ID}); err != nil {
			t.Fatalf("RunStart: %v", err)
		}
		fin, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: r.ID, State: store.RunSucceeded, SameAs: 1, Message: "same as v1"})
		if err != nil || fin.SameAs != 1 || fin.Version != 0 {
			t.Fatalf("RunFinish(SameAs 1) = %+v, %v", fin, err)
		}
		got, err := b.s.RunGet(b.ctx, r.ID)
		if err != nil || got.SameAs != 1 {
			t.Fatalf("RunGet = %+v, %v; want SameAs 1", got, err)
		}
	})
}
