package oip

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// walker walks JSON already checked to be valid (json.Valid, or a
// json.RawMessage from a decoded value), giving up (false) at whatever its
// caller does not take.
type walker struct {
	s string
	i int
}

// skipSpace moves past white space and returns the position.
func (d *walker) skipSpace() int {
	for d.i < len(d.s) && isSpace(d.s[d.i]) {
		d.i++
	}
	return d.i
}

// peek returns the next value's first byte.
func (d *walker) peek() byte {
	if d.skipSpace() < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// object walks an object, calling field for each key with d before the
// key's value; field returns false to give up. A key seen twice gives up.
func (d *walker) object(field func(key string) bool) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	var seenBuf [8]string
	seen := seenBuf[:0]
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		key, ok := d.str()
		if !ok {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if d.peek() != ':' {
			return false
		}
		d.i++
		if d.peek() == 'n' || !field(key) { // a null value, or one field cannot take
			return false
		}
		switch d.peek() {
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

// array walks an array, calling elem before each element; empty is called
// for an empty array.
func (d *walker) array(elem func() bool, empty func()) bool {
	if d.peek() != '[' {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		empty()
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.peek() {
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

// str decodes a string without escapes; others give up.
func (d *walker) str() (string, bool) {
	if d.peek() != '"' {
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

// int64 decodes a whole number written without fraction or exponent.
func (d *walker) int64() (int64, bool) {
	d.skipSpace()
	start := d.i
	for d.i < len(d.s) && (d.s[d.i] == '-' || '0' <= d.s[d.i] && d.s[d.i] <= '9') {
		d.i++
	}
	n, err := strconv.ParseInt(d.s[start:d.i], 10, 64)
	return n, err == nil
}

// skipValue moves past one value.
func (d *walker) skipValue() {
	d.skipSpace()
	depth := 0
	for d.i < len(d.s) {
		switch c := d.s[d.i]; c {
		case '"':
			d.i = stringEnd(d.s, d.i)
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
			if depth == 0 && isSpace(c) {
				return
			}
		}
		d.i++
	}
}

// scalar decodes a string, number, true, false or null; an array or object
// gives up.
func (d *walker) scalar() (elem, bool) {
	switch d.peek() {
	case '[', '{', 0:
		return elem{}, false
	case '"':
		start := d.i
		d.skipValue()
		tok := d.s[start:d.i]
		if len(tok) < 2 || tok[len(tok)-1] != '"' {
			return elem{}, false // unterminated: not from a checked value
		}
		text := tok[1 : len(tok)-1]
		if strings.IndexByte(text, '\\') >= 0 || !utf8.ValidString(text) {
			// escapes, or bytes encoding/json would replace: let it decode
			var decoded string // declared here: only this case allocates it
			if err := json.Unmarshal([]byte(tok), &decoded); err != nil {
				return elem{}, false
			}
			text = decoded
		}
		return elem{kind: elemString, text: text}, true
	}
	start := d.i
	d.skipValue()
	switch tok := d.s[start:d.i]; tok {
	case "null":
		return elem{kind: elemNull}, true
	case "true":
		return elem{kind: elemTrue}, true
	case "false":
		return elem{kind: elemFalse}, true
	default:
		return elem{kind: elemNumber, text: tok}, true
	}
}

// stringEnd returns the index just past the JSON string starting at s[i].
func stringEnd(s string, i int) int {
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

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
