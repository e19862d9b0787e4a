package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/mlserve/mlserve/internal/mediatype"
	"github.com/mlserve/mlserve/internal/rawcsv"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// Format is a body format.
type Format string

// Body formats.
const (
	FormatJSON   = Format(mediatype.JSON)   // a JSON array of objects (or one object)
	FormatNDJSON = Format(mediatype.NDJSON) // one JSON object per line
	FormatCSV    = Format(mediatype.CSV)    // a header line, then rows
)

// FormatOf maps a Content-Type to a Format; "" when unsupported. A missing
// Content-Type is unsupported: a web page may post a body without one (and
// without a CORS preflight), never with one of these.
func FormatOf(contentType string) Format {
	return Format(mediatype.Of(contentType))
}

// BadRequestError is a body that cannot be read as a whole (malformed JSON
// structure, a bad CSV header). Nothing of it is stored.
type BadRequestError struct {
	Msg    string
	Fields schema.FieldErrors
}

func (e *BadRequestError) Error() string { return e.Msg }

// decoded is the outcome of reading a body: typed rows and rejects.
type decoded struct {
	rows    []schema.Row
	rejects []*store.Reject
	seen    int      // data rows read
	ignored []string // CSV columns the schema lacks, dropped
	header  string   // a CSV body's header line, as received
}

// reject quarantines the data row idx (0-based) that starts on line (1-based)
// of the body.
func (d *decoded) reject(idx, line int, raw string, fe schema.FieldErrors) {
	d.rejects = append(d.rejects, &store.Reject{Row: idx, Line: line, Raw: raw, Fields: fe})
}

// rowSlab hands out rows backed by large shared arrays, so a million-row
// body costs a few allocations instead of a million.
type rowSlab struct {
	width int
	buf   []schema.Value
}

func (s *rowSlab) next() schema.Row {
	if len(s.buf) < s.width {
		s.buf = make([]schema.Value, s.width*4096)
	}
	r := s.buf[:s.width:s.width]
	s.buf = s.buf[s.width:]
	return r
}

// decodeCSV reads a CSV body: header, then rows, its fields split at
// comma (0: the delimiter rawcsv.Sniff finds in the header). A bad header
// is a BadRequestError; bad rows are rejects.
func decodeCSV(r io.Reader, c *schema.Compiled, comma byte, progress func(int)) (*decoded, error) {
	if comma == 0 {
		br := bufio.NewReaderSize(r, 64<<10)
		first, _ := br.Peek(64 << 10) // a short peek is the whole body or its read error, which Read reports next
		comma, r = rawcsv.Sniff(first), br
	}
	rd := rawcsv.NewReader(r)
	rd.Comma = comma
	hdr, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return nil, &BadRequestError{Msg: "csv body is empty: expected a header line naming the columns"}
	}
	if err != nil {
		return nil, err
	}
	if hdr.Err != nil {
		// hdr.Err (a *rawcsv.ParseError) already gives the line.
		return nil, &BadRequestError{Msg: fmt.Sprintf("csv header: %v", hdr.Err)}
	}
	h, err := c.Header(hdr.Fields)
	if err != nil {
		var he *schema.HeaderError
		if errors.As(err, &he) {
			return nil, &BadRequestError{Msg: he.Error(), Fields: he.Fields()}
		}
		return nil, err
	}
	d := &decoded{ignored: h.Ignored, header: hdr.Raw}
	slab := rowSlab{width: c.Len()}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		idx := d.seen
		d.seen++
		if progress != nil && d.seen%10000 == 0 {
			progress(d.seen)
		}
		if rec.Err != nil {
			d.reject(idx, rec.Line, rec.Raw, schema.FieldErrors{"_row": rec.Err.Error()}) // gives the line
			continue
		}
		row, fe := h.Row(rec.Fields, slab.next())
		if fe != nil {
			d.reject(idx, rec.Line, rec.Raw, fe)
			continue
		}
		d.rows = append(d.rows, row)
	}
	return d, nil
}

