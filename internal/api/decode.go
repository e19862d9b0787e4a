package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/schema"
)

// instances is a decoded predict body: every instance's raw values by
// column, in slabs reused between requests.
type instances struct {
	cols  int
	raw   []schema.Raw // cols per instance
	given []bool
	// odd holds the instances with unknown names or decoder errors.
	odd map[int]*artifact.Fields

	cur       *artifact.Fields // the instance being read
	top       *artifact.Fields // the top-level object, when it is the instance
	topKeys   []string         // top-level keys other than "instances"
	inArray   bool             // an "instances" array was read (the last one wins)
	notArray  bool             // "instances" was not an array
	notObject int              // first element of "instances" that is not an object, or -1
	n         int              // instances read
}

// len is the number of instances.
func (in *instances) len() int { return in.n }

// fields returns instance i's values.
func (in *instances) fields(i int) *artifact.Fields {
	if f := in.odd[i]; f != nil {
		return f
	}
	return &artifact.Fields{Raw: in.raw[i*in.cols : (i+1)*in.cols], Given: in.given[i*in.cols : (i+1)*in.cols]}
}

// fieldsInto is fields without allocating: it points f at instance i.
func (in *instances) fieldsInto(i int, f *artifact.Fields) *artifact.Fields {
	if o := in.odd[i]; o != nil {
		return o
	}
	*f = artifact.Fields{Raw: in.raw[i*in.cols : (i+1)*in.cols], Given: in.given[i*in.cols : (i+1)*in.cols], Unknown: f.Unknown[:0]}
	return f
}

const nestedValue = "must be a single value (string, number, boolean or null), not an object or array"

func badBody(msg string) error {
	return httpx.Errorf(http.StatusBadRequest, "bad_request", "%s", msg)
}

// decode reads {"instances": [{…}, …]} or one {…} (null counts as {}) for
// the columns of c. The whole body is checked as JSON before any
// instance's values are judged, so that a syntax error anywhere is a 400
// bad_request; the checks and their order are those of the encoding/json
// decoder this replaces.
func (in *instances) decode(c *schema.Compiled, body string) error {
	in.cols = c.Len()
	in.raw, in.given = in.raw[:0], in.given[:0]
	clear(in.odd)
	in.topKeys = in.topKeys[:0]
	in.inArray, in.notArray, in.notObject, in.n = false, false, -1, 0
	if in.cur == nil || in.cur.Schema() != c {
		in.cur, in.top = artifact.NewFields(c), artifact.NewFields(c)
	}
	in.cur.Reset()
	in.top.Reset()
	d := scanner{s: body}
	d.ws()
	if d.eof() {
		return badBody(`body is empty: send {"instances": [{"column": value, …}]} or one {"column": value, …} object`)
	}
	isObject := d.peek() == '{'
	isNull := strings.HasPrefix(d.s[d.i:], "null")
	var err error
	if isObject {
		err = in.topObject(&d)
	} else {
		err = d.skipValue(0)
	}
	if err != nil {
		return badBody("body is not valid JSON: " + err.Error())
	}
	if !isObject && !isNull {
		return badBody(`body must be a JSON object: {"instances": [{"column": value, …}]} or one {"column": value, …}`)
	}
	d.ws()
	if !d.eof() && d.peek() != ']' && d.peek() != '}' {
		return badBody("body has data after the JSON object")
	}
	if !in.inArray && !in.notArray {
		in.n = 0
		in.raw, in.given = in.raw[:0], in.given[:0]
		clear(in.odd)
		in.add(in.top)
		return nil
	}
	switch {
	case in.notArray:
		return badBody(`"instances" must be an array of objects`)
	case in.n == 0:
		return badBody(`"instances" is empty`)
	case in.notObject >= 0:
		name := fmt.Sprintf("instances[%d]", in.notObject)
		return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_input",
			Message: name + " must be an object of column: value", Fields: map[string]string{name: "must be an object of column: value"}}
	case len(in.topKeys) > 0:
		keys := slices.Clone(in.topKeys)
		slices.Sort(keys)
		keys = slices.Compact(keys)
		return badBody(fmt.Sprintf("unknown top-level key(s) %v next to \"instances\"", keys))
	}
	return nil
}

// add appends f's values as the next instance.
func (in *instances) add(f *artifact.Fields) {
	in.raw = append(in.raw, f.Raw...)
	in.given = append(in.given, f.Given...)
	if len(f.Unknown) > 0 || len(f.Errs) > 0 {
		if in.odd == nil {
			in.odd = map[int]*artifact.Fields{}
		}
		in.odd[in.n] = &artifact.Fields{Raw: slices.Clone(f.Raw), Given: slices.Clone(f.Given),
			Unknown: slices.Clone(f.Unknown), Errs: f.Errs}
	}
	in.n++
}

func (in *instances) topObject(d *scanner) error {
	return d.object(func(key string) error {
		if key != "instances" {
			in.topKeys = append(in.topKeys, key)
			return in.member(d, in.top, key)
		}
		in.n, in.notObject = 0, -1
		in.raw, in.given = in.raw[:0], in.given[:0]
		clear(in.odd)
		if d.peek() != '[' {
			in.inArray, in.notArray = false, true
			return d.skipValue(1)
		}
		in.inArray, in.notArray = true, false
		return d.array(func(i int) error {
			if d.peek() != '{' {
				if in.notObject < 0 {
					in.notObject = i
				}
				in.n++
				in.raw = append(in.raw, in.cur.Raw...) // placeholder row
				in.given = append(in.given, in.cur.Given...)
				return d.skipValue(2)
			}
			in.cur.Reset()
			if err := d.object(func(key string) error { return in.member(d, in.cur, key) }, 2); err != nil {
				return err
			}
			in.add(in.cur)
			return nil
		}, 1)
	}, 0)
}

