package mediatype

import "testing"

func TestOf(t *testing.T) {
	for ct, want := range map[string]Format{
		"application/json":                JSON,
		"Application/JSON; charset=utf-8": JSON,
		"application/x-ndjson":            NDJSON,
		"application/jsonl":               NDJSON,
		"text/csv; header=present":        CSV,
		" application/csv ":               CSV,
		"text/plain":                      "",
		"":                                "",
	} {
		if got := Of(ct); got != want {
			t.Errorf("Of(%q) = %q, want %q", ct, got, want)
		}
	}
}
