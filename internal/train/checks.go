package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/datacheck"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// FailDataCheck starts the error of a run a block data check failed.
const FailDataCheck = "data_check"

// Check runs pipeline p's data checks on rows (coerced by c) against the
// production version's training statistics and the row count of the last
// succeeded run other than runID (0 for none).
func (r *Runner) Check(ctx context.Context, p *config.Pipeline, c *schema.Compiled, rows []schema.Row, runID int64) (*datacheck.Report, error) {
	params := &datacheck.Params{Schema: c, Rows: rows, Checks: p.Checks}
	prod, err := r.store.VersionProduction(ctx, p.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read production version of %s: %w", p.Name, err)
	default:
		m, err := r.registry.Load(ctx, prod)
		if err != nil {
			return nil, &partError{part: "object store", err: err}
		}
		if len(m.Artifact.Stats) > 0 {
			if err := json.Unmarshal(m.Artifact.Stats, &params.Baseline); err != nil {
				return nil, fmt.Errorf("decode training stats of %s v%d: %w", p.Name, prod.Version, err)
			}
			params.BaselineVersion = prod.Version
		}
	}
	runs, err := r.store.RunList(ctx, &store.RunListParams{Pipeline: p.Name, Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", p.Name, err)
	}
	for _, run := range runs {
		if run.ID != runID && run.State == store.RunSucceeded && run.DataRows > 0 {
			params.LastRows = run.DataRows
			break
		}
	}
	return datacheck.Run(params), nil
}

// ReportKey is the object-store key of a run's data checks report.
func ReportKey(pipeline string, runID int64) string {
	return fmt.Sprintf("checks/%s/run-%d.json", pipeline, runID)
}

// checkRun runs the data checks of a run, records the report on run (for
// RunFinish) and in the object store, and returns the words the run's
// message adds for failed warn checks. A failed block check is a permanent
// error starting with FailDataCheck.
func (r *Runner) checkRun(ctx context.Context, run *store.Run, p *config.Pipeline, c *schema.Compiled, rows []schema.Row) (string, error) {
	rep, err := r.Check(ctx, p, c, rows, run.ID)
	if err != nil {
		return "", err
	}
	list, err := json.Marshal(rep.Checks)
	if err != nil {
		return "", fmt.Errorf("encode data checks: %w", err)
	}
	whole, err := json.Marshal(rep)
	if err != nil {
		return "", fmt.Errorf("encode data checks: %w", err)
	}
	if err := r.registry.PutReport(ctx, ReportKey(p.Name, run.ID), whole); err != nil {
		return "", &partError{part: "object store", err: err}
	}
	run.Checks = string(list)
	if failed := rep.Failed(config.SeverityBlock); len(failed) > 0 {
		return "", permanent(fmt.Errorf("%s: %s; no version made (set checks: in the pipeline to change a threshold or make a check warn)", FailDataCheck, joinResults(failed)))
	}
	if warned := rep.Failed(config.SeverityWarn); len(warned) > 0 {
		return "; data check warnings: " + joinResults(warned), nil
	}
	return "", nil
}

func joinResults(rs []datacheck.Result) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, "; ")
}

// CheckCurrent runs pipeline p's data checks on its current data without
// training (`mlserve check`): the same checks a run would make now.
func (r *Runner) CheckCurrent(ctx context.Context, p *config.Pipeline) (*datacheck.Report, error) {
	c, err := schema.Compile(p.Schema)
	if err != nil {
		return nil, err
	}
	snap, err := r.store.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: p.Name, Schema: c})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("pipeline %s has no data yet: ingest rows first", p.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot of %s from the database: %w", p.Name, err)
	}
	return r.Check(ctx, p, c, snap.Rows, 0)
}
