package score

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/jsonw"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/rawcsv"
	"github.com/mlserve/mlserve/internal/schema"
)

// csvSource reads CSV records. The header's columns that are features of
// the model feed it; the others (the target, an id) are only copied to the
// answer.
type csvSource struct {
	m       *artifact.Model
	rd      *rawcsv.Reader
	width   int   // fields per record, as in the header
	pos     []int // field of each feature column (by schema index), -1 when absent
	inputs  []int // feature columns in the header
	ignored []string
	empty   string // the prediction columns of an error row: commas only
}

// newCSVSource reads and checks the header and writes the answer's header
// to w. Nothing is written when the header is bad.
func newCSVSource(m *artifact.Model, r io.Reader, w io.Writer) (*csvSource, error) {
	rd := rawcsv.NewReader(r)
	rd.ReuseRecord = true
	hdr, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return nil, &BadInputError{Msg: "csv is empty: expected a header line naming the columns"}
	}
	if err != nil {
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	if hdr.Err != nil {
		return nil, &BadInputError{Msg: fmt.Sprintf("csv header: %v", hdr.Err)}
	}
	c := m.Schema()
	s := &csvSource{m: m, rd: rd, width: len(hdr.Fields), pos: make([]int, c.Len())}
	for i := range s.pos {
		s.pos[i] = -1
	}
	target := m.Artifact.Encoder.Target.Index
	var dup []string
	names := make([]string, len(hdr.Fields))
	for j, f := range hdr.Fields {
		name := strings.TrimSpace(f)
		names[j] = name
		i := c.Index(name)
		switch {
		case i < 0:
			s.ignored = addIgnored(s.ignored, name)
		case i == target || c.Column(i).Ignore:
		case s.pos[i] >= 0:
			dup = append(dup, name)
		default:
			s.pos[i] = j
			s.inputs = append(s.inputs, i)
		}
	}
	fe := schema.FieldErrors{}
	var missing []string
	for i := range s.pos {
		if s.pos[i] >= 0 || i == target {
			continue
		}
		// The rule of an absent value is the schema's: a column that may
		// be missing may be left out.
		if _, msg := c.Coerce(i, "", true); msg != "" {
			missing = append(missing, c.Column(i).Name)
			fe[c.Column(i).Name] = "is a feature of the model but not a column of the csv: " + msg
		}
	}
	for _, d := range dup {
		fe[d] = "appears more than once in the header"
	}
	if len(fe) > 0 {
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "lacks the model's required column(s) "+strings.Join(missing, ", "))
		}
		if len(dup) > 0 {
			parts = append(parts, "names column(s) more than once: "+strings.Join(dup, ", "))
		}
		return nil, &BadInputError{Msg: "csv header " + strings.Join(parts, "; "), Fields: fe}
	}
	out := append([]byte(nil), hdr.Raw...)
	cols := predictionColumns(m, names)
	for _, name := range cols {
		out = append(out, ',')
		out = appendCell(out, name)
	}
	out = append(out, '\n')
	s.empty = strings.Repeat(",", len(cols)-2)
	if _, err := w.Write(out); err != nil {
		return nil, fmt.Errorf("write answers: %w", err)
	}
	return s, nil
}

// predictionColumns names the columns an answer adds: label and p_<class>
// for each class (classification) or value (regression), then error. A
// name the input has already gets "predicted_" in front.
func predictionColumns(m *artifact.Model, input []string) []string {
	var cols []string
	if m.Task() == ml.Regression {
		cols = append(cols, "value")
	} else {
		cols = append(cols, "label")
		for _, c := range m.Classes() {
			cols = append(cols, "p_"+c)
		}
	}
	cols = append(cols, "error")
	taken := map[string]bool{}
	for _, n := range input {
		taken[n] = true
	}
	for i, c := range cols {
		for taken[c] {
			c = "predicted_" + c
		}
		cols[i] = c
		taken[c] = true
	}
	return cols
}

