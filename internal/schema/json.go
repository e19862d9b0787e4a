package schema

import (
	"encoding/json"
	"strconv"
)

// RawFromJSON converts a decoded JSON object (decoded with UseNumber) into
// raw values: null is missing, strings, numbers and booleans become text.
// Nested objects and arrays are field errors.
func RawFromJSON(obj map[string]any) (map[string]Raw, FieldErrors) {
	m := make(map[string]Raw, len(obj))
	var fe FieldErrors
	for k, v := range obj {
		switch t := v.(type) {
		case nil:
			m[k] = Raw{Missing: true}
		case string:
			m[k] = Raw{Text: t}
		case json.Number:
			m[k] = Raw{Text: t.String()}
		case float64:
			m[k] = Raw{Text: strconv.FormatFloat(t, 'g', -1, 64)}
		case bool:
			m[k] = Raw{Text: strconv.FormatBool(t)}
		default:
			if fe == nil {
				fe = FieldErrors{}
			}
			fe[k] = "must be a single value (string, number, boolean or null), not an object or array"
		}
	}
	return m, fe
}
