package features

import (
	"time"

	"github.com/mlserve/mlserve/internal/schema"
)

// timeParts name the features of a timestamp column, in output order.
var timeParts = [...]string{"hour", "weekday", "month", "day_of_year", "unix"}

// timeFeatures writes the features of a timestamp (Unix seconds) into dst
// (len(timeParts)), calendar parts in UTC.
func timeFeatures(seconds float64, dst []float64) {
	t := time.UnixMilli(schema.TimestampMillis(seconds)).UTC()
	dst[0] = float64(t.Hour())
	dst[1] = float64(t.Weekday())
	dst[2] = float64(t.Month())
	dst[3] = float64(t.YearDay())
	dst[4] = seconds
}