func (s *csvSource) read(c *chunk, max int) error {
	for !c.full(max) {
		rec, err := s.rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read csv: %w", err)
		}
		bad := ""
		switch {
		case rec.Err != nil:
			bad = rec.Err.Error() // names the line
		case len(rec.Fields) != s.width:
			bad = fmt.Sprintf("line %d: has %d fields, the header has %d", rec.Line, len(rec.Fields), s.width)
		}
		c.text = append(c.text, rec.Raw)
		c.bytes += len(rec.Raw)
		c.bad = append(c.bad, bad)
		n := min(len(rec.Fields), s.width)
		c.cells = append(c.cells, rec.Fields[:n]...)
		for range s.width - n {
			c.cells = append(c.cells, "")
		}
		c.n++
	}
	return nil
}

func (s *csvSource) score(c *chunk, p *part) {
	m := s.m
	f := p.fields(m)
	predict(m, p, func(i int, row schema.Row) string {
		if c.bad[i] != "" {
			return c.bad[i]
		}
		cells := c.cells[i*s.width : (i+1)*s.width]
		for _, col := range s.inputs {
			f.Raw[col], f.Given[col] = schema.Raw{Text: cells[s.pos[col]]}, true
		}
		if fe := m.CoerceFields(f, row); fe != nil {
			return fe.Error()
		}
		return ""
	})
	k := m.Outputs()
	b := p.out
	next := 0 // index in p.ok of the next valid row
	for j := range p.hi - p.lo {
		i := p.lo + j
		if c.bad[i] != "" {
			// Ragged or malformed: its cells, as many as the header's.
			for h, cell := range c.cells[i*s.width : (i+1)*s.width] {
				if h > 0 {
					b = append(b, ',')
				}
				b = appendCell(b, cell)
			}
		} else {
			b = append(b, c.text[i]...)
		}
		b = append(b, ',')
		msg := p.errs[j]
		if msg == "" {
			start := len(b)
			var ok bool
			b, ok = appendPrediction(b, m, p.y[next*k:(next+1)*k])
			next++
			if ok {
				b = append(b, ",\n"...)
				continue
			}
			b, msg = b[:start], notNumber
			p.errors++
		}
		b = append(b, s.empty...)
		b = append(b, ',')
		b = appendCell(b, msg)
		b = append(b, '\n')
	}
	p.out = b
}

// appendPrediction appends a row's prediction cells: the label and each
// class's probability, or the value. ok is false when an output is not a
// finite number.
func appendPrediction(b []byte, m *artifact.Model, out []float64) (_ []byte, ok bool) {
	if m.Task() == ml.Regression {
		return jsonw.Float(b, out[0])
	}
	classes := m.Classes()
	b = appendCell(b, classes[artifact.Best(out[:len(classes)])])
	for j := range classes {
		b = append(b, ',')
		if b, ok = jsonw.Float(b, out[j]); !ok {
			return b, false
		}
	}
	return b, true
}

// appendCell appends s as a CSV field, quoted when it must be (as
// encoding/csv's Writer decides).
func appendCell(b []byte, s string) []byte {
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t' {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// Copy reads CSV from r and writes each record's text to w, through the
// reading, chunking and writing of Stream but without a model: the cost
// of scoring is Stream's time less Copy's on the same input (`mlserve
// score --copy-only`, for the benchmark in bench/score).
func Copy(ctx context.Context, r io.Reader, w io.Writer, o Options) (*Summary, error) {
	o.ChunkRows = cmp.Or(o.ChunkRows, DefaultChunkRows)
	rd := rawcsv.NewReader(r)
	rd.ReuseRecord = true
	hdr, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return nil, &BadInputError{Msg: "csv is empty: expected a header line naming the columns"}
	}
	if err != nil {
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	if _, err := w.Write(append([]byte(hdr.Raw), '\n')); err != nil {
		return nil, fmt.Errorf("write answers: %w", err)
	}
	st := &stream{o: o, sum: &Summary{}}
	return st.sum, st.run(ctx, copySource{&csvSource{rd: rd, width: len(hdr.Fields)}}, w)
}

// copySource reads CSV and answers each record with its own text.
type copySource struct{ *csvSource }

func (s copySource) score(c *chunk, p *part) {
	for i := p.lo; i < p.hi; i++ {
		p.out = append(p.out, c.text[i]...)
		p.out = append(p.out, '\n')
	}
}
