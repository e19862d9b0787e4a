// Package score predicts a stream of rows with one model and writes each
// row's answer in the stream's own format, in input order: batch scoring
// for `mlserve score` and for the CSV and NDJSON bodies of the predict
// route. A row that fails validation gets its error in its answer and the
// other rows are scored; only a stream that cannot be read as a whole (no
// header, a header that lacks a required column) fails.
package score

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/mediatype"
	"github.com/mlserve/mlserve/internal/schema"
)

// Format is a stream format.
type Format string

// Stream formats.
const (
	// CSV is a header line, then one record per row. The answer is the
	// input's columns, then the prediction columns and error.
	CSV = Format(mediatype.CSV)
	// NDJSON is one JSON object per line. The answer is one JSON object per
	// non-blank line: the prediction, or {"error", "fields"}.
	NDJSON = Format(mediatype.NDJSON)
)

// Options configure Stream.
type Options struct {
	Format Format
	// ChunkRows is how many rows are read, scored and written together
	// (DefaultChunkRows when 0).
	ChunkRows int
	// MaxRows, when above 0, is the most rows the stream may hold: past it
	// Stream fails with *TooManyRowsError.
	MaxRows int
	// Progress, when set, is called with the rows written so far after
	// each chunk.
	Progress func(rows int64)
}

// DefaultChunkRows is the chunk size when Options.ChunkRows is 0.
const DefaultChunkRows = 8192

// Summary is what Stream did.
type Summary struct {
	Rows   int64 // rows answered
	Errors int64 // of which rows answered with an error
	// Ignored are the input's column names (CSV) or keys (NDJSON) that are
	// not columns of the model's schema, in order of appearance (at most
	// MaxIgnored).
	Ignored []string
}

// MaxIgnored is the most names Summary.Ignored lists.
const MaxIgnored = 20

// BadInputError is a stream that cannot be scored as a whole: empty, a
// malformed header, or a header that lacks a required column.
type BadInputError struct {
	Msg    string
	Fields schema.FieldErrors // by column, when the problem is a column's
}

func (e *BadInputError) Error() string { return e.Msg }

// TooManyRowsError is a stream with more rows than Options.MaxRows.
type TooManyRowsError struct{ Max int }

func (e *TooManyRowsError) Error() string {
	return fmt.Sprintf("more than %d rows", e.Max)
}

// Stream reads rows in o.Format from r, predicts them with m and writes
// the answers to w, in input order, a chunk at a time: one goroutine reads
// a chunk while the one before it is scored (split over the cores
// artifact.Split gives it) and the one before that is written, so memory
// stays a few chunks whatever the input's size. The bytes written depend
// only on the input and the model. An error of r, w or ctx stops the
// stream; what was written stays written.
func Stream(ctx context.Context, m *artifact.Model, r io.Reader, w io.Writer, o Options) (*Summary, error) {
	o.ChunkRows = cmp.Or(o.ChunkRows, DefaultChunkRows)
	st := &stream{m: m, o: o, sum: &Summary{}}
	var src source
	switch o.Format {
	case CSV:
		c, err := newCSVSource(m, r, w)
		if err != nil {
			return nil, err
		}
		st.sum.Ignored = c.ignored
		src = c
	case NDJSON:
		src = newNDJSONSource(m, r)
	default:
		return nil, fmt.Errorf("score: unknown format %q", o.Format)
	}
	return st.sum, st.run(ctx, src, w)
}

// chunksInFlight is how many chunks a stream holds: one being read, one
// scored, one written and one to spare.
const chunksInFlight = 4

// source is one format's reading and scoring.
type source interface {
	// read fills c with up to max rows; none at the end of the input.
	read(c *chunk, max int) error
	// score answers rows [p.lo, p.hi) of c into p.out.
	score(c *chunk, p *part)
}

