package schema

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// inferCSV infers a schema from compact rows (see rowsOf) with target y.
func inferCSV(t *testing.T, header, rows string, opts InferOptions) (Schema, *InferReport) {
	t.Helper()
	opts.Target = "y"
	s, rep, err := Infer(strings.Split(header, ","), seq(rowsOf(rows)), opts)
	if err != nil {
		t.Fatalf("Infer: %v", err)
	}
	return s, rep
}

// TestInferNoBoundsByDefault: a schema inferred from today's sample accepts
// tomorrow's values beyond today's extremes, on features and on a
// regression target alike.
func TestInferNoBoundsByDefault(t *testing.T) {
	t.Parallel()
	rows := repeat(40, func(i int) string { return itoa(100+i*5) + "," + itoa(i%7) + ".5," + itoa(3+i%4) })
	s, rep := inferCSV(t, "y,x,n", rows, InferOptions{})
	c := mustCompile(t, s)
	for _, tt := range []struct{ col, raw string }{{"y", "350"}, {"y", "-4"}, {"x", "28.2"}, {"x", "-1.5"}, {"n", "1000"}} {
		if _, msg := c.Coerce(c.Index(tt.col), tt.raw, false); msg != "" {
			t.Errorf("%s=%s refused (%s): an inferred schema must accept values beyond the sample", tt.col, tt.raw, msg)
		}
	}
	// The report still says what was seen.
	if r := rep.Columns[1]; r.Min == nil || r.Max == nil || *r.Min != 0.5 || *r.Max != 6.5 {
		t.Errorf("report of x: min %v max %v, want the observed 0.5 and 6.5", r.Min, r.Max)
	}
}

func TestInferBoundsPolicies(t *testing.T) {
	t.Parallel()
	rows := repeat(40, func(i int) string { return itoa(100+i) + "," + itoa(i%7) + ".5," + itoa(i%5-2) })
	tests := []struct {
		bounds Bounds
		want   map[string][2]*float64 // column -> min, max
	}{
		{BoundsNone, map[string][2]*float64{"y": {nil, nil}, "x": {nil, nil}, "z": {nil, nil}}},
		{BoundsPhysical, map[string][2]*float64{"y": {fp(0), nil}, "x": {fp(0), nil}, "z": {nil, nil}}},
		{BoundsObserved, map[string][2]*float64{"y": {fp(100), fp(139)}, "x": {fp(0.5), fp(6.5)}, "z": {fp(-2), fp(2)}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.bounds), func(t *testing.T) {
			t.Parallel()
			s, _ := inferCSV(t, "y,x,z", rows, InferOptions{Bounds: tt.bounds})
			for name, w := range tt.want {
				col := s.Columns[s.Index(name)]
				if !eqPtr(col.Min, w[0]) || !eqPtr(col.Max, w[1]) {
					t.Errorf("%s: %s, want min %v max %v", name, fmtCol(col), deref(w[0]), deref(w[1]))
				}
			}
		})
	}
	if _, _, err := Infer([]string{"y", "x"}, seq(rowsOf("1,2")), InferOptions{Target: "y", Bounds: "some"}); err == nil ||
		!strings.Contains(err.Error(), "none, physical or observed") {
		t.Errorf("bounds some: error %v, want one naming the policies", err)
	}
}

// TestInferDecimalPointIsNumber: a column written 127.0 is a number, so
// tomorrow's 100.5 is accepted; a target of whole values written 1.0 with
// few distinct values is still class labels.
func TestInferDecimalPointIsNumber(t *testing.T) {
	t.Parallel()
	s, _ := inferCSV(t, "y,mg,k", "1.0,127.0,3;0.0,100.0,4;1.0,101.0,5", InferOptions{})
	if got := s.Columns[1].Type; got != Number {
		t.Errorf("mg written 127.0: type %s, want number", got)
	}
	if got := s.Columns[2].Type; got != Integer {
		t.Errorf("k written 3: type %s, want integer", got)
	}
	if y := s.Columns[0]; y.Type != Category || strings.Join(y.Values, ",") != "0,1" {
		t.Errorf("target 1.0/0.0: %s, want category [0 1]", fmtCol(y))
	}
	c := mustCompile(t, s)
	if _, msg := c.Coerce(1, "100.5", false); msg != "" {
		t.Errorf("mg=100.5 refused: %s", msg)
	}
}

// TestInferTimestamps: ISO 8601 dates and date-times are timestamps, not
// identifiers (the old rule dropped them as 90% distinct text).
func TestInferTimestamps(t *testing.T) {
	t.Parallel()
	rows := repeat(40, func(i int) string {
		d := "2024-03-" + pad2(1+i%28)
		return itoa(i%2) + "," + d + "," + d + "T" + pad2(i%24) + ":15:00Z," + d + " 08:" + pad2(i) + ":00"
	})
	s, rep := inferCSV(t, "y,day,at,local", rows, InferOptions{})
	for i, name := range []string{"day", "at", "local"} {
		col := s.Columns[i+1]
		if col.Type != Timestamp || col.Ignore {
			t.Errorf("%s: %s (%s), want a timestamp, kept", name, fmtCol(col), rep.Columns[i+1].Reason)
		}
	}
	if got := rep.Columns[1].Seen(rep.Rows); !strings.Contains(got, "2024-03-01T00:00:00Z to 2024-03-28T00:00:00Z") {
		t.Errorf("day seen %q, want the first and last date", got)
	}
	// A mix of dates and text is not a timestamp.
	s, _ = inferCSV(t, "y,d", "1,2024-03-01;0,soon;1,2024-03-02", InferOptions{})
	if s.Columns[1].Type != Category {
		t.Errorf("dates mixed with text: %s, want category", fmtCol(s.Columns[1]))
	}
}

