package oip

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// elem is one element of an input tensor's data: its JSON kind and, for a
// number or a string, its text (a number as written, a string decoded).
type elem struct {
	kind elemKind
	text string
}

type elemKind uint8

const (
	elemNull elemKind = iota
	elemNumber
	elemString
	elemTrue
	elemFalse
	elemOther // an array or object where a scalar belongs
)

// scanFlat splits data, a JSON value already checked to be well-formed,
// into the elements of a flat array of scalars without building a value per
// element. ok is false when data is not a flat array (not an array, or one
// holding arrays or objects): the caller decodes it in general then.
func scanFlat(data []byte, out []elem) (_ []elem, ok bool) {
	s := string(data) // one copy: every element's text is a substring of it
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '[' {
		return out, false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return out, true
	}
	for i < len(s) {
		var e elem
		switch c := s[i]; c {
		case '[', '{':
			return out, false
		case '"':
			end := stringEnd(s, i)
			tok := s[i:end]
			if len(tok) < 2 || tok[len(tok)-1] != '"' {
				return out, false // unterminated: not from a checked value
			}
			e = elem{kind: elemString, text: tok[1 : len(tok)-1]}
			if strings.IndexByte(e.text, '\\') >= 0 || !utf8.ValidString(e.text) {
				// escapes, or bytes encoding/json would replace: let it decode
				var text string // declared here: only this case allocates it
				if err := json.Unmarshal([]byte(tok), &text); err != nil {
					return out, false
				}
				e.text = text
			}
			i = end
		default:
			end := i
			for end < len(s) && s[end] != ',' && s[end] != ']' && !isSpace(s[end]) {
				end++
			}
			switch tok := s[i:end]; tok {
			case "null":
				e.kind = elemNull
			case "true":
				e.kind = elemTrue
			case "false":
				e.kind = elemFalse
			default:
				e = elem{kind: elemNumber, text: tok}
			}
			i = end
		}
		out = append(out, e)
		i = skipSpace(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
			continue
		}
		if i < len(s) && s[i] == ']' {
			return out, skipSpace(s, i+1) == len(s)
		}
		return out, false
	}
	return out, false
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

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// elemOf converts a value decoded with UseNumber into an elem.
func elemOf(v any) elem {
	switch v := v.(type) {
	case nil:
		return elem{kind: elemNull}
	case json.Number:
		return elem{kind: elemNumber, text: string(v)}
	case string:
		return elem{kind: elemString, text: v}
	case bool:
		if v {
			return elem{kind: elemTrue}
		}
		return elem{kind: elemFalse}
	}
	return elem{kind: elemOther}
}
