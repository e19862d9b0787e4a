package sqlstore

import (
	"fmt"
	"time"
)

// timeDest scans a timestamp column on either backend: PostgreSQL's
// timestamptz arrives as a time.Time, SQLite's fixed-width UTC text as a
// string. NULL leaves it unset.
type timeDest struct {
	t     time.Time
	valid bool
}

// Scan implements sql.Scanner (pgx calls it too).
func (d *timeDest) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		d.t, d.valid = time.Time{}, false
		return nil
	case time.Time:
		d.t = x
	case string:
		return d.parse(x)
	case []byte:
		return d.parse(string(x))
	default:
		return fmt.Errorf("stored timestamp of type %T", v)
	}
	d.t, d.valid = d.t.UTC(), true
	return nil
}

func (d *timeDest) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("stored timestamp %q: %w", s, err)
	}
	d.t, d.valid = t.UTC(), true
	return nil
}

// ptr returns the time, or nil for NULL.
func (d *timeDest) ptr() *time.Time {
	if !d.valid {
		return nil
	}
	t := d.t
	return &t
}
