// Package spec makes the database the one source of truth for what a
// pipeline is. A pipeline's spec (its entry of the pipeline file, defaults
// filled in) is stored as numbered versions (store.SpecStore): Apply stores
// a file's pipelines when they differ from the current versions, Diff says
// what differs field by field, and Live keeps a process on the current
// versions without a restart.
package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/store"
)

// Canonical returns the canonical form of p, defaults filled in (JSON with
// fields in declaration order and map keys sorted), and its hex sha256:
// two files that mean the same pipeline give the same hash, whatever their
// layout, comments or omitted defaults.
func Canonical(p *config.Pipeline) (text, sha string, err error) {
	q := p.WithDefaults()
	if len(q.Model.Params) == 0 {
		q.Model.Params = nil // params: {} means no params
	}
	b, err := json.Marshal(q)
	if err != nil {
		return "", "", fmt.Errorf("encode spec of %s: %w", p.Name, err)
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:]), nil
}

// Decode reads a stored spec back into a pipeline.
func Decode(s *store.Spec) (*config.Pipeline, error) {
	var p config.Pipeline
	if err := json.Unmarshal([]byte(s.Spec), &p); err != nil {
		return nil, fmt.Errorf("decode spec v%d of %s: %w", s.Version, s.Pipeline, err)
	}
	if p.Name != s.Pipeline {
		return nil, fmt.Errorf("decode spec v%d of %s: it names pipeline %q", s.Version, s.Pipeline, p.Name)
	}
	return &p, nil
}

// Change is one field whose value differs between two specs. Path is the
// field's place in the pipeline file ("model.algorithm",
// "schema.columns.age.max"; columns by name); Old or New is "" when the
// field is absent on that side.
type Change struct {
	Path string `json:"path"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// String reads "model.algorithm: logistic → gbdt".
func (c Change) String() string {
	return c.Path + ": " + orNone(c.Old) + " → " + orNone(c.New)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Summary joins changes for a log line: "model.algorithm logistic → gbdt,
// train.min_rows 50 → 80".
func Summary(changes []Change) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		parts[i] = c.Path + " " + orNone(c.Old) + " → " + orNone(c.New)
	}
	return strings.Join(parts, ", ")
}

// Diff lists the fields that differ from old to new, sorted by path; old
// nil lists every field of new. Both are compared in canonical form, so a
// default written out equals the default left out.
func Diff(old, new *config.Pipeline) ([]Change, error) {
	a, err := flatten(old)
	if err != nil {
		return nil, err
	}
	b, err := flatten(new)
	if err != nil {
		return nil, err
	}
	var out []Change
	for k, v := range b {
		if a[k] != v {
			out = append(out, Change{Path: k, Old: a[k], New: v})
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			out = append(out, Change{Path: k, Old: v})
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return strings.Compare(x.Path, y.Path) })
	return out, nil
}

// flatten maps each leaf field of p's canonical form to its value as text.
func flatten(p *config.Pipeline) (map[string]string, error) {
	out := map[string]string{}
	if p == nil {
		return out, nil
	}
	text, _, err := Canonical(p)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, fmt.Errorf("decode spec of %s: %w", p.Name, err)
	}
	m, _ := v.(map[string]any)
	delete(m, "name")
	walk("", m, out)
	return out, nil
}

func walk(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return
		}
		for k, e := range x {
			walk(join(path, k), e, out)
		}
	case []any:
		// A list of named items (columns) is keyed by name, so that
		// inserting a column does not show every later one as changed.
		if named(x) {
			for _, e := range x {
				m := e.(map[string]any)
				name := m["name"].(string)
				rest := map[string]any{}
				for k, f := range m {
					if k != "name" {
						rest[k] = f
					}
				}
				key := join(path, name)
				if len(rest) == 0 {
					out[key] = "{}"
				}
				walk(key, rest, out)
			}
			return
		}
		b, _ := json.Marshal(x)
		out[path] = string(b)
	case nil:
	case string:
		out[path] = x
	default:
		b, _ := json.Marshal(x)
		out[path] = string(b)
	}
}

func named(list []any) bool {
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return len(list) > 0
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
