package registry_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/blob/fs"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// TestPublish checks that Publish stores the bytes under the content
// address and verifies them by reading back, refusing bytes that do not
// match the hash.
func TestPublish(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *testBundle) {
		fr := b.fit.fits[0]
		key, err := b.reg.Publish(b.ctx, pipeline, fr.Bytes, fr.SHA256)
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if key != artifact.Key(pipeline, fr.SHA256) {
			t.Errorf("key %q, want %q", key, artifact.Key(pipeline, fr.SHA256))
		}
		got, err := b.bucket.Get(b.ctx, key)
		if err != nil || !bytes.Equal(got, fr.Bytes) {
			t.Fatalf("stored object: %d bytes, %v; want the artifact's %d bytes", len(got), err, len(fr.Bytes))
		}
		// Publishing the same artifact again is harmless (content-addressed).
		if key2, err := b.reg.Publish(b.ctx, pipeline, fr.Bytes, fr.SHA256); err != nil || key2 != key {
			t.Errorf("second Publish = %q, %v; want %q", key2, err, key)
		}

		// Bytes that are not what the hash says are refused.
		other := b.fit.fits[1]
		_, err = b.reg.Publish(b.ctx, pipeline, other.Bytes, fr.SHA256)
		if !errors.Is(err, artifact.ErrHashMismatch) || !strings.Contains(err.Error(), "read back artifact") {
			t.Errorf("Publish with a wrong hash: %v, want a read-back hash mismatch", err)
		}
	})

	t.Run("unwritable_folder", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		root := filepath.Join(dir, "artifacts")
		bucket, err := fs.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		// The folder is replaced by a file: every write fails for real.
		if err := os.Remove(root); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(root, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		reg := registry.New(registry.Config{Bucket: bucket})
		fr := fitsOrFatal(t).fits[0]
		_, err = reg.Publish(t.Context(), pipeline, fr.Bytes, fr.SHA256)
		if err == nil || !strings.Contains(err.Error(), "upload artifact to object store file://"+root) {
			t.Errorf("Publish into a broken folder: %v, want an upload error naming the bucket", err)
		}
	})
}

func fitsOrFatal(t *testing.T) *fitted {
	t.Helper()
	ft, err := fits()
	if err != nil {
		t.Fatal(err)
	}
	return ft
}

// TestLoad checks that Load verifies the artifact against the version's
// recorded hash, caches by hash, and reports a missing or corrupt artifact
// as ErrArtifactUnusable with its cause.
func TestLoad(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *testBundle) {
		v1 := b.register(t, 0, nil)
		v2 := b.register(t, 1, nil)
		m, err := b.reg.Load(b.ctx, v1)
		if err != nil {
			t.Fatalf("Load v1: %v", err)
		}
		if m.SHA256 != v1.ArtifactSHA256 {
			t.Errorf("loaded sha %s, want %s", m.SHA256, v1.ArtifactSHA256)
		}
		again, err := b.reg.Load(b.ctx, v1)
		if err != nil || again != m {
			t.Errorf("second Load = %p, %v; want the cached model %p", again, err, m)
		}

		// Artifacts are immutable, so a cached model stays good even if the
		// stored object is damaged later; a registry without it in its cache
		// (another process) refuses the damaged object.
		b.corrupt(t, v1)
		if again, err := b.reg.Load(b.ctx, v1); err != nil || again != m {
			t.Errorf("Load after damage, cached: %p, %v; want the cached model", again, err)
		}
		fresh := registry.New(registry.Config{Store: b.db, Bucket: b.bucket})
		_, err = fresh.Load(b.ctx, v1)
		if !errors.Is(err, registry.ErrArtifactUnusable) || !errors.Is(err, artifact.ErrHashMismatch) {
			t.Errorf("fresh Load of a damaged artifact: %v, want ErrArtifactUnusable wrapping ErrHashMismatch", err)
		}
		if err != nil && !strings.Contains(err.Error(), "titanic v1") {
			t.Errorf("error %q should name the version", err)
		}

		if err := b.bucket.Delete(b.ctx, v2.ArtifactKey); err != nil {
			t.Fatal(err)
		}
		_, err = fresh.Load(b.ctx, v2)
		if !errors.Is(err, registry.ErrArtifactUnusable) || !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Load of a missing artifact: %v, want ErrArtifactUnusable wrapping blob.ErrNotFound", err)
		}
		if err != nil && (!strings.Contains(err.Error(), "titanic v2") || !strings.Contains(err.Error(), b.bucket.String())) {
			t.Errorf("error %q should name the version and the bucket", err)
		}
	})
}

