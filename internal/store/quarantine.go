package store

import (
	"context"

	"github.com/mlserve/mlserve/internal/schema"
)

// Quarantine is the part of a Store that reads quarantined rows again:
// `mlserve quarantine replay` re-checks them against the current schema
// and moves the ones that now pass into a batch, once.
type Quarantine interface {
	// QuarantinePending returns up to Limit quarantined rows of a pipeline
	// that no replay moved yet, with ID > AfterID, oldest first, each with
	// the format and CSV header of its batch.
	QuarantinePending(ctx context.Context, params *QuarantinePendingParams) ([]*PendingReject, error)
	// QuarantineReplay stores Rows as one new batch (source Source, format
	// "replay") and marks the quarantined rows IDs as replayed into it, in
	// one transaction. A row is replayed at most once: if one of IDs was
	// replayed already (or is not a quarantined row of the pipeline),
	// nothing is written and the error is ErrConflict. The quarantine keeps
	// every row, replayed or not.
	QuarantineReplay(ctx context.Context, params *QuarantineReplayParams) (*BatchResult, error)
}

// QuarantinePendingParams are the arguments of QuarantinePending.
type QuarantinePendingParams struct {
	Pipeline string
	AfterID  int64
	Limit    int // 0: 1000
}

// PendingReject is a quarantined row not replayed yet, with what is needed
// to read it again.
type PendingReject struct {
	*Reject
	// Format is its batch's body format ("csv", "json", "ndjson"; "" for
	// batches stored before formats were kept).
	Format string
	// Header is its batch's CSV header line ("" for other formats).
	Header string
}

// QuarantineReplayParams are the arguments of QuarantineReplay.
type QuarantineReplayParams struct {
	Pipeline string
	Schema   *schema.Compiled
	Source   string
	// Rows are the rows that now pass, typed by Schema; IDs are the
	// quarantined rows they came from (the same length).
	Rows []schema.Row
	IDs  []int64
}

// FormatReplay is the format of a batch made by QuarantineReplay.
const FormatReplay = "replay"
