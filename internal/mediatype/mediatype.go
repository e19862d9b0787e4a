// Package mediatype says which row format a body is in, from its
// Content-Type: the one list of media types that ingest (rows) and
// scoring (predict bodies, `mlserve score`) accept.
package mediatype

import "strings"

// Format is a format of rows.
type Format string

// The row formats.
const (
	JSON   Format = "json"   // a JSON array of objects (or one object)
	NDJSON Format = "ndjson" // one JSON object per line
	CSV    Format = "csv"    // a header line, then rows
)

// Of returns the row format of a Content-Type header value (parameters
// and case ignored), or "" when it names none.
func Of(contentType string) Format {
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "application/json":
		return JSON
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines":
		return NDJSON
	case "text/csv", "application/csv":
		return CSV
	}
	return ""
}
