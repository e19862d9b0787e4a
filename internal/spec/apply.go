package spec

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// Result is what Apply did, or with DryRun would do, to one pipeline.
type Result struct {
	Pipeline string `json:"pipeline"`
	// From is the spec version current before (0: none), To the one
	// current after (From when nothing changed).
	From int `json:"from_version"`
	To   int `json:"to_version"`
	// Changes lists the differing fields; empty when the stored spec is
	// the same.
	Changes []Change `json:"changes"`
}

// Changed reports whether the pipeline's spec differs from the stored one.
func (r *Result) Changed() bool { return len(r.Changes) > 0 }

// String reads "pipeline titanic: spec v3 → v4: model.algorithm logistic →
// gbdt", or "pipeline titanic: spec v3 unchanged".
func (r *Result) String() string {
	switch {
	case !r.Changed():
		return fmt.Sprintf("pipeline %s: spec v%d unchanged", r.Pipeline, r.To)
	case r.From == 0:
		return fmt.Sprintf("pipeline %s: spec v%d (new pipeline)", r.Pipeline, r.To)
	}
	return fmt.Sprintf("pipeline %s: spec v%d → v%d: %s", r.Pipeline, r.From, r.To, Summary(r.Changes))
}

// ApplyParams are the arguments of Apply.
type ApplyParams struct {
	Store store.Store
	// File is a parsed (validated) pipeline file.
	File *config.File
	// Source is recorded with each stored version ("apply", "file:PATH").
	Source string
	// DryRun computes the results and checks them without writing.
	DryRun bool
}

// ErrNotLive marks a spec change that running processes cannot follow and
// that Apply therefore refuses: a column's stored type changing under the
// rows already stored.
var ErrNotLive = errors.New("change cannot be applied to the stored data")

// Apply stores each pipeline of the file as its next spec version when it
// differs from the current one, and returns what changed per pipeline, in
// file order. Before storing, it makes the change the data needs (a new
// column gets its storage column); a change the stored data cannot follow
// (a column's type) is refused for the whole file with ErrNotLive, naming
// the column, and nothing is stored. Pipelines stored but not in the file
// are left as they are.
func Apply(ctx context.Context, p *ApplyParams) ([]*Result, error) {
	cur, err := p.Store.SpecCurrentList(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*store.Spec{}
	for _, s := range cur {
		byName[s.Pipeline] = s
	}
	type plan struct {
		res        *Result
		pipe       *config.Pipeline
		text, hash string
	}
	var plans []plan
	for i := range p.File.Pipelines {
		pipe := &p.File.Pipelines[i]
		text, hash, err := Canonical(pipe)
		if err != nil {
			return nil, err
		}
		res := &Result{Pipeline: pipe.Name}
		var old *config.Pipeline
		if s := byName[pipe.Name]; s != nil {
			res.From, res.To = s.Version, s.Version
			if s.SHA256 == hash {
				plans = append(plans, plan{res: res})
				continue
			}
			if old, err = Decode(s); err != nil {
				return nil, err
			}
		}
		if res.Changes, err = Diff(old, pipe); err != nil {
			return nil, err
		}
		if err := checkLive(pipe.Name, old, pipe); err != nil {
			return nil, err
		}
		res.To = res.From + 1
		plans = append(plans, plan{res: res, pipe: pipe, text: text, hash: hash})
	}
	var out []*Result
	for _, pl := range plans {
		out = append(out, pl.res)
		if p.DryRun || pl.pipe == nil {
			continue
		}
		// The table change first: a stored spec is one the data can hold.
		err := p.Store.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: pl.pipe.Name, Schema: pl.pipe.Schema})
		if errors.Is(err, store.ErrSchemaChanged) {
			return nil, fmt.Errorf("pipeline %s: %w: %w; a column's type cannot change under stored rows: give the column a new name (the old one is kept and no longer read)",
				pl.pipe.Name, ErrNotLive, err)
		}
		if err != nil {
			return nil, fmt.Errorf("prepare dataset of pipeline %s: %w", pl.pipe.Name, err)
		}
		s, err := p.Store.SpecPut(ctx, &store.SpecPutParams{Pipeline: pl.pipe.Name, Spec: pl.text, SHA256: pl.hash, Source: p.Source})
		if err != nil {
			return nil, err
		}
		if s.Unchanged {
			// Another process stored the same spec meanwhile.
			pl.res.Changes = nil
		}
		pl.res.To = s.Version
	}
	return out, nil
}

// checkLive refuses a change of a column's type: the rows stored under the
// old type cannot follow it. (DatasetEnsure is the rule at write time; this
// is the same rule for a dry run, from the specs alone.)
func checkLive(name string, old, new *config.Pipeline) error {
	if old == nil {
		return nil
	}
	types := map[string]string{}
	for _, c := range old.Schema.Columns {
		types[c.Name] = string(c.Type)
	}
	for _, c := range new.Schema.Columns {
		if t, ok := types[c.Name]; ok && t != string(c.Type) {
			return fmt.Errorf("pipeline %s: %w: schema.columns.%s.type %s → %s; a column's type cannot change under stored rows: give the column a new name (the old one is kept and no longer read)",
				name, ErrNotLive, c.Name, t, c.Type)
		}
	}
	return nil
}
