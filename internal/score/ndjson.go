package score

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/jsonr"
	"github.com/mlserve/mlserve/internal/jsonw"
	"github.com/mlserve/mlserve/internal/schema"
)

// ndjsonSource reads one JSON object per line. Blank lines are skipped.
// Keys that are not columns of the schema, and the target, are ignored.
type ndjsonSource struct {
	m    *artifact.Model
	br   *bufio.Reader
	line int
}

func newNDJSONSource(m *artifact.Model, r io.Reader) *ndjsonSource {
	return &ndjsonSource{m: m, br: bufio.NewReaderSize(r, 64<<10)}
}

// MaxLineBytes is the longest NDJSON line read; a longer one is answered
// with an error.
const MaxLineBytes = 1 << 20

func (s *ndjsonSource) read(c *chunk, max int) error {
	for !c.full(max) {
		line, long, err := s.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read ndjson: %w", err)
		}
		s.line++
		switch {
		case long:
			c.text = append(c.text, "")
			c.bad = append(c.bad, fmt.Sprintf("line %d is longer than %d bytes", s.line, MaxLineBytes))
			c.n++
		case len(bytes.TrimSpace(line)) > 0:
			c.text = append(c.text, string(line))
			c.bytes += len(line)
			c.bad = append(c.bad, "")
			c.n++
		}
		if err != nil {
			return nil
		}
	}
	return nil
}

// readLine returns the next line without its end; long when it was longer
// than MaxLineBytes (its bytes are dropped).
func (s *ndjsonSource) readLine() (line []byte, long bool, err error) {
	var buf []byte
	for {
		frag, err := s.br.ReadSlice('\n')
		if !long {
			if len(buf)+len(frag) > MaxLineBytes+2 {
				long, buf = true, nil
			} else if buf != nil || errors.Is(err, bufio.ErrBufferFull) {
				buf = append(buf, frag...)
			} else {
				buf = frag
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), long, err
	}
}

const nestedValue = "must be a single value (string, number, boolean or null), not an object or array"

func (s *ndjsonSource) score(c *chunk, p *part) {
	m := s.m
	f := p.fields(m)
	target := m.Artifact.Encoder.Target.Index
	p.fe = grow(p.fe, p.hi-p.lo)
	clear(p.fe)
	predict(m, p, func(i int, row schema.Row) string {
		if c.bad[i] != "" {
			return c.bad[i]
		}
		f.Reset()
		if msg := s.object(c.text[i], f, p); msg != "" {
			return msg
		}
		if target >= 0 {
			f.Given[target] = false
		}
		if fe := m.CoerceFields(f, row); fe != nil {
			p.fe[i-p.lo] = maps.Clone(fe) // f.Errs is reused
			return fe.Error()
		}
		return ""
	})
	k := m.Outputs()
	b := p.out
	next := 0
	for j := range p.hi - p.lo {
		msg := p.errs[j]
		if msg == "" {
			var ok bool
			if b, ok = m.AppendPrediction(b, p.y[next*k:(next+1)*k]); ok {
				b = append(b, '\n')
				next++
				continue
			}
			next++
			msg = notNumber
			p.errors++
		}
		b = append(b, `{"error":`...)
		b = jsonw.String(b, msg)
		if fe := p.fe[j]; fe != nil {
			b = append(b, `,"fields":{`...)
			for n, k := range slices.Sorted(maps.Keys(fe)) {
				if n > 0 {
					b = append(b, ',')
				}
				b = jsonw.String(b, k)
				b = append(b, ':')
				b = jsonw.String(b, fe[k])
			}
			b = append(b, '}')
		}
		b = append(b, "}\n"...)
	}
	p.out = b
}

// object reads line's JSON object into f; the message says why it cannot.
// Keys that are no column are noted in p.ignored and skipped.
func (s *ndjsonSource) object(line string, f *artifact.Fields, p *part) string {
	d := jsonr.NewScanner(line)
	d.Space()
	if d.Peek() != '{' {
		if err := d.SkipValue(0); err != nil {
			return "invalid JSON: " + err.Error()
		}
		return "must be a JSON object of column: value"
	}
	c := f.Schema()
	err := d.Object(func(key string) error {
		if c.Index(key) < 0 {
			if !slices.Contains(p.ignored, key) && len(p.ignored) < MaxIgnored {
				p.ignored = append(p.ignored, key)
			}
			return d.SkipValue(1)
		}
		switch d.Peek() {
		case '{', '[':
			f.Fail(key, nestedValue)
			return d.SkipValue(1)
		}
		text, null, err := d.Scalar()
		if err != nil {
			return err
		}
		delete(f.Errs, key)
		f.Set(key, schema.Raw{Text: text, Missing: null})
		return nil
	}, 0)
	if err != nil {
		return "invalid JSON: " + err.Error()
	}
	d.Space()
	if !d.EOF() {
		return "invalid JSON: data after the object"
	}
	return ""
}
