// Package storeconv builds the client's answers (package apitypes) from
// the store's types: one converter per type, so the routes and the CLI
// show a stored value the same way and nothing internal (the artifact's
// object-store key, the replay flag, a rejected row's raw text) reaches a
// client, except where a route exists to show it (the quarantine, for
// admins). testdata/*.golden pins the answers' bytes.
package storeconv

import (
	"encoding/json"
	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/store"
)

// Version returns the client's view of a stored version (nil for nil).
func Version(v *store.Version) *apitypes.Version {
	if v == nil {
		return nil
	}
	return &apitypes.Version{
		Pipeline: v.Pipeline, Version: v.Version, State: string(v.State), Algorithm: v.Algorithm,
		Metrics: v.Metrics, ArtifactSHA256: v.ArtifactSHA256,
		DataWatermark: v.DataWatermark, DataRows: v.DataRows, DataSHA256: v.DataSHA256,
		RunID: v.RunID, SpecVersion: v.SpecVersion, Reason: v.Reason, CreatedAt: v.CreatedAt, Gate: Gate(v.Gate),
		Checks: RunChecks(v.Checks),
	}
}

// Gate returns the client's view of a gate record (nil for nil).
func Gate(g *store.Gate) *apitypes.Gate {
	if g == nil {
		return nil
	}
	out := apitypes.Gate(*g)
	return &out
}

// VersionList converts versions in order; none gives an empty list,
// not null.
func VersionList(vs []*store.Version) *apitypes.VersionList {
	return &apitypes.VersionList{Versions: convert(vs, Version)}
}

// Promotion returns the client's view of a promotion log entry (nil for
// nil).
func Promotion(p *store.Promotion) *apitypes.Promotion {
	if p == nil {
		return nil
	}
	return &apitypes.Promotion{
		ID: p.ID, Pipeline: p.Pipeline, FromVersion: p.FromVersion, ToVersion: p.ToVersion,
		Action: p.Action, Actor: p.Actor, Reason: p.Reason, CreatedAt: p.CreatedAt,
	}
}

// PromotionList converts a promotion log in order; none gives an empty
// list, not null.
func PromotionList(ps []*store.Promotion) *apitypes.PromotionList {
	return &apitypes.PromotionList{Promotions: convert(ps, Promotion)}
}

// Run returns the client's view of a stored run (nil for nil).
func Run(r *store.Run) *apitypes.Run {
	if r == nil {
		return nil
	}
	return &apitypes.Run{
		ID: r.ID, Pipeline: r.Pipeline, State: string(r.State), Reason: r.Reason,
		CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Version: r.Version, ArtifactSHA256: r.ArtifactSHA256, Error: r.Error, Attempt: r.Attempt,
		DataWatermark: r.DataWatermark, DataRows: r.DataRows, SpecVersion: r.SpecVersion, Message: r.Message, SameAs: r.SameAs,
		Checks: RunChecks(r.Checks),
	}
}

// RunChecks decodes a run's stored checks; none (or unreadable ones) give
// an empty list, not null.
func RunChecks(stored string) []apitypes.CheckResult {
	out := []apitypes.CheckResult{}
	if stored != "" {
		if err := json.Unmarshal([]byte(stored), &out); err != nil {
			return []apitypes.CheckResult{}
		}
	}
	return out
}

// RunList converts runs in order; none gives an empty list, not null.
func RunList(rs []*store.Run) *apitypes.RunList {
	return &apitypes.RunList{Runs: convert(rs, Run)}
}

// Reject returns the client's view of a rejected row (nil for nil).
func Reject(r *store.Reject) *apitypes.Reject {
	if r == nil {
		return nil
	}
	return &apitypes.Reject{Row: r.Row, Line: r.Line, Fields: r.Fields}
}

// IngestAnswer returns the client's view of a stored batch (nil for
// nil).
func IngestAnswer(b *store.BatchResult) *apitypes.IngestAnswer {
	if b == nil {
		return nil
	}
	return &apitypes.IngestAnswer{BatchID: b.BatchID, Accepted: b.Accepted, Rejected: b.Rejected, Errors: rejects(b.Errors),
		IgnoredColumns: b.IgnoredColumns}
}

// CheckReport returns the report of a checked, unstored body (nil for
// nil).
func CheckReport(b *store.BatchResult) *apitypes.CheckReport {
	if b == nil {
		return nil
	}
	return &apitypes.CheckReport{Accepted: b.Accepted, Rejected: b.Rejected, Errors: rejects(b.Errors)}
}

// Dataset returns the client's view of a pipeline's stored data (nil
// for nil).
func Dataset(d *store.DatasetInfo) *apitypes.Dataset {
	if d == nil {
		return nil
	}
	return &apitypes.Dataset{Name: d.Pipeline, Rows: d.Rows, Batches: d.Batches, LastBatchID: d.LastBatchID,
		LastBatchAt: d.LastBatchAt, Quarantined: d.Quarantined}
}

// rejects converts a batch's rejected rows, keeping nil as nil (JSON null)
// and an empty list empty, as the stored result has them.
func rejects(rs []*store.Reject) []*apitypes.Reject {
	if rs == nil {
		return nil
	}
	return convert(rs, Reject)
}

// convert maps a list through f, always returning a non-nil slice.
func convert[S, A any](in []*S, f func(*S) *A) []*A {
	out := make([]*A, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}