// TestInferCategoryUnknownOther: an inferred feature category takes
// unknown labels as other; the target keeps its classes closed.
func TestInferCategoryUnknownOther(t *testing.T) {
	t.Parallel()
	s, _ := inferCSV(t, "y,color", "a,red;b,blue;a,red;b,green", InferOptions{})
	if got := s.Columns[1].Unknown; got != UnknownOther {
		t.Errorf("color unknown %q, want other", got)
	}
	if got := s.Columns[0].Unknown; got != "" {
		t.Errorf("target unknown %q, want none", got)
	}
	c := mustCompile(t, s)
	if v, msg := c.Coerce(1, "purple", false); msg != "" || v.Str != "purple" || v.Num != -1 {
		t.Errorf("color=purple: %+v %q, want accepted as other (Num -1)", v, msg)
	}
	if _, msg := c.Coerce(0, "c", false); msg == "" {
		t.Error("target y=c accepted; a target's classes are closed")
	}
}

// TestInferPrintableNames: header names with slashes, parentheses, digits
// first or any script are columns; only unprintable ones are refused.
func TestInferPrintableNames(t *testing.T) {
	t.Parallel()
	names := []string{"y", "od280/od315_of_diluted_wines", "1st (mm)", "température", `a"; DROP TABLE x; --`}
	rows := repeat(3, func(i int) string { return itoa(i%2) + ",1.5,2.5,3.5,4.5" })
	s, _, err := Infer(names, seq(rowsOf(rows)), InferOptions{Target: "y"})
	if err != nil {
		t.Fatalf("Infer: %v", err)
	}
	for i, n := range names {
		if s.Columns[i].Name != n {
			t.Errorf("column %d: %q, want %q", i, s.Columns[i].Name, n)
		}
	}
	if _, _, err := Infer([]string{"y", "a\tb"}, seq(rowsOf("1,2")), InferOptions{Target: "y"}); err == nil || !strings.Contains(err.Error(), "unprintable") {
		t.Errorf("name with a tab: %v, want an error naming the unprintable character", err)
	}
}

// TestInferSmallSampleWarns: a tiny file is flagged.
func TestInferSmallSampleWarns(t *testing.T) {
	t.Parallel()
	_, rep := inferCSV(t, "y,x", "1,2;0,3;1,4;0,5;1,6", InferOptions{})
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "only 5 rows") {
		t.Errorf("warnings %q, want one saying only 5 rows", rep.Warnings)
	}
	_, rep = inferCSV(t, "y,x", repeat(SmallSample, func(i int) string { return itoa(i%2) + "," + itoa(i*3%7) }), InferOptions{})
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %q on %d rows, want none", rep.Warnings, SmallSample)
	}
}

func repeat(n int, f func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = f(i)
	}
	return strings.Join(parts, ";")
}

func itoa(i int) string { return strconv.Itoa(i) }

func pad2(i int) string {
	if i < 10 {
		return "0" + itoa(i)
	}
	return itoa(i)
}

func eqPtr(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestInferSklearnDatasets pins what Infer makes of three datasets nobody
// here wrote: every feature a number without bounds (wine's magnesium and
// proline are written 127.0), names kept as the loaders give them, and the
// target's task.
func TestInferSklearnDatasets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, target string
		features     int
		want         Column
	}{
		{"breast_cancer", "diagnosis", 30, Column{Name: "diagnosis", Type: Category, Values: []string{"benign", "malignant"}}},
		{"diabetes", "progression", 10, Column{Name: "progression", Type: Number}},
		{"wine", "cultivar", 13, Column{Name: "cultivar", Type: Category, Values: []string{"class_0", "class_1", "class_2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			header, recs := loadCSV(t, tt.file)
			s, rep, err := Infer(header, seq(recs), InferOptions{Target: tt.target})
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			if len(rep.Warnings) != 0 {
				t.Errorf("warnings %q on %d rows", rep.Warnings, len(recs))
			}
			for i, c := range s.Columns {
				if c.Name != header[i] {
					t.Errorf("column %d: name %q, want the header's %q", i, c.Name, header[i])
				}
				if c.Name == tt.target {
					if !reflect.DeepEqual(c, tt.want) {
						t.Errorf("target: %s, want %s", fmtCol(c), fmtCol(tt.want))
					}
					continue
				}
				if want := (Column{Name: header[i], Type: Number}); !reflect.DeepEqual(c, want) {
					t.Errorf("feature %s, want %s", fmtCol(c), fmtCol(want))
				}
			}
			if got := len(s.Features()); got != tt.features {
				t.Errorf("%d features, want %d", got, tt.features)
			}
		})
	}
}