// TestPromoteRollback checks hand promotion and rollback: each one
// transaction leaving exactly one production version, logged with actor and
// reason, and announced; refused promotions change and announce nothing.
func TestPromoteRollback(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *testBundle) {
		for i := range 3 {
			b.register(t, i, nil)
		}
		want := func(from, to int, action, actor, reason string, p *store.Promotion) {
			t.Helper()
			if p.Pipeline != pipeline || p.FromVersion != from || p.ToVersion != to || p.Action != action || p.Actor != actor || p.Reason != reason || p.ID == 0 {
				t.Errorf("promotion %+v, want %d->%d %s by %s (%s)", p, from, to, action, actor, reason)
			}
			if !b.signalled() {
				t.Errorf("%d->%d: no change signal", from, to)
			}
		}
		p1, err := b.reg.Promote(b.ctx, pipeline, 1, "alice", "first")
		if err != nil {
			t.Fatalf("Promote v1: %v", err)
		}
		want(0, 1, store.ActionPromote, "alice", "first", p1)
		p2, err := b.reg.Promote(b.ctx, pipeline, 2, "bob", "better")
		if err != nil {
			t.Fatalf("Promote v2: %v", err)
		}
		want(1, 2, store.ActionPromote, "bob", "better", p2)
		if got := b.states(t); !slices.Equal(got, []store.VersionState{store.StateArchived, store.StateProduction, store.StateCandidate}) {
			t.Errorf("states after promoting v2: %v", got)
		}
		p3, err := b.reg.Rollback(b.ctx, pipeline, "carol", "bad predictions")
		if err != nil {
			t.Fatalf("Rollback: %v", err)
		}
		want(2, 1, store.ActionRollback, "carol", "bad predictions; undoes v2's promotion (better)", p3)
		if got := b.states(t); got[0] != store.StateProduction || got[1] == store.StateProduction {
			t.Errorf("states after rollback: %v, want v1 production", got)
		}

		// Refused: nothing changes, nothing is logged or announced.
		logBefore := b.log(t)
		if len(logBefore) != 3 || logBefore[0].ID != p3.ID || logBefore[2].ID != p1.ID {
			t.Fatalf("promotion log: %d entries, want the 3 made, newest first", len(logBefore))
		}
		_, err = b.reg.Rollback(b.ctx, pipeline, "carol", "again")
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("Rollback with no earlier production: %v, want ErrConflict", err)
		}
		if _, err := b.reg.Promote(b.ctx, pipeline, 1, "alice", "again"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Promote of the production version: %v, want ErrConflict", err)
		}
		if _, err := b.reg.Promote(b.ctx, pipeline, 9, "alice", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Promote of a version that does not exist: %v, want ErrNotFound", err)
		}
		v3, err := b.db.VersionGet(b.ctx, pipeline, 3)
		if err != nil {
			t.Fatal(err)
		}
		b.corrupt(t, v3)
		_, err = b.reg.Promote(b.ctx, pipeline, 3, "alice", "corrupt")
		if !errors.Is(err, registry.ErrArtifactUnusable) || !strings.Contains(err.Error(), "promote titanic v3") {
			t.Errorf("Promote of a corrupt artifact: %v, want ErrArtifactUnusable naming titanic v3", err)
		}
		if err := b.bucket.Delete(b.ctx, v3.ArtifactKey); err != nil {
			t.Fatal(err)
		}
		if _, err = b.reg.Promote(b.ctx, pipeline, 3, "alice", "missing"); !errors.Is(err, registry.ErrArtifactUnusable) || !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Promote of a missing artifact: %v, want ErrArtifactUnusable wrapping blob.ErrNotFound", err)
		}
		if got := b.states(t); got[0] != store.StateProduction || got[2] != store.StateCandidate {
			t.Errorf("states after refused changes: %v, want v1 production, v3 candidate", got)
		}
		if got := b.log(t); len(got) != len(logBefore) {
			t.Errorf("promotion log grew from %d to %d entries on refused changes", len(logBefore), len(got))
		}
		if b.signalled() {
			t.Error("a refused change was announced")
		}
	})
}

