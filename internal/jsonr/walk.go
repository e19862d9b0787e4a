package jsonr

import (
	"strconv"
	"strings"
)

// Walker walks JSON text already checked to be valid (json.Valid, or a
// json.RawMessage from a decoded value), giving up (false) at whatever its
// caller does not take, so that the caller can leave such text to
// encoding/json. Its strings are substrings of the text.
type Walker struct {
	s string
	i int
}

// NewWalker returns a Walker at the start of s.
func NewWalker(s string) Walker { return Walker{s: s} }

// Pos is the offset of the next byte to read.
func (d *Walker) Pos() int { return d.i }

// Since returns the text from offset start to the next byte to read.
func (d *Walker) Since(start int) string { return d.s[start:d.i] }

// Done reports whether only white space is left.
func (d *Walker) Done() bool { return d.SkipSpace() == len(d.s) }

// SkipSpace moves past white space and returns the position.
func (d *Walker) SkipSpace() int {
	for d.i < len(d.s) && IsSpace(d.s[d.i]) {
		d.i++
	}
	return d.i
}

// Peek moves past white space and returns the next byte, or 0 at the
// end.
func (d *Walker) Peek() byte {
	if d.SkipSpace() < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// Object walks an object, calling field for each key with d before the
// key's value; field returns false to give up. A key seen twice gives up.
func (d *Walker) Object(field func(key string) bool) bool {
	if d.Peek() != '{' {
		return false
	}
	d.i++
	var seenBuf [8]string
	seen := seenBuf[:0]
	if d.Peek() == '}' {
		d.i++
		return true
	}
	for {
		key, ok := d.Str()
		if !ok {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if d.Peek() != ':' {
			return false
		}
		d.i++
		if d.Peek() == 'n' || !field(key) { // a null value, or one field cannot take
			return false
		}
		switch d.Peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// Array walks an array, calling elem before each element; empty is called
// for an empty array.
func (d *Walker) Array(elem func() bool, empty func()) bool {
	if d.Peek() != '[' {
		return false
	}
	d.i++
	if d.Peek() == ']' {
		d.i++
		empty()
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.Peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// Str decodes a string without escapes; others give up.
func (d *Walker) Str() (string, bool) {
	if d.Peek() != '"' {
		return "", false
	}
	end := strings.IndexByte(d.s[d.i+1:], '"')
	if end < 0 {
		return "", false
	}
	s := d.s[d.i+1 : d.i+1+end]
	for j := 0; j < len(s); j++ {
		if c := s[j]; c == '\\' || c < 0x20 || c >= 0x80 {
			return "", false // escapes or non-ASCII: encoding/json decides
		}
	}
	d.i += end + 2
	return s, true
}

// Int64 decodes a whole number written without fraction or exponent.
func (d *Walker) Int64() (int64, bool) {
	d.SkipSpace()
	start := d.i
	for d.i < len(d.s) && (d.s[d.i] == '-' || '0' <= d.s[d.i] && d.s[d.i] <= '9') {
		d.i++
	}
	n, err := strconv.ParseInt(d.s[start:d.i], 10, 64)
	return n, err == nil
}

// SkipValue moves past one value.
func (d *Walker) SkipValue() {
	d.SkipSpace()
	depth := 0
	for d.i < len(d.s) {
		switch c := d.s[d.i]; c {
		case '"':
			d.i = StringEnd(d.s, d.i)
			if depth == 0 {
				return
			}
			continue
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return // the end of the container around a scalar
			}
			depth--
			if depth == 0 {
				d.i++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		default:
			if depth == 0 && IsSpace(c) {
				return
			}
		}
		d.i++
	}
}

// StringEnd returns the index just past the JSON string starting at s[i].
func StringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

// IsSpace reports whether c is JSON white space.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