// chunk is rows read together, and their answers.
type chunk struct {
	n     int
	bytes int      // of text: a chunk is full at maxChunkBytes too
	text  []string // CSV: each record's raw text; NDJSON: each line
	cells []string // CSV: width cells per row
	bad   []string // per row: its problem as read (malformed, ragged), or ""
	parts []part
}

// chunkPool keeps chunks between streams (a predict request is one), so
// that their memory is not grown again for each.
var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

// maxChunkBytes is the most input text a chunk holds, whatever its rows:
// with long lines a chunk has fewer rows, so memory stays bounded.
const maxChunkBytes = 16 << 20

// full reports whether c holds max rows or maxChunkBytes of text.
func (c *chunk) full(max int) bool { return c.n >= max || c.bytes >= maxChunkBytes }

// maxKeepCells and maxKeepOut bound the memory a pooled chunk keeps.
const (
	maxKeepCells = DefaultChunkRows * 64
	maxKeepOut   = 4 << 20
)

// putChunk gives c back to the pool unless it is too large, without the
// rows it points to.
func putChunk(c *chunk) {
	if cap(c.cells) > maxKeepCells {
		return
	}
	for _, p := range c.parts {
		if cap(p.out) > maxKeepOut {
			return
		}
	}
	clear(c.text[:cap(c.text)])
	clear(c.cells[:cap(c.cells)])
	clear(c.bad[:cap(c.bad)])
	for i := range c.parts[:cap(c.parts)] {
		p := &c.parts[i]
		clear(p.slab[:cap(p.slab)])
		clear(p.errs[:cap(p.errs)])
		clear(p.fe[:cap(p.fe)])
		p.ignored = p.ignored[:0]
		p.rows = p.rows[:0]
		if p.f != nil {
			p.f.Reset()
		}
	}
	c.reset()
	chunkPool.Put(c)
}

// reset empties c for the next read.
func (c *chunk) reset() {
	c.n, c.bytes = 0, 0
	c.text, c.cells, c.bad = c.text[:0], c.cells[:0], c.bad[:0]
}

// part is one goroutine's share of a chunk.
type part struct {
	lo, hi  int
	out     []byte
	errors  int
	ignored []string // NDJSON keys that are no column, in order of appearance
	f       *artifact.Fields
	slab    []schema.Value
	rows    []schema.Row
	ok      []int // rows that passed validation
	x, y    []float64
	errs    []string             // per row of the part: its error, or ""
	fe      []schema.FieldErrors // NDJSON: per row of the part, its field errors
}

// minPart is the fewest rows a chunk is split into parts of.
const minPart = 256

type stream struct {
	m   *artifact.Model
	o   Options
	sum *Summary
}

// run reads, scores and writes chunks until the input ends or something
// fails.
func (st *stream) run(ctx context.Context, src source, w io.Writer) error {
	free := make(chan *chunk, chunksInFlight)
	for range chunksInFlight {
		free <- chunkPool.Get().(*chunk)
	}
	defer func() {
		for range chunksInFlight {
			putChunk(<-free)
		}
	}()
	read := make(chan *chunk, chunksInFlight)
	scored := make(chan *chunk, chunksInFlight)
	stop := make(chan struct{})
	var readErr error
	go func() { // reader
		defer close(read)
		total := 0
		for {
			var c *chunk
			select {
			case <-stop:
				return
			default:
			}
			select {
			case c = <-free:
			case <-stop:
				return
			}
			c.reset()
			max := st.o.ChunkRows
			if st.o.MaxRows > 0 {
				max = min(max, st.o.MaxRows+1-total)
			}
			err := ctx.Err()
			if err == nil {
				err = src.read(c, max)
			}
			total += c.n
			if err == nil && st.o.MaxRows > 0 && total > st.o.MaxRows {
				err = &TooManyRowsError{Max: st.o.MaxRows}
			}
			if err != nil || c.n == 0 {
				readErr = err
				free <- c // never blocks: free has room for every chunk
				return
			}
			read <- c
		}
	}()
	go func() { // scorer
		defer close(scored)
		for c := range read {
			st.score(src, c)
			scored <- c
		}
	}()
	var werr error
	for c := range scored { // writer
		if werr == nil {
			werr = st.write(w, c)
			if werr != nil {
				close(stop)
			}
		}
		free <- c
	}
	if werr != nil {
		return werr
	}
	return readErr
}