// TestConcurrentPromotions promotes versions from several goroutines at
// once: every change is one transaction, so the log is an unbroken chain
// (each entry starts where the previous ended), it has one entry per
// successful call, and exactly one version ends in production.
func TestConcurrentPromotions(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *testBundle) {
		for i := range 4 {
			b.register(t, i, nil)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, conflicts := 0, 0
		var unexpected []error
		for g := range 6 {
			wg.Go(func() {
				for i := range 6 {
					v := (g+i)%4 + 1
					var err error
					if (g+i)%5 == 4 {
						_, err = b.reg.Rollback(b.ctx, pipeline, fmt.Sprintf("g%d", g), "")
					} else {
						_, err = b.reg.Promote(b.ctx, pipeline, v, fmt.Sprintf("g%d", g), "")
					}
					mu.Lock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, store.ErrConflict):
						conflicts++
					default:
						unexpected = append(unexpected, err)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(unexpected) > 0 {
			t.Fatalf("unexpected errors: %v", unexpected)
		}
		log := b.log(t)
		if len(log) != ok || ok == 0 {
			t.Fatalf("promotion log has %d entries, %d calls succeeded (%d conflicts)", len(log), ok, conflicts)
		}
		slices.Reverse(log) // oldest first
		prev := 0
		for i, p := range log {
			if p.FromVersion != prev {
				t.Errorf("log entry %d goes %d->%d, but production was %d", i, p.FromVersion, p.ToVersion, prev)
			}
			prev = p.ToVersion
		}
		states := b.states(t)
		if prev < 1 || prev > len(states) || states[prev-1] != store.StateProduction {
			t.Errorf("the log ends at v%d, states are %v", prev, states)
		}
		t.Logf("%d changes, %d conflicts", ok, conflicts)
	})
}

// gateCase is one run of Gate on a fresh registry.
type gateCase struct {
	name string
	// prod, when set, registers fit 0 with these recorded metrics and makes
	// it production before the candidate (fit 1) is registered.
	prod map[string]float64
	// candidate builds the candidate's recorded metrics from production's
	// metrics on the candidate's holdout (nil when there is no production).
	candidate  func(prodOnHoldout map[string]float64) map[string]float64
	metric     string
	min        *float64
	mustBeat   bool
	sameSchema bool
	// during runs inside Score (while the gate decides).
	during func(t *testing.T, b *testBundle)
	// want
	promoted   bool
	reason     func(prodOnHoldout map[string]float64) string
	production int // the version in production afterwards
}

func ptr(f float64) *float64 { return &f }

// ml is the served model type Score and SameSchema see.
type ml = artifact.Model

// TestGate checks the champion/challenger gate: the minimum (a ceiling for
// losses), must_beat_production scored on the candidate's own holdout (not
// production's recorded metrics), the fallbacks, the decision's reason on
// the version and in the promotion log, and that a promotion only happens
// if production did not change meanwhile.
func TestGate(t *testing.T) {
	t.Parallel()
	inflated := map[string]float64{"roc_auc": 0.999, "log_loss": 0.001, "accuracy": 0.999}
	f4 := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	cases := []gateCase{
		{
			name: "first_version", metric: "roc_auc", min: ptr(0.7), mustBeat: true,
			candidate: func(map[string]float64) map[string]float64 { return map[string]float64{"roc_auc": 0.8123} },
			promoted:  true, production: 1, // the candidate is v1
			reason: func(map[string]float64) string { return "first production version (roc_auc 0.8123)" },
		},
		{
			name: "below_min", metric: "roc_auc", min: ptr(0.9), mustBeat: true,
			candidate: func(map[string]float64) map[string]float64 { return map[string]float64{"roc_auc": 0.85} },
			reason:    func(map[string]float64) string { return "roc_auc 0.8500 is below the minimum 0.9000" },
		},
		{
			name: "loss_above_max", metric: "log_loss", min: ptr(0.4), mustBeat: true,
			candidate: func(map[string]float64) map[string]float64 { return map[string]float64{"log_loss": 0.45} },
			reason:    func(map[string]float64) string { return "log_loss 0.4500 is above the maximum 0.4000" },
		},
		{
			name: "loss_under_max", metric: "log_loss", min: ptr(0.5), mustBeat: true,
			candidate: func(map[string]float64) map[string]float64 { return map[string]float64{"log_loss": 0.45} },
			promoted:  true, production: 1,
			reason: func(map[string]float64) string { return "first production version (log_loss 0.4500)" },
		},
		{
			name: "metric_missing", metric: "roc_auc", mustBeat: true,
			candidate: func(map[string]float64) map[string]float64 { return map[string]float64{"accuracy": 0.8} },
			reason: func(map[string]float64) string {
				return "metric roc_auc could not be computed on the holdout (e.g. one class only)"
			},
		},
		{
			// Production's recorded 0.999 is ignored: it is scored on the
			// candidate's holdout, which the candidate beats.
			name: "beats_production_on_same_holdout", prod: inflated, metric: "roc_auc", mustBeat: true, sameSchema: true,
			candidate: func(p map[string]float64) map[string]float64 {
				return map[string]float64{"roc_auc": p["roc_auc"] + 0.001}
			},
			promoted: true, production: 2,
			reason: func(p map[string]float64) string {
				return "roc_auc " + f4(p["roc_auc"]+0.001) + " beats production v1's " + f4(p["roc_auc"]) + " (same holdout)"
			},
		},
		{
			name: "loses_to_production_on_same_holdout", prod: inflated, metric: "roc_auc", mustBeat: true, sameSchema: true,
			candidate: func(p map[string]float64) map[string]float64 {
				return map[string]float64{"roc_auc": p["roc_auc"] - 0.001}
			},
			production: 1,
			reason: func(p map[string]float64) string {
				return "roc_auc " + f4(p["roc_auc"]-0.001) + " does not beat production v1's " + f4(p["roc_auc"]) + " (same holdout)"
			},
		},
		{
			name: "tie_does_not_win", prod: inflated, metric: "accuracy", mustBeat: true, sameSchema: true,
			candidate:  func(p map[string]float64) map[string]float64 { return map[string]float64{"accuracy": p["accuracy"]} },
			production: 1,
			reason: func(p map[string]float64) string {
				return "accuracy " + f4(p["accuracy"]) + " does not beat production v1's " + f4(p["accuracy"]) + " (same holdout)"
			},
		},
		{
			name: "lower_loss_beats_production", prod: inflated, metric: "log_loss", mustBeat: true, sameSchema: true,
			candidate: func(p map[string]float64) map[string]float64 {
				return map[string]float64{"log_loss": p["log_loss"] - 0.01}
			},
			promoted: true, production: 2,
			reason: func(p map[string]float64) string {
				return "log_loss " + f4(p["log_loss"]-0.01) + " beats production v1's " + f4(p["log_loss"]) + " (same holdout)"
			},
		},
		{
			name: "higher_loss_loses", prod: inflated, metric: "log_loss", mustBeat: true, sameSchema: true,
			candidate: func(p map[string]float64) map[string]float64 {
				return map[string]float64{"log_loss": p["log_loss"] + 0.01}
			},
			production: 1,
			reason: func(p map[string]float64) string {
				return "log_loss " + f4(p["log_loss"]+0.01) + " does not beat production v1's " + f4(p["log_loss"]) + " (same holdout)"
			},
		},
		{
			// With another schema production cannot be scored on the
			// candidate's rows: its recorded metric is the bar.
			name: "schema_changed_uses_recorded_metric", prod: inflated, metric: "roc_auc", mustBeat: true, sameSchema: false,
			candidate:  func(map[string]float64) map[string]float64 { return map[string]float64{"roc_auc": 0.95} },
			production: 1,
			reason: func(map[string]float64) string {
				return "roc_auc 0.9500 does not beat production v1's 0.9990 (production's recorded holdout, schema changed)"
			},
		},
		{
			name: "production_lacks_metric", prod: map[string]float64{"accuracy": 0.9}, metric: "roc_auc", mustBeat: true, sameSchema: false,
			candidate: func(map[string]float64) map[string]float64 { return map[string]float64{"roc_auc": 0.6} },
			promoted:  true, production: 2,
			reason: func(map[string]float64) string {
				return "roc_auc 0.6000 beats production v1's -Inf (production has no such metric)"
			},
		},
		{
			name: "must_beat_off", prod: inflated, metric: "roc_auc", mustBeat: false,
			candidate: func(map[string]float64) map[string]float64 { return map[string]float64{"roc_auc": 0.6} },
			promoted:  true, production: 2,
			reason: func(map[string]float64) string { return "roc_auc 0.6000; must_beat_production is off" },
		},
		{
			// Someone promotes v3 by hand while the gate scores: the gate's
			// promotion of v2 would overwrite it, so v2 is rejected.
			name: "production_changed_meanwhile", prod: inflated, metric: "roc_auc", mustBeat: true, sameSchema: true,
			candidate: func(p map[string]float64) map[string]float64 {
				return map[string]float64{"roc_auc": p["roc_auc"] + 0.01}
			},
			during: func(t *testing.T, b *testBundle) {
				v3 := b.register(t, 2, nil)
				if _, err := b.reg.Promote(b.ctx, pipeline, v3.Version, "dave", "by hand"); err != nil {
					t.Errorf("Promote v3 during the gate: %v", err)
				}
				b.signalled()
			},
			production: 3,
			reason: func(map[string]float64) string {
				return "production changed while the gate was deciding; promote by hand if wanted"
			},
		},
	}
	// The decisions are the registry's; the other backends run the cases
	// that exercise their writes (reject, conditional promotion).
	onEvery := map[string]bool{"below_min": true, "beats_production_on_same_holdout": true, "production_changed_meanwhile": true}
	for i, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				if i > 0 && !onEvery[tc.name] {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runGate(t, setup(t, be), tc)
				})
			}
		})
	}
}

