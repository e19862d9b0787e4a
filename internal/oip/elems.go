package oip

import (
	"encoding/json"

	"github.com/mlserve/mlserve/internal/jsonr"
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
	return scanFlatText(string(data), out) // one copy: every element's text is a substring of it
}

// scanFlatText is scanFlat on data as text, which the elements' texts
// share.
func scanFlatText(data string, out []elem) (_ []elem, ok bool) {
	d := jsonr.NewWalker(data)
	ok = d.Array(func() bool {
		e, ok := scalar(&d)
		out = append(out, e)
		return ok
	}, func() {})
	return out, ok && d.Done()
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
