// Package ingest checks incoming rows against a pipeline's schema and stores
// them: the accepted rows of one request or file in one batch, in one
// transaction, with every rejected row quarantined with its raw text and
// reasons. It also serves the ingest role's HTTP routes.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/mlserve/mlserve/internal/metrics"
	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// ErrUnknownPipeline is returned for a pipeline the configuration lacks.
var ErrUnknownPipeline = errors.New("unknown pipeline")

// MaxErrorsInAnswer caps the rejected rows listed in an answer; the counts
// are always exact and every reject is in the quarantine.
const MaxErrorsInAnswer = 1000

// Service ingests rows into the store.
type Service struct {
	store     store.Store
	pipelines map[string]*schema.Compiled
	schemas   func(string) (*schema.Compiled, bool)
	order     []string
	hub       *notify.Hub
	logger    *slog.Logger
	metrics   *metrics.Metrics
}

// Config configures a Service.
type Config struct {
	Store store.Store
	// Pipelines maps pipeline names to their compiled schemas.
	Pipelines map[string]*schema.Compiled
	// Schemas, if set, is asked instead of Pipelines at each request: the
	// pipeline's current schema, which may change while the process runs.
	Schemas func(pipeline string) (*schema.Compiled, bool)
	// Order lists the pipeline names in configuration order.
	Order []string
	// NewRows, if set, is signalled with the pipeline name after each batch
	// that stored rows.
	NewRows *notify.Hub
	Logger  *slog.Logger
	// Metrics, if set, counts stored batches and their rows.
	Metrics *metrics.Metrics
}

// New returns a Service.
func New(cfg Config) *Service {
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Service{store: cfg.Store, pipelines: cfg.Pipelines, schemas: cfg.Schemas, order: cfg.Order, hub: cfg.NewRows, logger: l, metrics: cfg.Metrics}
}

// Request is one body of rows to ingest.
type Request struct {
	Pipeline       string
	Format         Format
	Body           io.Reader
	Source         string // "http", "file:NAME", "datafill"
	IdempotencyKey string
	// Progress, if set, is called with the number of rows read so far.
	Progress func(rows int)
	// Delimiter splits a CSV's fields; 0 detects it from the header (one
	// of rawcsv.Delimiters).
	Delimiter byte
}

// Schema returns a pipeline's compiled schema.
func (s *Service) Schema(pipeline string) (*schema.Compiled, error) {
	c, ok := s.pipelines[pipeline]
	if s.schemas != nil {
		c, ok = s.schemas(pipeline)
	}
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownPipeline, pipeline)
	}
	return c, nil
}

// Ingest reads, checks and stores one body. A body that cannot be read as a
// whole is a *BadRequestError and nothing is stored; otherwise the accepted
// rows and the rejects commit together.
func (s *Service) Ingest(ctx context.Context, req *Request) (*store.BatchResult, error) {
	c, err := s.Schema(req.Pipeline)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	body := io.TeeReader(req.Body, h)
	var d *decoded
	switch req.Format {
	case FormatCSV:
		d, err = decodeCSV(body, c, req.Delimiter, req.Progress)
	case FormatNDJSON:
		d, err = decodeNDJSON(body, c, req.Progress)
	case FormatJSON:
		d, err = decodeJSON(body, c, req.Progress)
	default:
		return nil, &BadRequestError{Msg: fmt.Sprintf("unsupported body format %q: send application/json, application/x-ndjson or text/csv", req.Format)}
	}
	if err != nil {
		return nil, err
	}
	if req.Format == FormatCSV && d.seen == 0 {
		return nil, &BadRequestError{Msg: "the CSV has a header and no rows"}
	}
	// Hash what the decoder may not have consumed (trailing bytes).
	if _, err := io.Copy(io.Discard, body); err != nil {
		return nil, err
	}
	res, err := s.store.BatchInsert(ctx, &store.BatchInsertParams{
		Pipeline:       req.Pipeline,
		Schema:         c,
		Source:         req.Source,
		IdempotencyKey: req.IdempotencyKey,
		RequestSHA256:  string(req.Format) + ":" + hex.EncodeToString(h.Sum(nil)),
		Format:         string(req.Format),
		Header:         d.header,
		Rows:           d.rows,
		Rejects:        d.rejects,
	})
	if err != nil {
		return nil, fmt.Errorf("store batch of %s: %w", req.Pipeline, err)
	}
	res.IgnoredColumns = d.ignored
	if len(res.Errors) > MaxErrorsInAnswer {
		res.Errors = res.Errors[:MaxErrorsInAnswer]
	}
	if res.Errors == nil {
		res.Errors = []*store.Reject{}
	}
	if !res.Replayed {
		s.metrics.Ingested(req.Pipeline, res.Accepted, res.Rejected)
		s.logger.DebugContext(ctx, "batch stored", "pipeline", req.Pipeline, "batch_id", res.BatchID,
			"accepted", res.Accepted, "rejected", res.Rejected, "source", req.Source)
		if res.Accepted > 0 {
			s.hub.Publish(req.Pipeline)
		}
	}
	return res, nil
}

// Check reads a body like Ingest but stores nothing: the answer says what
// would be accepted and rejected (mlserve schema check).
func (s *Service) Check(ctx context.Context, req *Request) (*store.BatchResult, error) {
	c, err := s.Schema(req.Pipeline)
	if err != nil {
		return nil, err
	}
	var d *decoded
	switch req.Format {
	case FormatCSV:
		d, err = decodeCSV(req.Body, c, req.Delimiter, req.Progress)
	case FormatNDJSON:
		d, err = decodeNDJSON(req.Body, c, req.Progress)
	default:
		d, err = decodeJSON(req.Body, c, req.Progress)
	}
	if err != nil {
		return nil, err
	}
	return &store.BatchResult{Accepted: int64(len(d.rows)), Rejected: int64(len(d.rejects)), Errors: d.rejects, IgnoredColumns: d.ignored}, nil
}