func runGate(t *testing.T, b *testBundle, tc gateCase) {
	var prodOnHoldout map[string]float64
	holdout := b.fit.fits[1].HoldoutRows
	if tc.prod != nil {
		v1 := b.register(t, 0, tc.prod)
		if _, err := b.reg.Promote(b.ctx, pipeline, v1.Version, "test", "setup"); err != nil {
			t.Fatal(err)
		}
		b.signalled()
		m, err := b.reg.Load(b.ctx, v1)
		if err != nil {
			t.Fatal(err)
		}
		if prodOnHoldout, err = train.Evaluate(m, holdout); err != nil {
			t.Fatal(err)
		}
	}
	cand := b.register(t, 1, tc.candidate(prodOnHoldout))
	prodSHA := b.fit.fits[0].SHA256
	scored := 0
	dec, err := b.reg.Gate(b.ctx, &registry.GateParams{
		Candidate: cand,
		Score: func(m *ml) (map[string]float64, error) {
			scored++
			if m.SHA256 != prodSHA {
				t.Errorf("Score called with model %s, want production's %s", m.SHA256, prodSHA)
			}
			if tc.during != nil {
				tc.during(t, b)
			}
			return train.Evaluate(m, holdout)
		},
		SameSchema:         func(*ml) bool { return tc.sameSchema },
		Metric:             tc.metric,
		Min:                tc.min,
		MustBeatProduction: tc.mustBeat,
	})
	if err != nil {
		t.Fatalf("Gate: %v", err)
	}
	wantReason := tc.reason(prodOnHoldout)
	if dec.Promoted != tc.promoted || dec.Reason != wantReason {
		t.Errorf("decision: promoted %v, reason %q;\nwant promoted %v, reason %q", dec.Promoted, dec.Reason, tc.promoted, wantReason)
	}
	if wantScored := tc.prod != nil && tc.mustBeat && tc.sameSchema; (scored == 1) != wantScored || scored > 1 {
		t.Errorf("Score called %d times, want %d", scored, map[bool]int{true: 1}[wantScored])
	}
	wantDecProd := 0
	if tc.prod != nil {
		wantDecProd = 1
	}
	if dec.Production != wantDecProd {
		t.Errorf("decision compared against v%d, want v%d", dec.Production, wantDecProd)
	}

	got, err := b.db.VersionGet(b.ctx, pipeline, cand.Version)
	if err != nil {
		t.Fatal(err)
	}
	wantState := store.StateRejected
	if tc.promoted {
		wantState = store.StateProduction
	}
	if got.State != wantState || (!tc.promoted && got.Reason != wantReason) {
		t.Errorf("candidate after the gate: %s (%q), want %s (%q)", got.State, got.Reason, wantState, wantReason)
	}
	if states := b.states(t); tc.production != 0 && (tc.production > len(states) || states[tc.production-1] != store.StateProduction) {
		t.Errorf("states %v, want v%d in production", states, tc.production)
	}
	log := b.log(t)
	if tc.promoted {
		p := log[0]
		if p.ToVersion != cand.Version || p.FromVersion != wantDecProd || p.Action != store.ActionAuto || p.Actor != "gate" || p.Reason != wantReason {
			t.Errorf("promotion log head %+v, want v%d->v%d auto by gate (%q)", p, wantDecProd, cand.Version, wantReason)
		}
		if !b.signalled() {
			t.Error("gate promotion not announced")
		}
	} else {
		if len(log) > 0 && log[0].ToVersion == cand.Version {
			t.Errorf("rejected candidate is in the promotion log: %+v", log[0])
		}
		if b.signalled() {
			t.Error("a rejection was announced as a production change")
		}
	}
}