// member reads the value of key into f: a scalar is its text, null is
// missing, an object or array is an error for the key. A later duplicate
// key wins, as it does in a Go map.
func (in *instances) member(d *scanner, f *artifact.Fields, key string) error {
	switch c := d.peek(); c {
	case '{', '[':
		if err := d.skipValue(3); err != nil {
			return err
		}
		f.Fail(key, nestedValue)
		return nil
	}
	r, err := d.scalar()
	if err != nil {
		return err
	}
	delete(f.Errs, key)
	f.Set(key, r)
	return nil
}

// scanner reads JSON text.
type scanner struct {
	s string
	i int
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

func (d *scanner) eof() bool  { return d.i >= len(d.s) }
func (d *scanner) peek() byte { return d.s[d.i] }

func (d *scanner) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *scanner) errorf(what string) error {
	if d.eof() {
		return fmt.Errorf("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid character %q %s (offset %d)", d.s[d.i], what, d.i)
}

// object reads {"key": value, …}, calling member with the scanner at each
// value (after leading space); member must consume it.
func (d *scanner) object(member func(key string) error, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("exceeded max depth")
	}
	d.i++ // {
	d.ws()
	if !d.eof() && d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		d.ws()
		if d.eof() || d.peek() != '"' {
			return d.errorf("looking for beginning of object key string")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		d.ws()
		if d.eof() || d.peek() != ':' {
			return d.errorf("after object key")
		}
		d.i++
		d.ws()
		if d.eof() {
			return d.errorf("")
		}
		if err := member(key); err != nil {
			return err
		}
		d.ws()
		if d.eof() {
			return d.errorf("")
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("after object key:value pair")
		}
	}
}

// array reads [value, …], calling elem with the scanner at each value.
func (d *scanner) array(elem func(i int) error, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("exceeded max depth")
	}
	d.i++ // [
	d.ws()
	if !d.eof() && d.peek() == ']' {
		d.i++
		return nil
	}
	for n := 0; ; n++ {
		d.ws()
		if d.eof() {
			return d.errorf("")
		}
		if err := elem(n); err != nil {
			return err
		}
		d.ws()
		if d.eof() {
			return d.errorf("")
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.errorf("after array element")
		}
	}
}

// skipValue checks and skips one value.
func (d *scanner) skipValue(depth int) error {
	d.ws()
	if d.eof() {
		return d.errorf("")
	}
	switch d.peek() {
	case '{':
		return d.object(func(string) error { return d.skipValue(depth + 1) }, depth+1)
	case '[':
		return d.array(func(int) error { return d.skipValue(depth + 1) }, depth+1)
	}
	_, err := d.scalar()
	return err
}

// scalar reads a string, number, true, false or null as raw text.
func (d *scanner) scalar() (schema.Raw, error) {
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		return schema.Raw{Text: s}, err
	case c == '-' || ('0' <= c && c <= '9'):
		s, err := d.number()
		return schema.Raw{Text: s}, err
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return schema.Raw{Text: "true"}, nil
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return schema.Raw{Text: "false"}, nil
	case strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return schema.Raw{Missing: true}, nil
	}
	return schema.Raw{}, d.errorf("looking for beginning of value")
}

// number reads a number by JSON's grammar and returns its text.
func (d *scanner) number() (string, error) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.eof():
		return "", d.errorf("in numeric literal")
	case d.s[d.i] == '0':
		d.i++
	case digits() == 0:
		return "", d.errorf("in numeric literal")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return "", d.errorf("after decimal point in numeric literal")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return "", d.errorf("in exponent of numeric literal")
		}
	}
	return d.s[start:d.i], nil
}

// str reads a string. Text without escapes or invalid UTF-8 is returned
// as a substring; otherwise it is unquoted as encoding/json does (invalid
// UTF-8 and lone surrogates become U+FFFD).
func (d *scanner) str() (string, error) {
	d.i++ // "
	start := d.i
	plain := true
	for {
		if d.eof() {
			return "", d.errorf("")
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if plain {
				return s, nil
			}
			return unquote(s), nil
		case c == '\\':
			plain = false
			d.i++
			if d.eof() {
				return "", d.errorf("")
			}
			switch d.s[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				d.i++
				for range 4 {
					if d.eof() || !isHex(d.s[d.i]) {
						return "", d.errorf("in \\u hexadecimal character escape")
					}
					d.i++
				}
			default:
				return "", d.errorf("in string escape code")
			}
		case c < 0x20:
			return "", d.errorf("in string literal")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			d.i += size
		default:
			d.i++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(s string) rune {
	var r rune
	for i := range 4 {
		c := s[i]
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote decodes the body of a checked JSON string.
func unquote(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			i++
			switch s[i] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hexVal(s[i+1:])
				i += 4
				if utf16.IsSurrogate(r) {
					// a pair when \uXXXX follows (the scanner checked its digits)
					r2 := utf8.RuneError
					if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
						r2 = utf16.DecodeRune(r, hexVal(s[i+3:]))
					}
					if r2 != utf8.RuneError {
						i += 6
					}
					r = r2
				}
				b = utf8.AppendRune(b, r)
			default: // " \ /
				b = append(b, s[i])
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return string(b)
}
