// Package jsonr reads JSON text in place, without encoding/json's
// reflection and without copying what needs no unquoting: the reading side
// of internal/jsonw. The serving routes decode request bodies with it.
package jsonr

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Scanner reads JSON text in place, checking it as encoding/json does and
// failing with encoding/json's messages. Strings it returns are substrings
// of the text where they need no unquoting: a caller must not keep them
// past the text's life.
type Scanner struct {
	s string
	i int
}

// NewScanner returns a Scanner at the start of s.
func NewScanner(s string) Scanner { return Scanner{s: s} }

// Pos is the offset of the next byte to read.
func (d *Scanner) Pos() int { return d.i }

// Rest is the text not read yet.
func (d *Scanner) Rest() string { return d.s[d.i:] }

// MaxDepth bounds nesting, as encoding/json does: Object and Array fail
// past it.
const MaxDepth = 10000

// EOF reports whether the whole text has been read.
func (d *Scanner) EOF() bool { return d.i >= len(d.s) }

// Peek returns the next byte; the text must not be at EOF.
func (d *Scanner) Peek() byte { return d.s[d.i] }

// Space moves past white space.
func (d *Scanner) Space() {
	for d.i < len(d.s) && IsSpace(d.s[d.i]) {
		d.i++
	}
}

// Errorf is encoding/json's syntax error at the next byte: "invalid
// character 'x' what (offset n)", or the unexpected end of the text.
func (d *Scanner) Errorf(what string) error {
	if d.EOF() {
		return fmt.Errorf("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid character %q %s (offset %d)", d.s[d.i], what, d.i)
}

// Object reads {"key": value, …}, calling member with the scanner at each
// value (after leading space); member must consume it.
func (d *Scanner) Object(member func(key string) error, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("exceeded max depth")
	}
	d.i++ // {
	d.Space()
	if !d.EOF() && d.Peek() == '}' {
		d.i++
		return nil
	}
	for {
		d.Space()
		if d.EOF() || d.Peek() != '"' {
			return d.Errorf("looking for beginning of object key string")
		}
		key, err := d.ReadString()
		if err != nil {
			return err
		}
		d.Space()
		if d.EOF() || d.Peek() != ':' {
			return d.Errorf("after object key")
		}
		d.i++
		d.Space()
		if d.EOF() {
			return d.Errorf("")
		}
		if err := member(key); err != nil {
			return err
		}
		d.Space()
		if d.EOF() {
			return d.Errorf("")
		}
		switch d.Peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.Errorf("after object key:value pair")
		}
	}
}

// Array reads [value, …], calling elem with the scanner at each value.
func (d *Scanner) Array(elem func(i int) error, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("exceeded max depth")
	}
	d.i++ // [
	d.Space()
	if !d.EOF() && d.Peek() == ']' {
		d.i++
		return nil
	}
	for n := 0; ; n++ {
		d.Space()
		if d.EOF() {
			return d.Errorf("")
		}
		if err := elem(n); err != nil {
			return err
		}
		d.Space()
		if d.EOF() {
			return d.Errorf("")
		}
		switch d.Peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.Errorf("after array element")
		}
	}
}

// SkipValue checks and skips one value.
func (d *Scanner) SkipValue(depth int) error {
	d.Space()
	if d.EOF() {
		return d.Errorf("")
	}
	switch d.Peek() {
	case '{':
		return d.Object(func(string) error { return d.SkipValue(depth + 1) }, depth+1)
	case '[':
		return d.Array(func(int) error { return d.SkipValue(depth + 1) }, depth+1)
	}
	_, _, err := d.Scalar()
	return err
}

// Scalar reads a string, number, true, false or null and returns its
// text (a string's unquoted), and whether it is null.
func (d *Scanner) Scalar() (text string, null bool, err error) {
	switch c := d.Peek(); {
	case c == '"':
		s, err := d.ReadString()
		return s, false, err
	case c == '-' || ('0' <= c && c <= '9'):
		s, err := d.Number()
		return s, false, err
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return "true", false, nil
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return "false", false, nil
	case strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return "", true, nil
	}
	return "", false, d.Errorf("looking for beginning of value")
}

// Number reads a number by JSON's grammar and returns its text.
func (d *Scanner) Number() (string, error) {
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
	case d.EOF():
		return "", d.Errorf("in numeric literal")
	case d.s[d.i] == '0':
		d.i++
	case digits() == 0:
		return "", d.Errorf("in numeric literal")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return "", d.Errorf("after decimal point in numeric literal")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return "", d.Errorf("in exponent of numeric literal")
		}
	}
	return d.s[start:d.i], nil
}

// ReadString reads a string. Text without escapes or invalid UTF-8 is returned
// as a substring; otherwise it is unquoted as encoding/json does (invalid
// UTF-8 and lone surrogates become U+FFFD).
func (d *Scanner) ReadString() (string, error) {
	d.i++ // "
	start := d.i
	plain := true
	for {
		if d.EOF() {
			return "", d.Errorf("")
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
			if d.EOF() {
				return "", d.Errorf("")
			}
			switch d.s[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				d.i++
				for range 4 {
					if d.EOF() || !isHex(d.s[d.i]) {
						return "", d.Errorf("in \\u hexadecimal character escape")
					}
					d.i++
				}
			default:
				return "", d.Errorf("in string escape code")
			}
		case c < 0x20:
			return "", d.Errorf("in string literal")
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
