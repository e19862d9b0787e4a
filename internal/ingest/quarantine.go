package ingest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// Quarantine page sizes.
const (
	DefaultQuarantineLimit = 100
	MaxQuarantineLimit     = 1000
)

// QuarantinePage is one page of a pipeline's quarantine, newest first.
type QuarantinePage struct {
	Rows []*store.Reject
	// Next is the cursor of the next page: the ID of the last row shown;
	// 0 when this is the last page.
	Next int64
}

// Quarantine returns up to limit quarantined rows of pipeline with an ID
// below before (0: from the newest).
func (s *Service) Quarantine(ctx context.Context, pipeline string, limit int, before int64) (*QuarantinePage, error) {
	if _, err := s.Schema(pipeline); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultQuarantineLimit
	}
	limit = min(limit, MaxQuarantineLimit)
	// One more than asked tells whether a next page exists.
	rows, err := s.store.QuarantineList(ctx, &store.QuarantineListParams{Pipeline: pipeline, Limit: limit + 1, Before: before})
	if err != nil {
		return nil, fmt.Errorf("read quarantine of %s: %w", pipeline, err)
	}
	page := &QuarantinePage{Rows: rows}
	if len(rows) > limit {
		page.Rows = rows[:limit]
		page.Next = rows[limit-1].ID
	}
	return page, nil
}

// ReplayResult is the outcome of Replay.
type ReplayResult struct {
	// BatchID is the batch the rows that now pass moved into; 0 when none
	// did.
	BatchID int64
	// Replayed counts the rows moved; StillRejected the rows that still
	// fail (they stay pending and a later replay tries them again).
	Replayed      int64
	StillRejected int64
}

// replayPage is how many pending rows Replay reads at a time.
const replayPage = 1000

// Replay checks every quarantined row of pipeline that no replay moved yet
// against the pipeline's current schema, and stores the rows that now pass
// as one new batch, marking them replayed in the same transaction: a row
// moves at most once, and the quarantine keeps it, marked, as history.
func (s *Service) Replay(ctx context.Context, pipeline string) (*ReplayResult, error) {
	c, err := s.Schema(pipeline)
	if err != nil {
		return nil, err
	}
	var rows []schema.Row
	var ids []int64
	out := &ReplayResult{}
	var after int64
	for {
		page, err := s.store.QuarantinePending(ctx, &store.QuarantinePendingParams{Pipeline: pipeline, AfterID: after, Limit: replayPage})
		if err != nil {
			return nil, fmt.Errorf("read quarantine of %s: %w", pipeline, err)
		}
		for _, p := range page {
			after = p.ID
			row, ok := recheck(c, p)
			if !ok {
				out.StillRejected++
				continue
			}
			rows = append(rows, row)
			ids = append(ids, p.ID)
		}
		if len(page) < replayPage {
			break
		}
	}
	if len(rows) == 0 {
		return out, nil
	}
	res, err := s.store.QuarantineReplay(ctx, &store.QuarantineReplayParams{
		Pipeline: pipeline, Schema: c, Source: "replay", Rows: rows, IDs: ids,
	})
	if err != nil {
		return nil, fmt.Errorf("store replayed rows of %s: %w", pipeline, err)
	}
	out.BatchID, out.Replayed = res.BatchID, res.Accepted
	s.metrics.Ingested(pipeline, res.Accepted, 0)
	s.logger.InfoContext(ctx, "quarantine replayed", "pipeline", pipeline, "batch_id", res.BatchID,
		"replayed", out.Replayed, "still_rejected", out.StillRejected)
	s.hub.Publish(pipeline)
	return out, nil
}

// recheck reads a quarantined row again, as its batch's format says,
// against c: the typed row and true when it now passes.
func recheck(c *schema.Compiled, p *store.PendingReject) (schema.Row, bool) {
	var d *decoded
	var err error
	switch {
	case p.Format == string(FormatCSV) && p.Header != "":
		d, err = decodeCSV(strings.NewReader(p.Header+"\n"+p.Raw), c, 0, nil)
	case p.Format == string(FormatJSON) || p.Format == string(FormatNDJSON) ||
		(p.Format == "" && strings.HasPrefix(strings.TrimSpace(p.Raw), "{")):
		d = &decoded{}
		d.one(c, &rowSlab{width: c.Len()}, 0, 1, []byte(p.Raw))
	default:
		// A CSV row quarantined before batches kept their header: its
		// columns cannot be named.
		return nil, false
	}
	if err != nil || len(d.rows) != 1 {
		return nil, false
	}
	return d.rows[0], true
}

// Answer is the client's view of the replay.
func (r *ReplayResult) Answer() *apitypes.ReplayAnswer {
	return &apitypes.ReplayAnswer{BatchID: r.BatchID, Replayed: r.Replayed, StillRejected: r.StillRejected}
}

func (s *Service) handleQuarantine(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultQuarantineLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxQuarantineLimit {
			s.writeErr(w, r, badParam("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxQuarantineLimit)))
			return
		}
		limit = n
	}
	var before int64
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.writeErr(w, r, badParam("cursor", "must be the next_cursor of an earlier page"))
			return
		}
		before = n
	}
	page, err := s.Quarantine(r.Context(), r.PathValue("name"), limit, before)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, storeconv.QuarantinePage(page.Rows, page.Next))
}

func (s *Service) handleReplay(w http.ResponseWriter, r *http.Request) {
	res, err := s.Replay(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res.Answer())
}

// badParam is a 400 naming a query parameter and its rule.
func badParam(name, rule string) error {
	return &httpx.Error{Status: http.StatusBadRequest, Code: "bad_request",
		Message: name + " " + rule, Fields: map[string]string{name: rule}}
}
