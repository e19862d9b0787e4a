package storetest

import (
	"testing"

	"github.com/mlserve/mlserve/internal/store"
)

// testRunChecks checks that a run keeps the data checks report RunFinish
// records, through RunGet and RunList, and a version the one VersionCreate
// records.
func testRunChecks(t *testing.T, open func(t *testing.T) store.Store) {
	b := setup(t, open)
	r := b.runCreate(t, TitanicPipeline, store.ReasonManual)
	if r.Checks != "" {
		t.Fatalf("a new run has checks %q, want none", r.Checks)
	}
	if _, err := b.s.RunStart(b.ctx, &store.RunStartParams{ID: r.ID}); err != nil {
		t.Fatalf("RunStart: %v", err)
	}
	const report = `[{"column":"embarked","check":"missing_rate","severity":"block","expected":"at most 0.2","seen":"1","passed":false}]`
	fin, err := b.s.RunFinish(b.ctx, &store.RunFinishParams{ID: r.ID, State: store.RunFailed, Error: "data_check: embarked missing_rate", Checks: report})
	if err != nil || fin.Checks != report {
		t.Fatalf("RunFinish(Checks) = %+v, %v; want the report back", fin, err)
	}
	got, err := b.s.RunGet(b.ctx, r.ID)
	if err != nil || got.Checks != report {
		t.Fatalf("RunGet = %+v, %v; want the report", got, err)
	}
	list, err := b.s.RunList(b.ctx, &store.RunListParams{Pipeline: TitanicPipeline})
	if err != nil || len(list) == 0 || list[0].Checks != report {
		t.Fatalf("RunList = %+v, %v; want the report on the run", list, err)
	}
	v, err := b.s.VersionCreate(b.ctx, &store.VersionCreateParams{
		Pipeline: TitanicPipeline, Algorithm: "logistic", Metrics: map[string]float64{"roc_auc": 0.8},
		ArtifactSHA256: "cd34", ArtifactKey: "artifacts/titanic/cd34.json", DataWatermark: 10, DataRows: 891, DataSHA256: "ab12",
		RunID: r.ID, Checks: report,
	})
	if err != nil || v.Checks != report {
		t.Fatalf("VersionCreate(Checks) = %+v, %v; want the report back", v, err)
	}
	if got, err := b.s.VersionGet(b.ctx, TitanicPipeline, v.Version); err != nil || got.Checks != report {
		t.Fatalf("VersionGet = %+v, %v; want the report", got, err)
	}
}
