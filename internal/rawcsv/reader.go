// Package rawcsv reads RFC 4180 CSV record by record, keeping each record's
// raw text and starting line, and recovers from malformed records instead of
// stopping at the first one.
//
// It exists because ingest must quarantine every bad row with its raw text
// and a reason, count rows exactly and never lose the rest of a file to one
// broken quote; encoding/csv gives neither the raw text of a record nor a way
// to resynchronise after an error.
//
// On valid input the fields are the ones encoding/csv returns (with
// FieldsPerRecord = -1): "," separates fields, a field may be quoted with ""
// as an escaped quote and may then hold separators and line breaks, and a
// CRLF inside a quoted field reads as LF. Empty lines are skipped. A UTF-8
// byte order mark at the start of the input is dropped. Ragged rows are not
// the reader's business: it returns the fields and the caller compares their
// number with the header's.
//
// A malformed record is always exactly its first physical line: Read returns
// it with Err set, Raw holding that line, and continues at the next line.
// This covers a bare quote in an unquoted field, text after a closing quote,
// and a quoted field that is not closed before the end of the input (or
// before the record grows past Reader.MaxRecordBytes), so one stray quote
// cannot swallow the rest of a file: the lines after it are read again as
// records of their own. Re-reading is bounded: a byte is scanned at most a
// few times whatever the input.
//
// This is a leaf package.
package rawcsv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultMaxRecordBytes is the largest record (its raw text without the
// final line break) a Reader accepts when MaxRecordBytes is zero.
const DefaultMaxRecordBytes = 1 << 20

// Problems a record can have; Record.Err is a *ParseError wrapping one.
var (
	// ErrUnterminatedQuote: a quoted field is not closed before the end of
	// the input, or its record broke a rule on a later line (the quote that
	// opened it is then the most likely culprit).
	ErrUnterminatedQuote = errors.New("unterminated quoted field")
	// ErrBareQuote: a quote inside a field that does not start with one.
	ErrBareQuote = errors.New(`bare " in unquoted field (quote the field and double the inner quote)`)
	// ErrTextAfterQuote: a closing quote followed by something other than a
	// separator, another quote or the end of the line.
	ErrTextAfterQuote = errors.New(`text after the closing " of a quoted field`)
	// ErrTooLong: the record is longer than Reader.MaxRecordBytes.
	ErrTooLong = errors.New("record too long")
)

// ParseError locates the problem of a malformed record.
type ParseError struct {
	// Line is the 1-based line of the problem.
	Line int
	// Column is the 1-based byte offset of the problem in its line, or 0.
	Column int
	// Err is one of ErrUnterminatedQuote, ErrBareQuote, ErrTextAfterQuote,
	// ErrTooLong (possibly wrapped with detail).
	Err error
}

// Error says where and what.
func (e *ParseError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

// Unwrap returns the cause, so errors.Is works with the sentinels.
func (e *ParseError) Unwrap() error { return e.Err }

// Record is one CSV record.
type Record struct {
	// Fields are the record's values, unquoted and unescaped; nil when Err
	// is set. The strings never change once returned; the slice itself is
	// reused by the next Read when Reader.ReuseRecord is set.
	Fields []string
	// Raw is the record's text as it appeared in the input, inner line
	// breaks included, without the line break that ends it (LF or CRLF, or
	// a lone CR at the very end of the input). For a record that is a single
	// line longer than MaxRecordBytes, Raw holds its first MaxRecordBytes
	// bytes only.
	Raw string
	// Line is the 1-based line on which the record starts.
	Line int
	// Err is the record's problem (a *ParseError), or nil.
	Err error
}

// Reader reads records from a CSV input. It buffers its input; it is not
// safe for concurrent use.
type Reader struct {
	// ReuseRecord makes Read return Fields in a slice shared with the
	// previous call, for speed; the slice is valid until the next Read. The
	// field strings stay valid either way.
	ReuseRecord bool
	// MaxRecordBytes bounds a record's raw size (and so the reader's
	// memory); 0 means DefaultMaxRecordBytes. A longer record is returned
	// with ErrTooLong.
	MaxRecordBytes int
	// Comma is the field delimiter; 0 means ','. It must not be '"', '\r'
	// or '\n' (see Delimiter).
	Comma byte

	src      io.Reader
	bufSize  int    // initial buffer size; tests make it tiny
	buf      []byte // unread input is buf[pos:end]
	pos, end int
	eof      bool
	err      error // sticky read error
	line     int   // line number of buf[pos]
	started  bool  // BOM check done

	fieldBuf []byte // unescaped field bytes of a quoted record
	ends     []int  // end offset in fieldBuf of each field
	fields   []string
}

// comma is the field delimiter.
func (r *Reader) comma() byte {
	if r.Comma == 0 {
		return ','
	}
	return r.Comma
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{src: r, bufSize: 64 << 10, line: 1}
}

// Read returns the next record. Its error is io.EOF at the end of the input
// or the input's own read error; a malformed record is no error of Read but
// a Record with Err set, and the next Read continues after it.
func (r *Reader) Read() (Record, error) {
	limit := r.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	if !r.started {
		r.started = true
		for r.end-r.pos < 3 && r.fill() {
		}
		if bytes.HasPrefix(r.buf[r.pos:r.end], []byte("\ufeff")) {
			r.pos += 3
		}
	}
	for {
		ce, next, st := r.nextLine(0, limit)
		switch st {
		case lineNone:
			return Record{}, io.EOF
		case lineErr:
			return Record{}, r.err
		case lineTooLong:
			return r.tooLong(limit, next), nil
		}
		if ce == 0 { // empty line
			r.pos += next
			r.line++
			continue
		}
		if bytes.IndexByte(r.buf[r.pos:r.pos+ce], '"') < 0 {
			return r.plain(ce, next), nil
		}
		return r.quoted(ce, next, limit)
	}
}

// Line statuses of nextLine.
const (
	lineOK      = iota
	lineNone    // no input left at the line's start
	lineErr     // read error (in r.err)
	lineTooLong // the record would exceed the limit
)

// nextLine finds the line starting at offset off from r.pos, reading more
// input as needed. ce is the end of its content (before LF, CRLF, or a CR
// ending the input) and next the start of the following line, both offsets
// from r.pos, which fill may move. With lineTooLong, next is the start of
// the following line when known, else -1.
func (r *Reader) nextLine(off, limit int) (ce, next, st int) {
	scan := off
	for {
		data := r.buf[r.pos:r.end]
		if i := bytes.IndexByte(data[scan:], '\n'); i >= 0 {
			nl := scan + i
			ce = nl
			if ce > off && data[ce-1] == '\r' {
				ce--
			}
			if ce > limit {
				return 0, nl + 1, lineTooLong
			}
			return ce, nl + 1, lineOK
		}
		scan = len(data)
		if scan > limit+1 {
			return 0, -1, lineTooLong
		}
		if !r.fill() {
			if r.err != nil {
				return 0, 0, lineErr
			}
			data = r.buf[r.pos:r.end]
			if len(data) == off {
				return 0, off, lineNone
			}
			ce = len(data)
			if data[ce-1] == '\r' {
				ce-- // as encoding/csv: a CR ending the input ends the line
			}
			if ce > limit {
				return 0, len(data), lineTooLong
			}
			return ce, len(data), lineOK
		}
	}
}

// fill reads more input into buf, keeping buf[pos:end] (possibly moved to
// the front). It reports whether any byte was added.
func (r *Reader) fill() bool {
	if r.eof || r.err != nil {
		return false
	}
	if r.end == len(r.buf) {
		switch {
		case r.buf == nil:
			r.buf = make([]byte, r.bufSize)
		case r.pos > 0:
			copy(r.buf, r.buf[r.pos:r.end])
			r.end -= r.pos
			r.pos = 0
		default:
			nb := make([]byte, 2*len(r.buf))
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			if err == io.EOF {
				r.eof = true
			} else {
				r.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.err = io.ErrNoProgress
	return false
}

// fieldSlice returns an empty slice with room for n fields.
func (r *Reader) fieldSlice(n int) []string {
	if !r.ReuseRecord {
		return make([]string, 0, n)
	}
	if cap(r.fields) < n {
		r.fields = make([]string, 0, n)
	}
	return r.fields[:0]
}

// keep stores the fields slice for reuse.
func (r *Reader) keep(fields []string) {
	if r.ReuseRecord {
		r.fields = fields
	}
}

// plain returns a one-line record without quotes (the common case): its
// fields are slices of its raw text, so it costs one string allocation.
func (r *Reader) plain(ce, next int) Record {
	line := r.buf[r.pos : r.pos+ce]
	raw := string(line)
	comma := r.comma()
	fields := r.fieldSlice(bytes.Count(line, []byte{comma}) + 1)
	for s := raw; ; {
		j := strings.IndexByte(s, comma)
		if j < 0 {
			fields = append(fields, s)
			break
		}
		fields = append(fields, s[:j])
		s = s[j+1:]
	}
	r.keep(fields)
	rec := Record{Fields: fields, Raw: raw, Line: r.line}
	r.pos += next
	r.line++
	return rec
}

// tooLong returns the first line as a record too long to read; next is the
// start of the following line, or -1 when it is not yet known.
func (r *Reader) tooLong(limit, next int) Record {
	rec := Record{
		Raw:  string(r.buf[r.pos : r.pos+limit]),
		Line: r.line,
		Err:  &ParseError{Line: r.line, Err: fmt.Errorf("%w: line longer than %d bytes", ErrTooLong, limit)},
	}
	r.line++
	if next >= 0 {
		r.pos += next
		return rec
	}
	for { // discard the rest of the line, a buffer at a time
		if i := bytes.IndexByte(r.buf[r.pos:r.end], '\n'); i >= 0 {
			r.pos += i + 1
			return rec
		}
		r.pos = r.end
		if !r.fill() {
			return rec
		}
	}
}

// quoted parses a record whose first line (content ends at ce, next line
// at next, offsets from r.pos) holds a quote. The record may span lines.
// A malformed record is its first line alone, and reading goes on at the
// second: when the problem shows on a later line, the quote of the first
// line whose field ran past it is blamed, and the later lines are read again.
func (r *Reader) quoted(ce, next, limit int) (Record, error) {
	r.fieldBuf = r.fieldBuf[:0]
	r.ends = r.ends[:0]
	firstCE, firstNext := ce, next
	off := 0     // start of the current line
	lines := 0   // lines read after the first
	i := 0       // position in the current line's content
	spanCol := 0 // column of the quote whose field ran past the first line
	bad := func(col int, err error) (Record, error) {
		rec := Record{
			Raw:  string(r.buf[r.pos : r.pos+firstCE]),
			Line: r.line,
			Err:  &ParseError{Line: r.line, Column: col, Err: err},
		}
		r.pos += firstNext
		r.line++
		return rec, nil
	}
	for { // one field per iteration
		content := r.buf[r.pos+off : r.pos+ce]
		if i >= len(content) || content[i] != '"' {
			rest := content[i:]
			j := bytes.IndexByte(rest, r.comma())
			f := rest
			if j >= 0 {
				f = rest[:j]
			}
			if q := bytes.IndexByte(f, '"'); q >= 0 {
				if lines > 0 {
					return bad(spanCol, ErrUnterminatedQuote)
				}
				return bad(i+q+1, ErrBareQuote)
			}
			r.fieldBuf = append(r.fieldBuf, f...)
			r.ends = append(r.ends, len(r.fieldBuf))
			if j < 0 {
				return r.quotedDone(ce, next, lines), nil
			}
			i += j + 1
			continue
		}
		openCol := i + 1
		i++
	field:
		for {
			content = r.buf[r.pos+off : r.pos+ce]
			j := bytes.IndexByte(content[i:], '"')
			if j < 0 {
				// The field goes on past this line.
				r.fieldBuf = append(r.fieldBuf, content[i:]...)
				r.fieldBuf = append(r.fieldBuf, '\n')
				if lines == 0 {
					spanCol = openCol
				}
				var st int
				off = next
				ce, next, st = r.nextLine(off, limit)
				switch st {
				case lineNone:
					return bad(spanCol, ErrUnterminatedQuote)
				case lineErr:
					return Record{}, r.err
				case lineTooLong:
					return bad(spanCol, fmt.Errorf("%w: quoted field not closed within %d bytes", ErrTooLong, limit))
				}
				lines++
				i = 0
				continue
			}
			r.fieldBuf = append(r.fieldBuf, content[i:i+j]...)
			i += j + 1
			switch {
			case i < len(content) && content[i] == '"': // escaped quote
				r.fieldBuf = append(r.fieldBuf, '"')
				i++
			case i < len(content) && content[i] == r.comma():
				r.ends = append(r.ends, len(r.fieldBuf))
				i++
				break field
			case i == len(content):
				r.ends = append(r.ends, len(r.fieldBuf))
				return r.quotedDone(ce, next, lines), nil
			default:
				if lines > 0 {
					return bad(spanCol, ErrUnterminatedQuote)
				}
				return bad(i, ErrTextAfterQuote)
			}
		}
	}
}

// quotedDone returns the record parsed into fieldBuf and ends, whose raw
// text is the ce bytes at r.pos, with one string allocation for raw text
// and fields together.
func (r *Reader) quotedDone(ce, next, lines int) Record {
	var b strings.Builder
	b.Grow(ce + len(r.fieldBuf))
	b.Write(r.buf[r.pos : r.pos+ce])
	b.Write(r.fieldBuf)
	s := b.String()
	raw, data := s[:ce], s[ce:]
	fields := r.fieldSlice(len(r.ends))
	prev := 0
	for _, e := range r.ends {
		fields = append(fields, data[prev:e])
		prev = e
	}
	r.keep(fields)
	rec := Record{Fields: fields, Raw: raw, Line: r.line}
	r.pos += next
	r.line += lines + 1
	return rec
}

// Delimiters are the field delimiters Sniff tells apart.
const Delimiters = ",;\t|"

// Sniff returns the delimiter of a CSV whose first line (its header) is
// line: the one of Delimiters it holds most often outside quotes, ','
// on a tie or when it holds none.
func Sniff(line []byte) byte {
	var n [len(Delimiters)]int
	quoted := false
	for _, c := range line {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if c == '\n' && !quoted {
			break
		}
		if i := strings.IndexByte(Delimiters, c); i >= 0 && !quoted {
			n[i]++
		}
	}
	best := 0
	for i := range n {
		if n[i] > n[best] {
			best = i
		}
	}
	return Delimiters[best]
}