// score answers chunk c, split over the cores.
func (st *stream) score(src source, c *chunk) {
	parts, size, done := artifact.Split(c.n, minPart)
	defer done()
	if cap(c.parts) < parts {
		c.parts = append(c.parts[:cap(c.parts)], make([]part, parts-cap(c.parts))...)
	}
	c.parts = c.parts[:parts]
	var wg sync.WaitGroup
	for i := range c.parts {
		p := &c.parts[i]
		p.lo, p.hi = min(i*size, c.n), min((i+1)*size, c.n)
		p.out, p.errors, p.ignored = p.out[:0], 0, p.ignored[:0]
		if i == 0 {
			continue
		}
		wg.Go(func() { src.score(c, p) })
	}
	src.score(c, &c.parts[0])
	wg.Wait()
}

// write writes c's answers in order and counts them.
func (st *stream) write(w io.Writer, c *chunk) error {
	for i := range c.parts {
		p := &c.parts[i]
		if _, err := w.Write(p.out); err != nil {
			return fmt.Errorf("write answers: %w", err)
		}
		st.sum.Errors += int64(p.errors)
		for _, k := range p.ignored {
			st.sum.Ignored = addIgnored(st.sum.Ignored, k)
		}
	}
	st.sum.Rows += int64(c.n)
	if st.o.Progress != nil {
		st.o.Progress(st.sum.Rows)
	}
	return nil
}

// addIgnored adds name to list unless it is there or the list is full.
func addIgnored(list []string, name string) []string {
	if len(list) >= MaxIgnored || slices.Contains(list, name) {
		return list
	}
	return append(list, strings.Clone(name))
}

// predict validates the part's rows with coerce (which fills a row from
// row i of the chunk, or returns its error), predicts the valid ones in
// one batch and leaves each row's error in p.errs. y holds the outputs of
// the valid rows, in p.ok order.
func predict(m *artifact.Model, p *part, coerce func(i int, row schema.Row) string) {
	n, cols, w, k := p.hi-p.lo, m.Schema().Len(), m.Width(), m.Outputs()
	p.slab = grow(p.slab, n*cols)
	p.rows = p.rows[:0]
	p.ok = p.ok[:0]
	p.errs = grow(p.errs, n)
	for j := range n {
		row := p.slab[j*cols : (j+1)*cols : (j+1)*cols]
		if msg := coerce(p.lo+j, row); msg != "" {
			p.errs[j] = msg
			p.errors++
			continue
		}
		p.errs[j] = ""
		p.rows = append(p.rows, row)
		p.ok = append(p.ok, j)
	}
	p.x = grow(p.x, len(p.rows)*w)
	p.y = grow(p.y, len(p.rows)*k)
	if len(p.rows) > 0 {
		m.PredictRows(p.rows, p.x, p.y)
	}
}

// fields returns the part's Fields for m, made once.
func (p *part) fields(m *artifact.Model) *artifact.Fields {
	if p.f == nil || p.f.Schema() != m.Schema() {
		p.f = artifact.NewFields(m.Schema())
	}
	return p.f
}

// grow returns s with length n, reusing its memory when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// notNumber is the error of a row whose prediction is NaN or infinite.
const notNumber = "the model's output is not a finite number"

// FormatOf maps a request's Content-Type to a stream format: the CSV and
// NDJSON media types the ingest role takes too (ingest.FormatOf). ok is
// false for any other.
func FormatOf(contentType string) (f Format, ok bool) {
	switch mediatype.Of(contentType) {
	case mediatype.CSV:
		return CSV, true
	case mediatype.NDJSON:
		return NDJSON, true
	}
	return "", false
}

// ContentType is the media type of an answer in format f.
func ContentType(f Format) string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson"
}
