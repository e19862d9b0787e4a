package schema

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mlserve/mlserve/internal/sampledata"
)

// loadCSV returns the header and records of a sample dataset (sampledata).
func loadCSV(t testing.TB, name string) ([]string, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(sampledata.Bytes(name + ".csv"))).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return recs[0], recs[1:]
}

func seq(recs [][]string) iter.Seq[[]string] { return slices.Values(recs) }

func fp(f float64) *float64 { return &f }

// withColumns returns header and records with extra columns appended; fn
// gives the extra values of record i.
func withColumns(header []string, recs [][]string, names []string, fn func(i int) []string) ([]string, [][]string) {
	h := append(slices.Clone(header), names...)
	out := make([][]string, len(recs))
	for i, r := range recs {
		out[i] = append(slices.Clone(r), fn(i)...)
	}
	return h, out
}

func TestInferDatasets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, target string
		extra        []string
		extraFn      func(i int) []string
		want         []Column
		wantIgnored  map[string]string // column -> start of the reason
	}{
		{
			file: "titanic", target: "survived",
			extra: []string{"passenger_id", "remarks", "ticket"},
			extraFn: func(i int) []string {
				return []string{
					strconv.Itoa(i + 1),
					fmt.Sprintf("passenger %d boarded with %d bags", i, (i*7)%5),
					fmt.Sprintf("%06d", i*13%10007),
				}
			},
			want: []Column{
				{Name: "survived", Type: Category, Values: []string{"0", "1"}},
				{Name: "pclass", Type: Integer, Min: fp(1), Max: fp(3)},
				{Name: "sex", Type: Category, Values: []string{"female", "male"}},
				{Name: "age", Type: Number, Min: fp(0.42), Max: fp(80), Nullable: true},
				{Name: "sibsp", Type: Integer, Min: fp(0), Max: fp(8)},
				{Name: "parch", Type: Integer, Min: fp(0), Max: fp(6)},
				{Name: "fare", Type: Number, Min: fp(0), Max: fp(512.3292)},
				{Name: "embarked", Type: Category, Values: []string{"C", "Q", "S"}, Nullable: true},
				{Name: "class", Type: Category, Values: []string{"First", "Second", "Third"}},
				{Name: "who", Type: Category, Values: []string{"child", "man", "woman"}},
				{Name: "adult_male", Type: Boolean},
				{Name: "deck", Type: Category, Values: []string{"A", "B", "C", "D", "E", "F", "G"}, Nullable: true},
				{Name: "embark_town", Type: Category, Values: []string{"Cherbourg", "Queenstown", "Southampton"}, Nullable: true},
				{Name: "alive", Type: Boolean},
				{Name: "alone", Type: Boolean},
				{Name: "passenger_id", Type: Integer, Ignore: true},
				{Name: "remarks", Type: Category, Ignore: true},
				{Name: "ticket", Type: Category, Ignore: true},
			},
			wantIgnored: map[string]string{
				"passenger_id": "row counter",
				"remarks":      "identifier or free text: 891 distinct values in 891",
				"ticket":       "identifier or free text",
			},
		},
		{
			file: "seed_titanic", target: "survived",
			want: []Column{
				{Name: "survived", Type: Category, Values: []string{"0", "1"}},
				{Name: "class", Type: Integer, Min: fp(1), Max: fp(3)},
				{Name: "sex", Type: Category, Values: []string{"female", "male"}},
				{Name: "age", Type: Number, Min: fp(0.42), Max: fp(80), Nullable: true},
				{Name: "embarked", Type: Category, Values: []string{"C", "Q", "S"}, Nullable: true},
			},
		},
		{
			file: "iris", target: "species",
			want: []Column{
				{Name: "sepal_length", Type: Number, Min: fp(4.3), Max: fp(7.9)},
				{Name: "sepal_width", Type: Number, Min: fp(2), Max: fp(4.4)},
				{Name: "petal_length", Type: Number, Min: fp(1), Max: fp(6.9)},
				{Name: "petal_width", Type: Number, Min: fp(0.1), Max: fp(2.5)},
				{Name: "species", Type: Category, Values: []string{"setosa", "versicolor", "virginica"}},
			},
		},
		{
			file: "tips", target: "tip",
			want: []Column{
				{Name: "total_bill", Type: Number, Min: fp(3.07), Max: fp(50.81)},
				{Name: "tip", Type: Number, Min: fp(1), Max: fp(10)},
				{Name: "sex", Type: Category, Values: []string{"Female", "Male"}},
				{Name: "smoker", Type: Boolean},
				{Name: "day", Type: Category, Values: []string{"Fri", "Sat", "Sun", "Thur"}},
				{Name: "time", Type: Category, Values: []string{"Dinner", "Lunch"}},
				{Name: "size", Type: Integer, Min: fp(1), Max: fp(6)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			header, recs := loadCSV(t, tt.file)
			if tt.extra != nil {
				header, recs = withColumns(header, recs, tt.extra, tt.extraFn)
			}
			// These cases pin the observed ranges; TestInferBoundsPolicies
			// pins the default (no bounds).
			s, rep, err := Infer(header, seq(recs), InferOptions{Target: tt.target, Bounds: BoundsObserved})
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			if s.Target != tt.target {
				t.Errorf("target: got %q, want %q", s.Target, tt.target)
			}
			if len(s.Columns) != len(tt.want) {
				t.Fatalf("got %d columns, want %d", len(s.Columns), len(tt.want))
			}
			for i, w := range withOther(tt.want, tt.target) {
				if !reflect.DeepEqual(s.Columns[i], w) {
					t.Errorf("column %s:\n got %s\nwant %s", w.Name, fmtCol(s.Columns[i]), fmtCol(w))
				}
			}
			if rep.Rows != len(recs) || rep.Skipped != 0 {
				t.Errorf("report rows %d skipped %d, want %d and 0", rep.Rows, rep.Skipped, len(recs))
			}
			for i, c := range rep.Columns {
				if c.Name != s.Columns[i].Name || c.Type != s.Columns[i].Type || c.Ignore != s.Columns[i].Ignore || c.Reason == "" {
					t.Errorf("report column %d does not match the schema: %+v", i, c)
				}
				if prefix, ok := tt.wantIgnored[c.Name]; ok && !strings.HasPrefix(c.Reason, prefix) {
					t.Errorf("column %s: reason %q, want it to start with %q", c.Name, c.Reason, prefix)
				}
			}
			if _, err := Compile(s); err != nil {
				t.Errorf("inferred schema does not compile: %v", err)
			}
		})
	}
}