// decodeJSON reads a JSON array of objects (or a single object).
func decodeJSON(r io.Reader, c *schema.Compiled, progress func(int)) (*decoded, error) {
	lines := &lineCounter{r: r}
	r = lines
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, &BadRequestError{Msg: "body is empty: expected a JSON array of row objects"}
	}
	if err != nil {
		return nil, badJSON(err)
	}
	d := &decoded{}
	slab := rowSlab{width: c.Len()}
	switch tok {
	case json.Delim('{'):
		// A single object: re-read it whole.
		rest, err := io.ReadAll(io.MultiReader(dec.Buffered(), r))
		if err != nil {
			return nil, err
		}
		raw := append([]byte("{"), rest...)
		if !json.Valid(bytes.TrimSpace(raw)) {
			return nil, &BadRequestError{Msg: "body is not valid JSON: expected an array of row objects or one object"}
		}
		d.one(c, &slab, 0, lines.lineAt(dec.InputOffset()-1), bytes.TrimSpace(raw))
		return d, nil
	case json.Delim('['):
	default:
		return nil, &BadRequestError{Msg: "body must be a JSON array of row objects (or one object)"}
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, badJSON(err)
		}
		// raw has no surrounding space: it started len(raw) bytes back.
		d.one(c, &slab, d.seen, lines.lineAt(dec.InputOffset()-int64(len(raw))), raw)
		d.seen++
		if progress != nil && d.seen%10000 == 0 {
			progress(d.seen)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, badJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &BadRequestError{Msg: "body has data after the JSON array"}
	}
	return d, nil
}

// decodeNDJSON reads one JSON object per line; a bad line is a reject.
func decodeNDJSON(r io.Reader, c *schema.Compiled, progress func(int)) (*decoded, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	d := &decoded{}
	slab := rowSlab{width: c.Len()}
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			d.one(c, &slab, d.seen, n, bytes.TrimSpace(line))
			d.seen++
			if progress != nil && d.seen%10000 == 0 {
				progress(d.seen)
			}
		}
		if errors.Is(err, io.EOF) {
			return d, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// one coerces one JSON row object, data row idx starting on line.
func (d *decoded) one(c *schema.Compiled, slab *rowSlab, idx, line int, raw []byte) {
	m, fe := jsonRow(raw)
	if fe != nil {
		d.reject(idx, line, string(raw), fe)
		return
	}
	row, fe := coerceMap(c, m, slab.next())
	if fe != nil {
		d.reject(idx, line, string(raw), fe)
		return
	}
	d.rows = append(d.rows, row)
}

// coerceMap is schema.Compiled.RowFromMap writing into dst.
func coerceMap(c *schema.Compiled, m map[string]schema.Raw, dst schema.Row) (schema.Row, schema.FieldErrors) {
	row, fe := c.RowFromMap(m)
	if fe != nil {
		return nil, fe
	}
	copy(dst, row)
	return dst, nil
}

// jsonRow decodes one JSON object into raw values.
func jsonRow(raw []byte) (map[string]schema.Raw, schema.FieldErrors) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		msg := "must be a JSON object of column: value"
		if err != nil {
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &se):
				msg = "invalid JSON: " + se.Error()
			case errors.As(err, &te):
				msg = "must be a JSON object of column: value, got " + te.Value
			}
		}
		return nil, schema.FieldErrors{"_row": msg}
	}
	if dec.More() {
		return nil, schema.FieldErrors{"_row": "invalid JSON: data after the object"}
	}
	return schema.RawFromJSON(obj)
}

func badJSON(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &BadRequestError{Msg: fmt.Sprintf("body is not valid JSON at byte %d: %v", se.Offset, se)}
	}
	// Inside the array, the end of the body (io.EOF from Token) is as
	// truncated as the end of a value.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &BadRequestError{Msg: "body is not valid JSON: it ends in the middle of a value"}
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return &BadRequestError{Msg: "body is not valid JSON: " + ue.Error()}
	}
	return err
}

// lineCounter passes a body through and answers which line a byte offset
// is on. Offsets asked must not decrease (the JSON decoder's do not); it
// keeps only the line breaks read past the last offset asked, so its
// memory is bounded by the decoder's read-ahead, not by the body.
type lineCounter struct {
	r      io.Reader
	read   int64   // bytes passed through
	breaks []int64 // offsets of line breaks read, from head on not yet counted
	head   int
	line   int // 1 + line breaks before the last offset asked
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.head >= 1024 && l.head*2 >= len(l.breaks) {
		// Drop the counted breaks: the copy is at most as long as them.
		l.breaks, l.head = l.breaks[:copy(l.breaks, l.breaks[l.head:])], 0
	}
	for off := 0; off < n; {
		i := bytes.IndexByte(p[off:n], '\n')
		if i < 0 {
			break
		}
		l.breaks = append(l.breaks, l.read+int64(off+i))
		off += i + 1
	}
	l.read += int64(n)
	return n, err
}

// lineAt returns the 1-based line of byte offset off.
func (l *lineCounter) lineAt(off int64) int {
	if l.line == 0 {
		l.line = 1
	}
	for l.head < len(l.breaks) && l.breaks[l.head] < off {
		l.head++
		l.line++
	}
	return l.line
}