// TestGateErrors checks that the gate does not decide when it cannot
// compare: a production artifact that is corrupt, or scoring that fails.
// The candidate stays a candidate and production is unchanged.
func TestGateErrors(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b *testBundle) {
		v1 := b.register(t, 0, nil)
		if _, err := b.reg.Promote(b.ctx, pipeline, 1, "test", ""); err != nil {
			t.Fatal(err)
		}
		cand := b.register(t, 1, map[string]float64{"roc_auc": 0.99})
		fresh := registry.New(registry.Config{Store: b.db, Bucket: b.bucket}) // nothing cached
		params := &registry.GateParams{
			Candidate: cand, Metric: "roc_auc", MustBeatProduction: true,
			Score: func(m *ml) (map[string]float64, error) { return train.Evaluate(m, b.fit.fits[1].HoldoutRows) },
		}

		params.Score = func(*ml) (map[string]float64, error) { return nil, errors.New("boom") }
		if _, err := fresh.Gate(b.ctx, params); err == nil || !strings.Contains(err.Error(), "score production v1 on the holdout: boom") {
			t.Errorf("Gate with failing Score: %v", err)
		}
		b.corrupt(t, v1)
		fresh = registry.New(registry.Config{Store: b.db, Bucket: b.bucket})
		params.Score = func(*ml) (map[string]float64, error) { return map[string]float64{"roc_auc": 0.5}, nil }
		_, err := fresh.Gate(b.ctx, params)
		if !errors.Is(err, registry.ErrArtifactUnusable) || !strings.Contains(err.Error(), "load production v1 for comparison") {
			t.Errorf("Gate against a corrupt production artifact: %v, want ErrArtifactUnusable", err)
		}
		if got := b.states(t); !slices.Equal(got, []store.VersionState{store.StateProduction, store.StateCandidate}) {
			t.Errorf("states after failed gates: %v, want v1 production, v2 candidate", got)
		}
	})
}
