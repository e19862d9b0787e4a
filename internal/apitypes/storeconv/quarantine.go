package storeconv

import (
	"strconv"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/store"
)

// QuarantinedRow returns the client's view of a quarantined row, raw
// text included (nil for nil).
func QuarantinedRow(r *store.Reject) *apitypes.QuarantinedRow {
	if r == nil {
		return nil
	}
	q := &apitypes.QuarantinedRow{
		ID: r.ID, BatchID: r.BatchID, Row: r.Row, Line: r.Line, Raw: r.Raw, Reasons: r.Fields, CreatedAt: r.CreatedAt,
	}
	if r.ReplayedBatchID != 0 {
		id := r.ReplayedBatchID
		q.ReplayedBatchID = &id
	}
	if q.Reasons == nil {
		q.Reasons = map[string]string{}
	}
	return q
}

// QuarantinePage converts a page of quarantined rows; next is the ID the
// next page starts below, 0 when there is none.
func QuarantinePage(rows []*store.Reject, next int64) *apitypes.QuarantinePage {
	p := &apitypes.QuarantinePage{Rows: convert(rows, QuarantinedRow)}
	if next != 0 {
		p.NextCursor = strconv.FormatInt(next, 10)
	}
	return p
}
