package schema

import (
	"math"
	"time"
)

// timestampLayouts are the ISO 8601 forms ParseTimestamp reads; a
// fractional second after the seconds is accepted by each (time.Parse).
var timestampLayouts = [...]string{
	"2006-01-02",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02T15:04:05-0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05-0700",
}

// ParseTimestamp reads an ISO 8601 date (2024-03-01, midnight UTC) or
// date-time (2024-03-01T13:45:00Z, with T or a space between date and
// time, seconds and their fraction optional, a Z or ±hh:mm offset or none
// for UTC) and returns its Unix time in seconds, rounded down to the
// millisecond, so that every store keeps it exactly.
func ParseTimestamp(s string) (seconds float64, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	for _, layout := range timestampLayouts {
		if len(layout) == 10 && len(s) != 10 {
			continue
		}
		t, err := time.Parse(layout, s)
		if err == nil {
			return float64(t.UnixMilli()) / 1000, true
		}
	}
	return 0, false
}

// FormatTimestamp writes Unix seconds as an RFC 3339 date-time in UTC, with
// the milliseconds when there are any: the canonical text of a timestamp.
func FormatTimestamp(seconds float64) string {
	return time.UnixMilli(TimestampMillis(seconds)).UTC().Format("2006-01-02T15:04:05.999Z07:00")
}

// TimestampMillis returns the whole milliseconds of a timestamp's Unix
// seconds (exact for every value ParseTimestamp returns).
func TimestampMillis(seconds float64) int64 { return int64(math.Round(seconds * 1000)) }