// TestInferTitanicReport checks report counts against the data (counted
// with a separate script).
func TestInferTitanicReport(t *testing.T) {
	t.Parallel()
	header, recs := loadCSV(t, "titanic")
	_, rep, err := Infer(header, seq(recs), InferOptions{Target: "survived"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{ // missing, distinct
		"survived": {0, 2}, "age": {177, 88}, "embarked": {2, 3}, "deck": {688, 7}, "fare": {0, 248}, "alive": {0, 2},
	}
	for _, c := range rep.Columns {
		if w, ok := want[c.Name]; ok && (c.Missing != w[0] || c.Distinct != w[1] || c.DistinctEstimated) {
			t.Errorf("%s: missing %d distinct %d (estimated %v), want %d and %d", c.Name, c.Missing, c.Distinct, c.DistinctEstimated, w[0], w[1])
		}
	}
}

// withOther returns want with unknown: other on every feature category
// with values, as Infer writes them (TestInferCategoryUnknownOther).
func withOther(want []Column, target string) []Column {
	out := slices.Clone(want)
	for i, c := range out {
		if c.Type == Category && len(c.Values) > 0 && c.Name != target && c.Unknown == "" {
			out[i].Unknown = UnknownOther
		}
	}
	return out
}

func fmtCol(c Column) string {
	s := fmt.Sprintf("{%s %s values=%q unknown=%q nullable=%v ignore=%v", c.Name, c.Type, c.Values, c.Unknown, c.Nullable, c.Ignore)
	if c.Min != nil {
		s += fmt.Sprintf(" min=%v", *c.Min)
	}
	if c.Max != nil {
		s += fmt.Sprintf(" max=%v", *c.Max)
	}
	return s + "}"
}

// rowsOf builds records from a compact text form: rows separated by ';',
// fields by ','.
func rowsOf(s string) [][]string {
	var out [][]string
	for r := range strings.SplitSeq(s, ";") {
		out = append(out, strings.Split(r, ","))
	}
	return out
}

func TestInferEdgeCases(t *testing.T) {
	t.Parallel()
	repeat := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ";")
	}
	tests := []struct {
		name    string
		header  string
		rows    string
		opts    InferOptions
		want    []Column // nil: not checked
		wantErr string   // substring; "" means no error
		notes   map[string]string
		check   func(t *testing.T, rep *InferReport)
	}{
		{
			name: "AllMissingColumn", header: "y,x,z", rows: "1,,a;0,NA,b;1,null,a",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "x", Type: Category, Nullable: true},
				{Name: "z", Type: Category, Values: []string{"a", "b"}},
			},
			notes: map[string]string{"x": "at most one distinct value"},
			check: func(t *testing.T, rep *InferReport) {
				if c := rep.Columns[1]; !c.Constant || c.Missing != 3 || c.Distinct != 0 || !strings.HasPrefix(c.Reason, "no values") {
					t.Errorf("all-missing column report: %+v", c)
				}
			},
		},
		{
			name: "SingleRow", header: "y,n,s", rows: "1,2.5,a",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"1"}},
				{Name: "n", Type: Number, Min: fp(2.5), Max: fp(2.5)},
				{Name: "s", Type: Category, Values: []string{"a"}},
			},
			check: func(t *testing.T, rep *InferReport) {
				for _, c := range rep.Columns {
					if !c.Constant || c.Ignore {
						t.Errorf("single row: column %s constant %v ignore %v, want flagged and kept", c.Name, c.Constant, c.Ignore)
					}
				}
			},
		},
		{
			name: "MixedNumbersAndText", header: "y,m", rows: "1,10;0,2.5;1,abc;0,10",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "m", Type: Category, Values: []string{"2.5", "10", "abc"}},
			},
			check: func(t *testing.T, rep *InferReport) {
				if r := rep.Columns[1].Reason; r != "values mix numbers and text" {
					t.Errorf("reason %q", r)
				}
			},
		},
		{
			name: "Booleans", header: "y,a,b,c,d,e", rows: "1,true,Yes,T,1,0;0,FALSE,no,f,0,1;1,True,,t,1,1",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "a", Type: Boolean},
				{Name: "b", Type: Boolean, Nullable: true},
				{Name: "c", Type: Boolean},
				{Name: "d", Type: Integer, Min: fp(0), Max: fp(1)}, // 0/1 only: not boolean
				{Name: "e", Type: Integer, Min: fp(0), Max: fp(1)},
			},
		},
		{
			name: "BooleanWordsWithDigits", header: "y,a", rows: "1,yes;0,0;1,1",
			want: []Column{{Name: "y", Type: Category, Values: []string{"0", "1"}}, {Name: "a", Type: Boolean}},
		},
		{
			name: "BooleanTarget", header: "y,x", rows: "yes,1;no,2",
			want: []Column{{Name: "y", Type: Boolean}, {Name: "x", Type: Integer, Min: fp(1), Max: fp(2)}},
		},
		{
			name: "WholeFloatsAreNumbers", header: "y,x", rows: "1.0,22.0;0.0,-3;1,1e2",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "x", Type: Number, Min: fp(-3), Max: fp(100)},
			},
		},
		{
			name: "IntegerTargetWithManyValuesIsRegression", header: "y,x", rows: repeat(11, func(i int) string { return fmt.Sprintf("%d,%d", i*3, i%2) }),
			want: []Column{{Name: "y", Type: Integer, Min: fp(0), Max: fp(30)}, {Name: "x", Type: Integer, Min: fp(0), Max: fp(1)}},
		},
		{
			name: "IntegerTargetTenClasses", header: "y,x", rows: repeat(30, func(i int) string { return fmt.Sprintf("%d,%d", 9-i%10, i%2) }),
			opts: InferOptions{MaxClasses: 10},
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
				{Name: "x", Type: Integer, Min: fp(0), Max: fp(1)},
			},
		},
		{
			name: "LeadingZerosAreCodes", header: "y,zip", rows: "1,01234;0,00501;1,01234;0,90210",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "zip", Type: Category, Values: []string{"00501", "01234", "90210"}},
			},
		},
		{
			name: "HugeDigitStringsAreLabels", header: "y,acct", rows: "1,12345678901234567890;0,12345678901234567890;1,5",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "acct", Type: Category, Values: []string{"5", "12345678901234567890"}},
			},
		},
		{
			name: "NumericLabelsSortNumerically", header: "y,x", rows: "10,a;9,b;100,a;9.5,b",
			want: []Column{
				{Name: "y", Type: Number, Min: fp(9), Max: fp(100)},
				{Name: "x", Type: Category, Values: []string{"a", "b"}},
			},
		},
		{
			name: "CaseVariantsMerge", header: "y,sex", rows: "1,male;0,Male;1,male;0,FEMALE;1,female;1,female",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "sex", Type: Category, Values: []string{"female", "male"}},
			},
			notes: map[string]string{"sex": "spellings differing only in case read as one label: FEMALE, Male"},
		},
		{
			name: "TrimsSpaces", header: " y , x ", rows: " 1 , a ; 0 ,b",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "x", Type: Category, Values: []string{"a", "b"}},
			},
		},
		{
			name: "TooManyLabelsIsOpen", header: "y,x", rows: repeat(200, func(i int) string { return fmt.Sprintf("%d,L%d", i%2, i%55) }),
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "x", Type: Category},
			},
			notes: map[string]string{"x": "more than 50 distinct labels"},
		},
		{
			name: "FiftyLabelsListed", header: "y,x", rows: repeat(200, func(i int) string { return fmt.Sprintf("%d,L%02d", i%2, i%50) }),
			check: func(t *testing.T, rep *InferReport) {
				if c := rep.Columns[1]; c.Distinct != 50 || len(c.Notes) != 0 {
					t.Errorf("report %+v", c)
				}
			},
		},
		{
			name: "FiftyOneLabelsOpen", header: "y,x", rows: repeat(200, func(i int) string { return fmt.Sprintf("%d,L%02d", i%2, i%51) }),
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "x", Type: Category},
			},
		},
		{
			name: "MaxClassesAboveMaxCategories", header: "y,x", rows: repeat(200, func(i int) string { return fmt.Sprintf("%d,%d", i%60, i%2) }),
			opts: InferOptions{MaxClasses: 60},
			check: func(t *testing.T, rep *InferReport) {
				if c := rep.Columns[0]; c.Type != Category {
					t.Errorf("60-class integer target: %+v", c)
				}
			},
		},
		{
			name: "FewRowsNeverIdentifier", header: "y,name", rows: "1,ann;0,bob;1,cy",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "name", Type: Category, Values: []string{"ann", "bob", "cy"}},
			},
		},
		{
			name: "TargetNeverIgnored", header: "y,x", rows: repeat(30, func(i int) string { return fmt.Sprintf("id%d,%d", i, i%3) }),
			want: []Column{
				{Name: "y", Type: Category, Values: yLabels(30)},
				{Name: "x", Type: Integer, Min: fp(0), Max: fp(2)},
			},
		},
		{
			name: "CounterWithGapIsKept", header: "y,n", rows: repeat(25, func(i int) string { return fmt.Sprintf("%d,%d", i%2, i+i/20) }),
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "n", Type: Integer, Min: fp(0), Max: fp(25)},
			},
		},
		{
			name: "TargetWithMissing", header: "y,x", rows: "1,a;,b;0,a;NA,b",
			want: []Column{
				{Name: "y", Type: Category, Values: []string{"0", "1"}},
				{Name: "x", Type: Category, Values: []string{"a", "b"}},
			},
			notes: map[string]string{"y": "2 of 4 rows have no target value"},
		},
		{
			name: "RaggedRowsSkipped", header: "y,x", rows: "1,a;0;0,b,c;1,b",
			check: func(t *testing.T, rep *InferReport) {
				if rep.Rows != 2 || rep.Skipped != 2 {
					t.Errorf("rows %d skipped %d, want 2 and 2", rep.Rows, rep.Skipped)
				}
			},
		},
		{name: "NoTarget", header: "y,x", rows: "1,2", opts: InferOptions{Target: "-"}, wantErr: "no target"},
		{name: "UnknownTarget", header: "y,x", rows: "1,2", opts: InferOptions{Target: "z"}, wantErr: `target "z" is not a column (columns: y, x)`},
		{name: "DuplicateHeader", header: "y,x,x", rows: "1,2,3", wantErr: `column "x" appears twice`},
		{name: "BadName", header: "y,a\x01b", rows: "1,2", wantErr: `name "a\x01b" holds the unprintable character U+0001`},
		{name: "NoRows", header: "y,x", rows: "1", wantErr: "no data rows"},
		{name: "TargetAllMissing", header: "y,x", rows: ",1;NA,2", wantErr: `target "y" has no values`},
		{name: "OnlyTarget", header: "y", rows: "1;0", wantErr: "no feature columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.Bounds = cmp.Or(opts.Bounds, BoundsObserved) // as in TestInferDatasets
			switch opts.Target {
			case "":
				opts.Target = "y"
			case "-":
				opts.Target = ""
			}
			s, rep, err := Infer(strings.Split(tt.header, ","), seq(rowsOf(tt.rows)), opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			if tt.want != nil {
				if len(s.Columns) != len(tt.want) {
					t.Fatalf("got %d columns, want %d", len(s.Columns), len(tt.want))
				}
				for i, w := range withOther(tt.want, s.Target) {
					if !reflect.DeepEqual(s.Columns[i], w) {
						t.Errorf("column %s:\n got %s\nwant %s", w.Name, fmtCol(s.Columns[i]), fmtCol(w))
					}
				}
			}
			for col, want := range tt.notes {
				i := s.Index(col)
				if i < 0 || !slices.ContainsFunc(rep.Columns[i].Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
					t.Errorf("column %s: notes %q, want one starting with %q", col, rep.Columns[max(i, 0)].Notes, want)
				}
			}
			if tt.check != nil {
				tt.check(t, rep)
			}
		})
	}
}

func yLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("id%d", i)
	}
	slices.Sort(out)
	return out
}

func TestInferAllFeaturesIgnoredReturnsSchema(t *testing.T) {
	t.Parallel()
	var recs [][]string
	for i := range 30 {
		recs = append(recs, []string{strconv.Itoa(i % 2), fmt.Sprintf("user-%d", i)})
	}
	s, rep, err := Infer([]string{"y", "user"}, seq(recs), InferOptions{Target: "y"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no feature columns") {
		t.Fatalf("error %v, want ErrInvalid about feature columns", err)
	}
	if len(s.Columns) != 2 || !s.Columns[1].Ignore || rep == nil || !rep.Columns[1].Ignore {
		t.Errorf("want the schema and report returned with the error, got %+v %+v", s, rep)
	}
}

// TestInferLarge covers the estimated distinct count: an identifier column
// of 100,000 values, a category of 3 and a counter that starts at 1000.
func TestInferLarge(t *testing.T) {
	t.Parallel()
	const n = 100_000
	recs := make([][]string, n)
	for i := range recs {
		recs[i] = []string{strconv.Itoa(i % 2), fmt.Sprintf("u%x", i*2654435761%(1<<32)), "abc"[i%3 : i%3+1], strconv.Itoa(1000 + i), strconv.Itoa(i % 7)}
	}
	s, rep, err := Infer([]string{"y", "user", "grp", "seq", "x"}, seq(recs), InferOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	u := rep.Columns[1]
	if !u.DistinctEstimated || u.Distinct < n*98/100 || u.Distinct > n*102/100 || !u.Ignore {
		t.Errorf("user: distinct %d estimated %v ignore %v, want about %d, estimated, ignored", u.Distinct, u.DistinctEstimated, u.Ignore, n)
	}
	if g := s.Columns[2]; !slices.Equal(g.Values, []string{"a", "b", "c"}) || rep.Columns[2].DistinctEstimated {
		t.Errorf("grp: %s", fmtCol(g))
	}
	if !s.Columns[3].Ignore || !strings.HasPrefix(rep.Columns[3].Reason, "row counter") {
		t.Errorf("seq: %s, reason %q", fmtCol(s.Columns[3]), rep.Columns[3].Reason)
	}

	// Same input, same result.
	s2, rep2, err := Infer([]string{"y", "user", "grp", "seq", "x"}, seq(recs), InferOptions{Target: "y"})
	if err != nil || !reflect.DeepEqual(s, s2) || !reflect.DeepEqual(rep, rep2) {
		t.Errorf("second run differs")
	}
}

func TestInferDeterministic(t *testing.T) {
	t.Parallel()
	header, recs := loadCSV(t, "titanic")
	s1, r1, err1 := Infer(header, seq(recs), InferOptions{Target: "survived"})
	for range 5 {
		s2, r2, err2 := Infer(header, seq(recs), InferOptions{Target: "survived"})
		if err1 != nil || err2 != nil || !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(r1, r2) {
			t.Fatalf("runs differ: %v %v", err1, err2)
		}
	}
}

// TestInferYAML shows how an inferred schema marshals: integer-coded labels
// stay strings, and it reads back the same.
func TestInferYAML(t *testing.T) {
	t.Parallel()
	header, recs := loadCSV(t, "seed_titanic")
	s, _, err := Infer(header, seq(recs), InferOptions{Target: "survived", Bounds: BoundsPhysical})
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `target: survived
columns:
    - name: survived
      type: category
      values: ["0", "1"]
    - name: class
      type: integer
      min: 0
    - name: sex
      type: category
      values: [female, male]
      unknown: other
    - name: age
      type: number
      min: 0
      nullable: true
    - name: embarked
      type: category
      values: [C, Q, S]
      unknown: other
      nullable: true
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	var back Schema
	if err := yaml.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("round trip: %v, %+v", err, back)
	}
	// The hand-written form of DESIGN §2 reads the labels as strings too.
	var c Column
	if err := yaml.Unmarshal([]byte("{name: survived, type: category, values: [0, 1]}"), &c); err != nil || !slices.Equal(c.Values, []string{"0", "1"}) {
		t.Errorf("flow form: %v, %q", err, c.Values)
	}
}

func BenchmarkInfer(b *testing.B) {
	header, recs := loadCSV(b, "titanic")
	var big [][]string
	for len(big) < 1_000_000 {
		big = append(big, recs...)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Infer(header, seq(big), InferOptions{Target: "survived"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(big)), "ns/row")
}
