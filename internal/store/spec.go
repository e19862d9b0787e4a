package store

import (
	"context"
	"time"
)

// ChannelSpecs signals that a pipeline's spec changed: a new version was
// stored by SpecPut. The payload is the pipeline name.
const ChannelSpecs = "mlserve_specs"

// SpecStore keeps each pipeline's spec (what the pipeline file says about
// it) as numbered versions: the database is the one source of truth every
// role follows, whatever file it was started with.
type SpecStore interface {
	// SpecPut stores params.Spec as the pipeline's next spec version (1
	// for the first) unless the current version has the same SHA256; then
	// nothing is written and the current version is returned with
	// Unchanged set. Concurrent calls for one pipeline take turns, so two
	// processes applying the same spec store it once. A stored version
	// signals ChannelSpecs once committed.
	SpecPut(ctx context.Context, params *SpecPutParams) (*Spec, error)
	// SpecGet returns one spec version, or ErrNotFound.
	SpecGet(ctx context.Context, pipeline string, version int) (*Spec, error)
	// SpecCurrentList returns the current (highest) spec version of every
	// pipeline that has one, by pipeline name.
	SpecCurrentList(ctx context.Context) ([]*Spec, error)
}

// Spec is one stored version of a pipeline's spec.
type Spec struct {
	Pipeline string
	Version  int
	// SHA256 is the hex sha256 of Spec, the canonical form: equal specs
	// have equal hashes.
	SHA256 string
	// Spec is the canonical form (JSON) of the pipeline's spec. The store
	// does not read it.
	Spec string
	// Source says who stored it: "apply", "file:mlserve.yaml", "up".
	Source    string
	CreatedAt time.Time
	// Unchanged is set by SpecPut when the spec equalled the current one
	// and nothing was written.
	Unchanged bool
}

// SpecPutParams are the arguments of SpecPut.
type SpecPutParams struct {
	Pipeline string // validated pipeline name
	Spec     string // canonical form
	SHA256   string // hex sha256 of Spec
	Source   string
}
