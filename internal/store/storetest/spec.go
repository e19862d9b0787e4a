package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/store"
)

// specPut stores spec text for pipeline with its real hash.
func (b *testBundle) specPut(t *testing.T, pipeline, spec string) *store.Spec {
	t.Helper()
	sum := sha256.Sum256([]byte(spec))
	sp, err := b.s.SpecPut(b.ctx, &store.SpecPutParams{Pipeline: pipeline, Spec: spec, SHA256: hex.EncodeToString(sum[:]), Source: "test"})
	if err != nil {
		t.Fatalf("SpecPut: %v", err)
	}
	return sp
}

func testSpec(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("PutVersionsOnlyChanges", func(t *testing.T) {
		b := setup(t, open)
		start := time.Now().Add(-time.Minute)
		v1 := b.specPut(t, TitanicPipeline, `{"model":{"algorithm":"logistic"}}`)
		if v1.Version != 1 || v1.Unchanged || v1.Pipeline != TitanicPipeline || v1.Source != "test" || v1.CreatedAt.Before(start) {
			t.Fatalf("first SpecPut = %+v, want version 1, new", v1)
		}
		same := b.specPut(t, TitanicPipeline, `{"model":{"algorithm":"logistic"}}`)
		if same.Version != 1 || !same.Unchanged {
			t.Fatalf("SpecPut of the same spec = %+v, want version 1 unchanged", same)
		}
		v2 := b.specPut(t, TitanicPipeline, `{"model":{"algorithm":"gbdt"}}`)
		if v2.Version != 2 || v2.Unchanged || v2.Spec != `{"model":{"algorithm":"gbdt"}}` {
			t.Fatalf("SpecPut of a changed spec = %+v, want version 2", v2)
		}
		// Going back to an earlier spec is a change too: a new version.
		v3 := b.specPut(t, TitanicPipeline, `{"model":{"algorithm":"logistic"}}`)
		if v3.Version != 3 || v3.Unchanged {
			t.Fatalf("SpecPut back to v1's spec = %+v, want version 3", v3)
		}
		other := b.specPut(t, "other", `{}`)
		if other.Version != 1 {
			t.Fatalf("SpecPut of another pipeline = %+v, want its version 1", other)
		}
		got, err := b.s.SpecGet(b.ctx, TitanicPipeline, 2)
		if err != nil || got.Spec != v2.Spec || got.SHA256 != v2.SHA256 || got.Version != 2 {
			t.Fatalf("SpecGet(2) = %+v, %v; want %+v", got, err, v2)
		}
		if _, err := b.s.SpecGet(b.ctx, TitanicPipeline, 9); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SpecGet of a missing version: err = %v, want ErrNotFound", err)
		}
		cur, err := b.s.SpecCurrentList(b.ctx)
		if err != nil {
			t.Fatalf("SpecCurrentList: %v", err)
		}
		if len(cur) != 2 || cur[0].Pipeline != "other" || cur[0].Version != 1 || cur[1].Pipeline != TitanicPipeline || cur[1].Version != 3 {
			t.Fatalf("SpecCurrentList = %v, want other v1 and titanic v3", specNames(cur))
		}
	})

	t.Run("ConcurrentPutStoresOnce", func(t *testing.T) {
		b := setup(t, open)
		const n = 8
		out := make([]*store.Spec, n)
		errs := parallel(n, func(i int) error {
			sum := sha256.Sum256([]byte(`{"a":1}`))
			sp, err := b.s.SpecPut(b.ctx, &store.SpecPutParams{Pipeline: TitanicPipeline, Spec: `{"a":1}`, SHA256: hex.EncodeToString(sum[:])})
			out[i] = sp
			return err
		})
		fresh := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("SpecPut #%d: %v", i, err)
			}
			if out[i].Version != 1 {
				t.Fatalf("SpecPut #%d = version %d, want 1", i, out[i].Version)
			}
			if !out[i].Unchanged {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d of %d concurrent puts of one spec stored it, want 1", fresh, n)
		}
	})

	t.Run("EmptyListAndBadParams", func(t *testing.T) {
		b := setup(t, open)
		cur, err := b.s.SpecCurrentList(b.ctx)
		if err != nil || len(cur) != 0 {
			t.Fatalf("SpecCurrentList on an empty store = %v, %v; want none", specNames(cur), err)
		}
		if _, err := b.s.SpecPut(b.ctx, &store.SpecPutParams{Pipeline: TitanicPipeline}); err == nil {
			t.Fatal("SpecPut without a spec succeeded, want an error")
		}
	})

	t.Run("RunsAndVersionsRecordIt", func(t *testing.T) {
		b := setup(t, open)
		r := b.runCreate(t, TitanicPipeline, store.ReasonManual)
		started, err := b.s.RunStart(b.ctx, &store.RunStartParams{ID: r.ID, SpecVersion: 4})
		if err != nil || started.SpecVersion != 4 {
			t.Fatalf("RunStart with spec v4 = %+v, %v", started, err)
		}
		got, err := b.s.RunGet(b.ctx, r.ID)
		if err != nil || got.SpecVersion != 4 {
			t.Fatalf("RunGet after RunStart = %+v, %v; want SpecVersion 4", got, err)
		}
		v, err := b.s.VersionCreate(b.ctx, &store.VersionCreateParams{Pipeline: TitanicPipeline, Algorithm: "gbdt", RunID: r.ID, SpecVersion: 4})
		if err != nil || v.SpecVersion != 4 {
			t.Fatalf("VersionCreate with spec v4 = %+v, %v", v, err)
		}
		list, err := b.s.VersionList(b.ctx, TitanicPipeline)
		if err != nil || len(list) != 1 || list[0].SpecVersion != 4 {
			t.Fatalf("VersionList = %+v, %v; want one version with SpecVersion 4", list, err)
		}
	})
}

func specNames(specs []*store.Spec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, fmt.Sprintf("%s v%d", s.Pipeline, s.Version))
	}
	return out
}
