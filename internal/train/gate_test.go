package train_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// TestGateIgnoresNoise replays the demo: production is trained on
// 600 titanic rows, then rows arrive one at a time and each is a manual
// retraining. With promote.confidence 0 (a plain comparison) the first
// challenger whose holdout score is a hair above production's is promoted;
// with the default 0.9 that same challenger, within the holdout's noise,
// is rejected, and the record says by how much and how often it won.
func TestGateIgnoresNoise(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain, strict := setup(t), setup(t)
	plain.pipeline.Promote.Confidence = config.Ptr(0.0)
	rows := readCSV(t, plain.schema, "seed_titanic.csv")
	for _, b := range []*bundle{plain, strict} {
		b.insert(t, rows[:600])
		if fin := b.run(t, store.ReasonManual); fin.Version != 1 {
			t.Fatalf("first run = %+v", fin)
		}
	}
	for k := 600; k < 700; k++ {
		var got [2]*store.Version
		for i, b := range []*bundle{plain, strict} {
			b.insert(t, rows[k:k+1])
			fin := b.run(t, store.ReasonManual)
			v, err := b.store.VersionGet(ctx, "titanic", fin.Version)
			if err != nil {
				t.Fatalf("row %d: run %+v: %v", k, fin, err)
			}
			got[i] = v
		}
		p, s := got[0], got[1]
		if p.ArtifactSHA256 != s.ArtifactSHA256 || p.Gate == nil || s.Gate == nil {
			t.Fatalf("row %d: v%d differs between the bundles or lacks a gate record: %+v, %+v", k, s.Version, p, s)
		}
		if p.State != store.StateProduction || p.Gate.WinShare >= 0.9 {
			// Not better, or better in at least 90 % of resamples: both
			// gates agree, and the bundles stay alike.
			if s.State != p.State {
				t.Fatalf("row %d: plain gate %s, strict gate %s (%q)", k, p.State, s.State, s.Reason)
			}
			continue
		}
		// Better on the holdout, but not in 90 % of the resamples: noise.
		g := s.Gate
		t.Logf("v%d: %s", s.Version, s.Reason)
		if g.Candidate <= g.Production || g.Resamples < 200 || g.Rows == 0 || g.DiffP05 >= g.DiffMean || g.DiffMean >= g.DiffP95 {
			t.Fatalf("gate record %+v: want a candidate a hair better, with a bootstrap interval around the mean", *g)
		}
		if s.State != store.StateRejected || g.Promoted || !strings.Contains(s.Reason, "within the holdout's noise") {
			t.Fatalf("strict gate: v%d %s (%q), record %+v; want rejected within the noise", s.Version, s.State, s.Reason, *g)
		}
		if !p.Gate.Promoted || p.Gate.Confidence != 0 || p.Gate.WinShare != g.WinShare {
			t.Fatalf("plain gate record %+v, want promoted with the same bootstrap", p.Gate)
		}
		return
	}
	t.Fatal("no challenger beat production by a hair in 100 rows")
}

// TestGateAcceptsClearlyBetter: production learned from 100 rows whose
// label was flipped; the challenger, trained on those and the 791 genuine
// rows, is better by far more than the noise and is promoted at the
// default confidence.
func TestGateAcceptsClearlyBetter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	rows := readCSV(t, b.schema, "seed_titanic.csv")
	target := b.schema.Index("survived")
	for _, r := range rows[:100] {
		flip := 1 - int(r[target].Num)
		r[target] = schema.Value{Str: strconv.Itoa(flip), Num: float64(flip)}
	}
	b.insert(t, rows[:100])
	if fin := b.run(t, store.ReasonManual); fin.Version != 1 {
		t.Fatalf("first run = %+v", fin)
	}
	b.insert(t, rows[100:])
	fin := b.run(t, store.ReasonManual)
	v, err := b.store.VersionGet(ctx, "titanic", fin.Version)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("v%d: %s", v.Version, v.Reason)
	if v.State != store.StateProduction || v.Gate == nil || !v.Gate.Promoted || v.Gate.WinShare < 0.9 || v.Gate.DiffP05 <= 0 {
		t.Fatalf("v%d %s (%q), record %+v; want promoted, better in at least 90 %% of resamples", v.Version, v.State, v.Reason, v.Gate)
	}
	if !strings.Contains(fin.Message, "promoted") || !strings.Contains(fin.Message, "resamples") {
		t.Fatalf("run message %q does not give the bootstrap", fin.Message)
	}
}
