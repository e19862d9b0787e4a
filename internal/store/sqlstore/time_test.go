package sqlstore

import (
	"testing"
	"time"
)

// TestTimeDest checks the one scanner both backends' timestamps go
// through: PostgreSQL hands over a time.Time (in the session's zone),
// SQLite the fixed-width UTC text.
func TestTimeDest(t *testing.T) {
	t.Parallel()
	want := time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)
	for _, c := range []struct {
		name    string
		in      any
		want    *time.Time
		wantErr bool
	}{
		{"null", nil, nil, false},
		{"timestamptz", want.In(time.FixedZone("CEST", 2*3600)), &want, false},
		{"text", "2025-06-01T10:00:00.123456789Z", &want, false},
		{"bytes", []byte("2025-06-01T10:00:00.123456789Z"), &want, false},
		{"bad text", "yesterday", nil, true},
		{"number", int64(42), nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := timeDest{t: time.Unix(1, 0), valid: true} // a scan must reset it
			err := d.Scan(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("Scan(%v) error = %v, want error %v", c.in, err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			got := d.ptr()
			switch {
			case c.want == nil && got != nil:
				t.Fatalf("Scan(%v) = %v, want NULL", c.in, *got)
			case c.want != nil && (got == nil || *got != *c.want):
				t.Fatalf("Scan(%v) = %v, want %v in UTC", c.in, got, *c.want)
			}
		})
	}
}
