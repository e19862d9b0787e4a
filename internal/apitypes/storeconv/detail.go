package storeconv

import (
	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/store"
)

// VersionDetail returns the client's view of a version with what its
// loaded artifact m says of the model (nil for a nil version).
func VersionDetail(v *store.Version, m *artifact.Model) *apitypes.VersionDetail {
	if v == nil {
		return nil
	}
	d := &apitypes.VersionDetail{Version: Version(v)}
	if m == nil {
		return d
	}
	a := m.Artifact
	d.Params = a.Params
	if d.Params == nil {
		d.Params = map[string]any{}
	}
	d.TrainingStats = a.Stats
	d.Lineage = &apitypes.Lineage{
		ConfigSHA256: a.Lineage.ConfigSHA256, Seed: a.Lineage.Seed, Holdout: a.Lineage.Holdout,
		TrainRows: a.Lineage.TrainRows, HoldoutRows: a.Lineage.HoldoutRows, Mlserve: a.Lineage.Mlserve,
	}
	d.FeatureImportance = m.Importance()
	for _, c := range m.Coefficients() {
		d.Coefficients = append(d.Coefficients, &apitypes.Coefficients{Class: c.Class, Intercept: c.Intercept, Weights: c.Weights})
	}
	return d
}
