package oip

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/mlserve/mlserve/internal/jsonr"
)

// scalar decodes a string, number, true, false or null; an array or object
// gives up.
func scalar(d *jsonr.Walker) (elem, bool) {
	switch d.Peek() {
	case '[', '{', 0:
		return elem{}, false
	case '"':
		start := d.Pos()
		d.SkipValue()
		tok := d.Since(start)
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
	start := d.Pos()
	d.SkipValue()
	switch tok := d.Since(start); tok {
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
