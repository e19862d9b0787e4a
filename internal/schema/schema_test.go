package schema

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func f64(v float64) *float64 { return &v }

func titanicSchema() Schema {
	return Schema{Target: "survived", Columns: []Column{
		{Name: "survived", Type: Category, Values: []string{"0", "1"}},
		{Name: "class", Type: Category, Values: []string{"1", "2", "3"}},
		{Name: "sex", Type: Category, Values: []string{"male", "female"}, Aliases: map[string]string{"M": "male", "F": "female"}},
		{Name: "age", Type: Number, Min: f64(0), Max: f64(120), Nullable: true},
		{Name: "embarked", Type: Category, Values: []string{"C", "S", "Q"}, Nullable: true},
		{Name: "sibsp", Type: Integer, Min: f64(0)},
		{Name: "alone", Type: Boolean, Nullable: true},
		{Name: "name", Type: Category, Ignore: true},
	}}
}

func mustCompile(t *testing.T, s Schema) *Compiled {
	t.Helper()
	c, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCoerce(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, titanicSchema())
	tests := []struct {
		col, raw string
		missing  bool
		want     Value
		wantErr  string // substring of the message; "" = accepted
	}{
		{"age", " 22 ", false, Value{Num: 22}, ""},
		{"age", "22.5", false, Value{Num: 22.5}, ""},
		{"age", "", false, Value{Missing: true}, ""},
		{"age", "NA", false, Value{Missing: true}, ""},
		{"age", "null", false, Value{Missing: true}, ""},
		{"age", "x", true, Value{Missing: true}, ""},
		{"age", "abc", false, Value{}, "must be a number between 0 and 120"},
		{"age", "121", false, Value{}, "must be a number between 0 and 120"},
		{"age", "-1", false, Value{}, "between 0 and 120"},
		{"age", "NaN", false, Value{Missing: true}, ""},
		{"age", "Inf", false, Value{}, "must be a number"},
		{"sibsp", "22.0", false, Value{Num: 22}, ""},
		{"sibsp", "3", false, Value{Num: 3}, ""},
		{"sibsp", "2.5", false, Value{}, "must be an integer >= 0"},
		{"sibsp", "-2", false, Value{}, "must be an integer >= 0"},
		{"sibsp", "", false, Value{}, "is required"},
		{"sex", "F", false, Value{Num: 1, Str: "female"}, ""},
		{"sex", "m", false, Value{Num: 0, Str: "male"}, ""},
		{"sex", "FEMALE", false, Value{Num: 1, Str: "female"}, ""},
		{"sex", "x", false, Value{}, "must be one of male, female"},
		{"sex", "", false, Value{}, "is required"},
		{"class", "2.0", false, Value{Num: 1, Str: "2"}, ""},
		{"class", "4", false, Value{}, "must be one of 1, 2, 3"},
		{"embarked", "", false, Value{Missing: true}, ""},
		{"embarked", "s", false, Value{Num: 1, Str: "S"}, ""},
		{"alone", "yes", false, Value{Num: 1}, ""},
		{"alone", "No", false, Value{Num: 0}, ""},
		{"alone", "1", false, Value{Num: 1}, ""},
		{"alone", "false", false, Value{Num: 0}, ""},
		{"alone", "maybe", false, Value{}, "must be true or false"},
		{"name", "anything at all", false, Value{Missing: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.col+"="+tt.raw, func(t *testing.T) {
			t.Parallel()
			got, msg := c.Coerce(c.Index(tt.col), tt.raw, tt.missing)
			if tt.wantErr != "" {
				if !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("message %q, want it to contain %q", msg, tt.wantErr)
				}
				return
			}
			if msg != "" || got != tt.want {
				t.Fatalf("got %+v %q, want %+v", got, msg, tt.want)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	t.Parallel()
	base := titanicSchema
	tests := map[string]struct {
		change func(*Schema)
		want   string
	}{
		"UnknownType":      {func(s *Schema) { s.Columns[3].Type = "float" }, `type "float" is unknown`},
		"MissingType":      {func(s *Schema) { s.Columns[3].Type = "" }, "type is missing"},
		"AliasToNonValue":  {func(s *Schema) { s.Columns[2].Aliases = map[string]string{"W": "woman"} }, `maps to "woman"`},
		"DuplicateColumn":  {func(s *Schema) { s.Columns[4].Name = "age" }, `"age" is declared twice`},
		"MinAboveMax":      {func(s *Schema) { s.Columns[3].Min = f64(200) }, "min 200 is greater than max 120"},
		"RangeOnCategory":  {func(s *Schema) { s.Columns[1].Min = f64(0) }, "min and max apply to number and integer"},
		"TargetMissing":    {func(s *Schema) { s.Target = "alive" }, `target "alive" is not one of the columns`},
		"TargetNullable":   {func(s *Schema) { s.Columns[0].Nullable = true }, "must not be nullable"},
		"TargetIgnored":    {func(s *Schema) { s.Columns[0].Ignore = true }, "marked ignore"},
		"ValuesCaseClash":  {func(s *Schema) { s.Columns[4].Values = []string{"C", "c"} }, "same ignoring case"},
		"BadName":          {func(s *Schema) { s.Columns[3].Name = "a\nge" }, "unprintable character U+000A"},
		"SpacedName":       {func(s *Schema) { s.Columns[3].Name = " age" }, "leading or trailing spaces"},
		"TimestampTarget":  {func(s *Schema) { s.Columns[0] = Column{Name: "survived", Type: Timestamp} }, `target "survived" is a timestamp`},
		"TimestampRange":   {func(s *Schema) { s.Columns[3].Type = Timestamp }, "timestamp columns take no values, aliases, min or max"},
		"UnknownOnNumber":  {func(s *Schema) { s.Columns[3].Unknown = UnknownOther }, "unknown: other applies to category columns with values only"},
		"UnknownOpen":      {func(s *Schema) { s.Columns[7] = Column{Name: "name", Type: Category, Unknown: UnknownOther} }, "unknown: other applies to category columns with values only"},
		"UnknownPolicy":    {func(s *Schema) { s.Columns[4].Unknown = "keep" }, `unknown "keep" is not a policy; use reject or other`},
		"UnknownOnTarget":  {func(s *Schema) { s.Columns[0].Unknown = UnknownOther }, "only features take it"},
		"NoFeatures":       {func(s *Schema) { s.Columns = s.Columns[:1] }, "no feature columns"},
		"ValuesOnANumber":  {func(s *Schema) { s.Columns[3].Values = []string{"1"} }, "category columns only"},
		"BooleanWithRange": {func(s *Schema) { s.Columns[6].Max = f64(1) }, "boolean columns take no"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := base()
			tt.change(&s)
			_, err := Compile(s)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, titanicSchema())
	t.Run("MissingUnknownDuplicate", func(t *testing.T) {
		t.Parallel()
		_, err := c.Header([]string{"survived", "class", "class", "fare", "deck"})
		var he *HeaderError
		if !errors.As(err, &he) {
			t.Fatalf("err = %v, want *HeaderError", err)
		}
		want := "csv header: missing required column(s) sex, sibsp; unknown column(s) fare, deck; duplicate column(s) class"
		if err.Error() != want {
			t.Fatalf("got  %q\nwant %q", err.Error(), want)
		}
		if fe := he.Fields(); len(fe) != 5 || fe["fare"] == "" || fe["sex"] == "" {
			t.Fatalf("fields = %v", fe)
		}
	})
	t.Run("NullableAndIgnoredMayBeAbsent", func(t *testing.T) {
		t.Parallel()
		h, err := c.Header([]string{"\ufeffsurvived", " class", "sex", "sibsp"})
		if err != nil {
			t.Fatal(err)
		}
		row, fe := h.Row([]string{"1", "3", "F", "0"}, nil)
		if fe != nil {
			t.Fatal(fe)
		}
		if !row[3].Missing || !row[4].Missing || row[2].Str != "female" {
			t.Fatalf("row = %+v", row)
		}
	})
	t.Run("RaggedAndBadFields", func(t *testing.T) {
		t.Parallel()
		h, err := c.Header([]string{"survived", "class", "sex", "age", "sibsp"})
		if err != nil {
			t.Fatal(err)
		}
		if _, fe := h.Row([]string{"1", "3"}, nil); fe["_row"] != "has 2 fields, the header has 5" {
			t.Fatalf("ragged: %v", fe)
		}
		_, fe := h.Row([]string{"2", "3", "x", "200", "0"}, nil)
		if len(fe) != 3 || fe["survived"] == "" || fe["sex"] == "" || fe["age"] == "" {
			t.Fatalf("every bad field must be named: %v", fe)
		}
	})
}

func TestRowFromMap(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, titanicSchema())
	row, fe := c.RowFromMap(map[string]Raw{"survived": {Text: "0"}, "class": {Text: "1"}, "sex": {Text: "M"}, "age": {Missing: true}, "sibsp": {Text: "1"}, "name": {Text: "Braund"}})
	if fe != nil || !row[3].Missing || row[2].Str != "male" {
		t.Fatalf("row %+v, errors %v", row, fe)
	}
	_, fe = c.RowFromMap(map[string]Raw{"survived": {Text: "0"}, "class": {Text: "1"}, "sex": {Text: "M"}, "sibsp": {Text: "1"}, "fare": {Text: "7.25"}})
	if !strings.Contains(fe["fare"], "is not a column") || len(fe) != 1 {
		t.Fatalf("unknown column: %v", fe)
	}
	if got := (FieldErrors{"b": "y", "a": "x"}).Error(); got != "a: x; b: y" {
		t.Fatalf("FieldErrors.Error() = %q", got)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, titanicSchema())
	for _, tc := range []struct{ col, raw, want string }{
		{"age", "22.50", "22.5"}, {"sibsp", "3.0", "3"}, {"sex", "f", "female"}, {"alone", "yes", "true"}, {"embarked", "NA", ""},
	} {
		i := c.Index(tc.col)
		v, msg := c.Coerce(i, tc.raw, false)
		if msg != "" {
			t.Fatal(msg)
		}
		if got := c.Format(i, v); got != tc.want {
			t.Errorf("Format(Coerce(%s=%q)) = %q, want %q", tc.col, tc.raw, got, tc.want)
		}
	}
}

func TestCoerceNegativeZeroAndOddLabels(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Schema{Target: "y", Columns: []Column{
		{Name: "y", Type: Number},
		{Name: "n", Type: Integer},
		{Name: "tag", Type: Category},
	}})
	for _, raw := range []string{"-0", "-0.0", "-0e10", " -0 "} {
		for _, col := range []string{"y", "n"} {
			v, msg := c.Coerce(c.Index(col), raw, false)
			if msg != "" || v.Num != 0 || math.Signbit(v.Num) {
				t.Errorf("%s=%q: got %v (signbit %v) %q, want +0", col, raw, v.Num, math.Signbit(v.Num), msg)
			}
		}
	}
	for _, raw := range []string{"a\x00b", "\xff\xfe", "ok\xc3"} {
		if _, msg := c.Coerce(c.Index("tag"), raw, false); !strings.Contains(msg, "NUL") {
			t.Errorf("tag=%q: message %q, want a rejection naming NUL bytes and UTF-8", raw, msg)
		}
	}
	if v, msg := c.Coerce(c.Index("tag"), "héllo ✓", false); msg != "" || v.Str != "héllo ✓" {
		t.Errorf("a UTF-8 label: got %+v %q", v, msg)
	}
}

// TestTimestamp checks what a timestamp column accepts and how it reads
// and writes its values.
func TestTimestamp(t *testing.T) {
	t.Parallel()
	s := titanicSchema()
	s.Columns = append(s.Columns, Column{Name: "at", Type: Timestamp, Nullable: true})
	c := mustCompile(t, s)
	at := c.Index("at")
	tests := []struct {
		raw     string
		want    float64 // Unix seconds
		wantErr bool
		canon   string
	}{
		{"2024-03-01", 1709251200, false, "2024-03-01T00:00:00Z"},
		{"2024-03-01T13:45:00Z", 1709300700, false, "2024-03-01T13:45:00Z"},
		{"2024-03-01T13:45:00+02:00", 1709293500, false, "2024-03-01T11:45:00Z"},
		{"2024-03-01 13:45:00", 1709300700, false, "2024-03-01T13:45:00Z"},
		{"2024-03-01T13:45", 1709300700, false, "2024-03-01T13:45:00Z"},
		{"2024-03-01T13:45:00.1239Z", 1709300700.123, false, "2024-03-01T13:45:00.123Z"},
		{"1969-12-31T23:59:59Z", -1, false, "1969-12-31T23:59:59Z"},
		{"2024-02-30", 0, true, ""},
		{"03/01/2024", 0, true, ""},
		{"1709300700", 0, true, ""},
		{"2024-03-01Tnoon", 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			v, msg := c.Coerce(at, tt.raw, false)
			if tt.wantErr {
				if !strings.Contains(msg, "must be an ISO 8601 date or date-time") {
					t.Fatalf("%q: %+v %q, want refused naming ISO 8601", tt.raw, v, msg)
				}
				return
			}
			if msg != "" || v.Num != tt.want {
				t.Fatalf("%q: %+v %q, want Unix %v", tt.raw, v, msg, tt.want)
			}
			if got := c.Format(at, v); got != tt.canon {
				t.Errorf("Format: %q, want %q", got, tt.canon)
			}
			if back, _ := c.Coerce(at, c.Format(at, v), false); back != v {
				t.Errorf("Format then Coerce: %+v, want %+v", back, v)
			}
		})
	}
}

// TestUnknownOther checks the two unknown policies of a category feature.
func TestUnknownOther(t *testing.T) {
	t.Parallel()
	s := titanicSchema()
	reject := mustCompile(t, s)
	s.Columns[4].Unknown = UnknownOther // embarked
	other := mustCompile(t, s)
	i := other.Index("embarked")
	if _, msg := reject.Coerce(i, "X", false); !strings.Contains(msg, "must be one of C, S, Q") {
		t.Errorf("reject: %q, want the values named", msg)
	}
	if v, msg := other.Coerce(i, " X ", false); msg != "" || v != (Value{Num: -1, Str: "X"}) {
		t.Errorf("other: %+v %q, want {-1 X}", v, msg)
	}
	if v, msg := other.Coerce(i, "s", false); msg != "" || v != (Value{Num: 1, Str: "S"}) {
		t.Errorf("other, a declared label: %+v %q, want {1 S}", v, msg)
	}
	if v, msg := other.Coerce(i, "", false); msg != "" || !v.Missing {
		t.Errorf("other, missing: %+v %q, want missing", v, msg)
	}
	if _, msg := other.Coerce(i, "a\x00b", false); msg == "" {
		t.Error("other: a NUL byte accepted")
	}
	if got := other.Format(i, Value{Num: -1, Str: "X"}); got != "X" {
		t.Errorf("Format other: %q, want X", got)
	}
}
