package ingest_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

func TestRowsFormats(t *testing.T) {
	t.Parallel()

	// The same four rows in each format; the third is rejected (age 200).
	want := []string{"0,3,male,22,S", "1,1,female,38,C", "1,3,female,<nil>,<nil>"}
	// line is the rejected row's line in the body (a CSV header is line 1).
	cases := []struct {
		name, ctype, body string
		line              int
	}{
		{"json", "application/json", `[
			{"survived": 0, "class": 3, "sex": "male", "age": 22, "embarked": "S"},
			{"survived": "1", "class": "1", "sex": "female", "age": 38.0, "embarked": "C"},
			{"survived": 1, "class": 2, "sex": "female", "age": 200, "embarked": "S"},
			{"survived": 1, "class": 3, "sex": "female", "age": null}
		]`, 4},
		{"json_charset", "application/json; charset=utf-8", `[
			{"survived": 0, "class": 3, "sex": "male", "age": 22, "embarked": "S"},
			{"survived": "1", "class": "1", "sex": "female", "age": 38.0, "embarked": "C"},
			{"survived": 1, "class": 2, "sex": "female", "age": 200, "embarked": "S"},
			{"survived": 1, "class": 3, "sex": "female", "age": null}
		]`, 4},
		{"ndjson", "application/x-ndjson", `{"survived": 0, "class": 3, "sex": "male", "age": 22, "embarked": "S"}
{"survived": "1", "class": "1", "sex": "female", "age": 38.0, "embarked": "C"}
{"survived": 1, "class": 2, "sex": "female", "age": 200, "embarked": "S"}

{"survived": 1, "class": 3, "sex": "female", "age": null}
`, 3},
		{"csv", "text/csv", titanicHeader + "\n0,3,male,22,S\n1,1,female,38.0,C\n1,2,female,200,S\n1,3,female,,\n", 4},
		{"csv_crlf_charset", "text/csv; charset=utf-8", titanicHeader + "\r\n0,3,male,22,S\r\n1,1,female,38.0,C\r\n1,2,female,200,S\r\n1,3,female,,\r\n", 4},
		{"csv_reordered_header", "text/csv", "embarked,age,sex,class,survived\nS,22,male,3,0\nC,38,female,1,1\nS,200,female,2,1\n,,female,3,1\n", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t)
			a := okAnswer(t, b.post(t, "titanic", tc.ctype, tc.body))
			if a.Accepted != 3 || a.Rejected != 1 {
				t.Fatalf("accepted/rejected: got %d/%d, want 3/1", a.Accepted, a.Rejected)
			}
			wantErrs := []rowError{{Row: 2, Line: tc.line, Fields: map[string]string{"age": "must be a number between 0 and 120"}}}
			if !reflect.DeepEqual(a.Errors, wantErrs) {
				t.Errorf("errors: got %+v, want %+v", a.Errors, wantErrs)
			}
			if a.BatchID < 1 {
				t.Errorf("batch_id: got %d, want >= 1", a.BatchID)
			}
			if got := format(b.titanic, b.snapshot(t, "titanic")); !slices.Equal(got, want) {
				t.Errorf("stored rows: got %q, want %q", got, want)
			}
			if got, want := b.counts(t, "titanic"), (counts{batches: 1, rows: 3, quarantined: 1}); got != want {
				t.Errorf("database: got %+v, want %+v", got, want)
			}

			// GET /v1/datasets/titanic reports the same.
			r := b.get(t, "/v1/datasets/titanic")
			if r.status != http.StatusOK {
				t.Fatalf("GET dataset: status %d, body %s", r.status, r.body)
			}
			info := decodeStrict[map[string]any](t, r.body, "name", "rows", "batches", "last_batch_id", "last_batch_at", "quarantined")
			if info["name"] != "titanic" || info["rows"] != 3.0 || info["batches"] != 1.0 ||
				info["last_batch_id"] != float64(a.BatchID) || info["quarantined"] != 1.0 || info["last_batch_at"] == nil {
				t.Errorf("GET dataset: got %s", r.body)
			}
		})
	}

	t.Run("empty_array", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := okAnswer(t, b.post(t, "titanic", "application/json", "[]"))
		if a.Accepted != 0 || a.Rejected != 0 || len(a.Errors) != 0 {
			t.Errorf("got %+v, want nothing accepted or rejected", a)
		}
	})

	t.Run("single_object", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := okAnswer(t, b.post(t, "titanic", "application/json", `{"survived": 1, "class": 2, "sex": "female", "age": 30, "embarked": "Q"}`))
		if a.Accepted != 1 || a.Rejected != 0 {
			t.Errorf("accepted/rejected: got %d/%d, want 1/0", a.Accepted, a.Rejected)
		}
		if got, want := format(b.titanic, b.snapshot(t, "titanic")), []string{"1,2,female,30,Q"}; !slices.Equal(got, want) {
			t.Errorf("stored rows: got %q, want %q", got, want)
		}
	})

	t.Run("dataset_before_any_batch", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		r := b.get(t, "/v1/datasets/sensors")
		if r.status != http.StatusOK {
			t.Fatalf("status %d, body %s", r.status, r.body)
		}
		info := decodeStrict[map[string]any](t, r.body, "name", "rows", "batches", "last_batch_id", "last_batch_at", "quarantined")
		want := map[string]any{"name": "sensors", "rows": 0.0, "batches": 0.0, "last_batch_id": 0.0, "last_batch_at": nil, "quarantined": 0.0}
		if !reflect.DeepEqual(info, want) {
			t.Errorf("got %v, want %v", info, want)
		}
	})
}

func TestRowsCSVHeader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		header     string
		wantFields map[string]string
		wantInMsg  []string
	}{
		{
			name:   "missing_required",
			header: "survived,age,embarked",
			wantFields: map[string]string{
				"class": "is required but missing from the header",
				"sex":   "is required but missing from the header",
			},
			wantInMsg: []string{"missing required column(s) class, sex"},
		},
		{
			name:   "missing_and_unknown_and_duplicate",
			header: "survived,Sex,age,age,embarked,class",
			wantFields: map[string]string{
				"sex": "is required but missing from the header",
				"Sex": "is not a column of this pipeline",
				"age": "appears more than once in the header",
			},
			wantInMsg: []string{"missing required column(s) sex", "unknown column(s) Sex", "duplicate column(s) age"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t)
			body := tc.header + "\n1,1,female,22,S\n0,3,male,30,S\n"
			e := errAnswer(t, b.post(t, "titanic", "text/csv", body), http.StatusBadRequest, "bad_request")
			if !reflect.DeepEqual(e.Fields, tc.wantFields) {
				t.Errorf("fields: got %v, want %v", e.Fields, tc.wantFields)
			}
			for _, s := range tc.wantInMsg {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q lacks %q", e.Message, s)
				}
			}
			b.nothingWritten(t, "titanic")
		})
	}

	t.Run("empty_body", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		e := errAnswer(t, b.post(t, "titanic", "text/csv", ""), http.StatusBadRequest, "bad_request")
		if !strings.Contains(e.Message, "header") {
			t.Errorf("message %q does not mention the header", e.Message)
		}
		b.nothingWritten(t, "titanic")
	})

	t.Run("broken_quote", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		e := errAnswer(t, b.post(t, "titanic", "text/csv", `survived,"class,sex,age,embarked`+"\n1,1,female,22,S\n"), http.StatusBadRequest, "bad_request")
		if !strings.Contains(e.Message, "header") || !strings.Contains(e.Message, "unterminated quoted field") {
			t.Errorf("message %q does not say the header has an unterminated quote", e.Message)
		}
		if n := strings.Count(e.Message, "line 1"); n != 1 {
			t.Errorf("message %q gives the line %d times, want once", e.Message, n)
		}
		b.nothingWritten(t, "titanic")
	})

	t.Run("header_only", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		e := errAnswer(t, b.post(t, "titanic", "text/csv", titanicHeader+"\n"), http.StatusBadRequest, "bad_request")
		if !strings.Contains(e.Message, "header and no rows") {
			t.Errorf("message %q does not say the CSV has no rows", e.Message)
		}
		b.nothingWritten(t, "titanic")
	})
}

func TestRowsRejects(t *testing.T) {
	t.Parallel()

	t.Run("csv", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		lines := []string{
			titanicHeader,
			`0,3,male,22,S`,           // 0 ok
			`1,1,female,abc,C`,        // 1 wrong type
			`1,1,female,130,C`,        // 2 out of range
			`1,2,X,30,S`,              // 3 unknown category
			`0,4,male,30,S`,           // 4 unknown class
			`0,3,male`,                // 5 ragged (short)
			`0,3,male,22,S,extra`,     // 6 ragged (long)
			`0,3,ma"le,22,S`,          // 7 bare quote
			`1,"2,female,40,Q`,        // 8 unterminated quote
			`1,2,female,40,Q`,         // 9 ok: read again after the broken quote
			`yes,9,Y,-1,Z`,            // 10 every field wrong
			`1,2,"female",-0.5,S`,     // 11 negative age
			`1,2,female,1e400,S`,      // 12 overflows to +Inf
			`1,2,female,NaN,S`,        // 13 NaN spells missing: accepted
			` 1 , 2 , female , 7 , Q`, // 14 spaces trimmed: accepted
		}
		body := strings.Join(lines, "\n") + "\n"
		a := okAnswer(t, b.post(t, "titanic", "text/csv", body))
		if a.Accepted != 4 || a.Rejected != 11 {
			t.Errorf("accepted/rejected: got %d/%d, want 4/11", a.Accepted, a.Rejected)
		}
		ageRule := "must be a number between 0 and 120"
		want := map[int]map[string]string{
			1:  {"age": ageRule},
			2:  {"age": ageRule},
			3:  {"sex": "must be one of male, female"},
			4:  {"class": "must be one of 1, 2, 3"},
			5:  {"_row": "has 3 fields, the header has 5"},
			6:  {"_row": "has 6 fields, the header has 5"},
			10: {"survived": "must be one of 0, 1", "class": "must be one of 1, 2, 3", "sex": "must be one of male, female", "age": ageRule, "embarked": "must be one of C, S, Q"},
			11: {"age": ageRule},
			12: {"age": ageRule},
		}
		got := map[int]map[string]string{}
		var rows []int
		for _, e := range a.Errors {
			got[e.Row] = e.Fields
			rows = append(rows, e.Row)
		}
		if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12}; !slices.Equal(rows, want) {
			t.Errorf("rejected rows: got %v, want %v", rows, want)
		}
		for row, fields := range want {
			if !reflect.DeepEqual(got[row], fields) {
				t.Errorf("row %d: got %v, want %v", row, got[row], fields)
			}
		}
		// Broken quotes name the line (1-based, the header is line 1) and the problem.
		for row, want := range map[int][]string{7: {"line 9", `bare "`}, 8: {"line 10", "unterminated quoted field"}} {
			msg := got[row]["_row"]
			if len(got[row]) != 1 {
				t.Errorf("row %d: got fields %v, want only _row", row, got[row])
			}
			if n := strings.Count(msg, "line "); n != 1 {
				t.Errorf("row %d: _row %q gives the line %d times, want once", row, msg, n)
			}
			for _, s := range want {
				if !strings.Contains(msg, s) {
					t.Errorf("row %d: _row %q lacks %q", row, msg, s)
				}
			}
		}
		if got, want := format(b.titanic, b.snapshot(t, "titanic")), []string{"0,3,male,22,S", "1,2,female,40,Q", "1,2,female,<nil>,S", "1,2,female,7,Q"}; !slices.Equal(got, want) {
			t.Errorf("stored rows: got %q, want %q", got, want)
		}

		// The quarantine holds every reject with its raw line and reasons.
		q, err := b.db.QuarantineList(context.Background(), &store.QuarantineListParams{Pipeline: "titanic"})
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 11 {
			t.Fatalf("quarantine: got %d rows, want 11", len(q))
		}
		for _, r := range q {
			if r.BatchID != a.BatchID {
				t.Errorf("quarantined row %d: batch %d, want %d", r.Row, r.BatchID, a.BatchID)
			}
			if want := lines[r.Row+1]; r.Raw != want {
				t.Errorf("quarantined row %d: raw %q, want %q", r.Row, r.Raw, want)
			}
			if !reflect.DeepEqual(r.Fields, schema.FieldErrors(got[r.Row])) {
				t.Errorf("quarantined row %d: reasons %v, want %v", r.Row, r.Fields, got[r.Row])
			}
		}
		if got, want := b.counts(t, "titanic"), (counts{batches: 1, rows: 4, quarantined: 11}); got != want {
			t.Errorf("database: got %+v, want %+v", got, want)
		}
	})

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		objs := []string{
			`{"survived": 1, "class": 1, "sex": "female", "age": 22, "embarked": "S"}`,    // 0 ok
			`{"survived": 1, "class": 1, "sex": "female", "age": "old", "embarked": "S"}`, // 1 wrong type
			`{"survived": 1, "class": 1, "sex": "female", "age": true, "embarked": "S"}`,  // 2 boolean for a number
			`{"survived": 1, "class": [1], "sex": {"a": 1}, "age": 22}`,                   // 3 nested values
			`{"survived": 1, "class": 1, "age": 22}`,                                      // 4 missing required
			`{"survived": 1, "class": 1, "sex": "female", "fare": 7.25}`,                  // 5 unknown column
			`42`,     // 6 not an object
			`"text"`, // 7 not an object
			`null`,   // 8 not an object
			`{"survived": 0, "class": 3, "sex": "M"}`, // 9 ok
		}
		body := "[" + strings.Join(objs, ",\n") + "]"
		a := okAnswer(t, b.post(t, "titanic", "application/json", body))
		if a.Accepted != 2 || a.Rejected != 8 {
			t.Errorf("accepted/rejected: got %d/%d, want 2/8", a.Accepted, a.Rejected)
		}
		ageRule := "must be a number between 0 and 120"
		nested := "must be a single value (string, number, boolean or null), not an object or array"
		want := map[int]map[string]string{
			1: {"age": ageRule},
			2: {"age": ageRule},
			3: {"class": nested, "sex": nested},
			4: {"sex": "is required (must be one of male, female)"},
			5: {"fare": "is not a column of this pipeline (columns: survived, class, sex, age, embarked)"},
		}
		got := map[int]map[string]string{}
		for _, e := range a.Errors {
			got[e.Row] = e.Fields
		}
		if len(got) != 8 {
			t.Errorf("errors: got rows %v, want 8", got)
		}
		for row, fields := range want {
			if !reflect.DeepEqual(got[row], fields) {
				t.Errorf("row %d: got %v, want %v", row, got[row], fields)
			}
		}
		for _, row := range []int{6, 7, 8} {
			if msg := got[row]["_row"]; len(got[row]) != 1 || !strings.Contains(msg, "must be a JSON object") {
				t.Errorf("row %d: got %v, want _row saying it must be a JSON object", row, got[row])
			}
		}
		q, err := b.db.QuarantineList(context.Background(), &store.QuarantineListParams{Pipeline: "titanic"})
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 8 {
			t.Fatalf("quarantine: got %d rows, want 8", len(q))
		}
		for _, r := range q {
			if r.Raw != objs[r.Row] {
				t.Errorf("quarantined row %d: raw %q, want %q", r.Row, r.Raw, objs[r.Row])
			}
		}
		if got, want := format(b.titanic, b.snapshot(t, "titanic")), []string{"1,1,female,22,S", "0,3,male,<nil>,<nil>"}; !slices.Equal(got, want) {
			t.Errorf("stored rows: got %q, want %q", got, want)
		}
	})

	t.Run("all_rejected", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a := okAnswer(t, b.post(t, "titanic", "text/csv", titanicHeader+"\n2,1,female,22,S\n"))
		if a.Accepted != 0 || a.Rejected != 1 {
			t.Errorf("accepted/rejected: got %d/%d, want 0/1", a.Accepted, a.Rejected)
		}
		// A batch of rejects only is still recorded: nothing sent is lost.
		if got, want := b.counts(t, "titanic"), (counts{batches: 1, rows: 0, quarantined: 1}); got != want {
			t.Errorf("database: got %+v, want %+v", got, want)
		}
	})

	t.Run("errors_capped_counts_exact", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		n := ingest.MaxErrorsInAnswer + 5
		var sb strings.Builder
		sb.WriteString(titanicHeader + "\n1,1,female,22,S\n")
		for range n {
			sb.WriteString("1,1,female,-1,S\n")
		}
		a := okAnswer(t, b.post(t, "titanic", "text/csv", sb.String()))
		if a.Accepted != 1 || a.Rejected != int64(n) || len(a.Errors) != ingest.MaxErrorsInAnswer {
			t.Errorf("got accepted %d rejected %d errors %d, want 1, %d, %d", a.Accepted, a.Rejected, len(a.Errors), n, ingest.MaxErrorsInAnswer)
		}
		if a.Errors[0].Row != 1 {
			t.Errorf("first error: row %d, want 1", a.Errors[0].Row)
		}
		if got := b.counts(t, "titanic").quarantined; got != int64(n) {
			t.Errorf("quarantined: got %d, want %d", got, n)
		}
	})
}

func TestRowsCoercion(t *testing.T) {
	t.Parallel()

	t.Run("titanic", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		body := titanicHeader + "\n" + strings.Join([]string{
			`1,1,F,22.0,S`,       // alias
			`0,3,m,NA,`,          // alias lower case; NA and "" for nullable
			`1,2,FEMALE,n/a,q`,   // value in other case; category case-insensitive
			`0,3.0,Male,null,NA`, // "3.0" for label 3
			`1.0,1,female,0,C`,   // bounds are inclusive
			`0,1,male,120,C`,     // bounds are inclusive
			`0,1,NA,30,C`,        // sex is not nullable
			`0,1,Fe,30,C`,        // not an alias
		}, "\n")
		a := okAnswer(t, b.post(t, "titanic", "text/csv", body))
		if a.Accepted != 6 || a.Rejected != 2 {
			t.Errorf("accepted/rejected: got %d/%d, want 6/2", a.Accepted, a.Rejected)
		}
		wantErrs := []rowError{
			{Row: 6, Line: 8, Fields: map[string]string{"sex": "is required (must be one of male, female)"}},
			{Row: 7, Line: 9, Fields: map[string]string{"sex": "must be one of male, female"}},
		}
		if !reflect.DeepEqual(a.Errors, wantErrs) {
			t.Errorf("errors: got %+v, want %+v", a.Errors, wantErrs)
		}
		want := []string{
			"1,1,female,22,S",
			"0,3,male,<nil>,<nil>",
			"1,2,female,<nil>,Q",
			"0,3,male,<nil>,<nil>",
			"1,1,female,0,C",
			"0,1,male,120,C",
		}
		if got := format(b.titanic, b.snapshot(t, "titanic")); !slices.Equal(got, want) {
			t.Errorf("stored rows: got %q, want %q", got, want)
		}
	})

	t.Run("booleans_and_integers", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		body := `[
			{"ok": "yes", "count": 3, "temp": "21.5", "armed": "no"},
			{"ok": "No", "count": "4.0", "temp": "NA", "armed": "Y"},
			{"ok": true, "count": 0, "temp": "", "armed": false},
			{"ok": 1, "count": "7", "armed": null},
			{"ok": "maybe", "count": 3.5, "temp": "warm", "armed": 2},
			{"ok": "t", "count": -1},
			{"count": 1}
		]`
		a := okAnswer(t, b.post(t, "sensors", "application/json", body))
		if a.Accepted != 4 || a.Rejected != 3 {
			t.Errorf("accepted/rejected: got %d/%d, want 4/3", a.Accepted, a.Rejected)
		}
		boolRule := "must be true or false (1/0 and yes/no are accepted too)"
		wantErrs := []rowError{
			{Row: 4, Line: 6, Fields: map[string]string{"ok": boolRule, "count": "must be an integer >= 0", "temp": "must be a number", "armed": boolRule}},
			{Row: 5, Line: 7, Fields: map[string]string{"count": "must be an integer >= 0"}},
			{Row: 6, Line: 8, Fields: map[string]string{"ok": "is required (" + boolRule + ")"}},
		}
		if !reflect.DeepEqual(a.Errors, wantErrs) {
			t.Errorf("errors: got %+v, want %+v", a.Errors, wantErrs)
		}
		want := []string{
			"true,3,21.5,false",
			"false,4,<nil>,true",
			"true,0,<nil>,false",
			"true,7,<nil>,<nil>",
		}
		if got := format(b.sensors, b.snapshot(t, "sensors")); !slices.Equal(got, want) {
			t.Errorf("stored rows: got %q, want %q", got, want)
		}
		// The other pipeline is untouched.
		b.nothingWritten(t, "titanic")
	})
}

func TestRowsBadBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, ctype, body string
	}{
		{"not_json", "application/json", "hello, world"},
		{"truncated_array", "application/json", `[{"survived": 1, "class": 1, "sex": "female"}, {"survived": 0, "cla`},
		{"truncated_after_comma", "application/json", `[{"survived": 1, "class": 1, "sex": "female"},`},
		{"open_bracket_only", "application/json", `[`},
		{"truncated_object", "application/json", `{"survived": 1, "class": 1`},
		{"top_level_number", "application/json", `42`},
		{"top_level_string", "application/json", `"rows"`},
		{"top_level_null", "application/json", `null`},
		{"top_level_true", "application/json", `true`},
		{"empty", "application/json", ``},
		{"whitespace", "application/json", " \n\t "},
		{"data_after_array", "application/json", `[{"survived": 1, "class": 1, "sex": "female"}] [1]`},
		{"two_objects", "application/json", `{"survived": 1, "class": 1, "sex": "female"} {"survived": 1}`},
		{"closing_bracket", "application/json", `]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t)
			errAnswer(t, b.post(t, "titanic", tc.ctype, tc.body), http.StatusBadRequest, "bad_request")
			b.nothingWritten(t, "titanic")
		})
	}

	t.Run("ndjson_bad_line", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		lines := []string{
			`{"survived": 1, "class": 1, "sex": "female", "age": 22, "embarked": "S"}`,
			`{"survived": 0, "class": 3, "sex": "ma`,
			`[1, 2, 3]`,
			`{"survived": 0, "class": 3, "sex": "male"} {"survived": 1}`,
			`{"survived": 0, "class": 2, "sex": "male", "age": 40}`,
		}
		a := okAnswer(t, b.post(t, "titanic", "application/x-ndjson", strings.Join(lines, "\n")))
		if a.Accepted != 2 || a.Rejected != 3 {
			t.Errorf("accepted/rejected: got %d/%d, want 2/3", a.Accepted, a.Rejected)
		}
		for i, e := range a.Errors {
			if want := i + 1; e.Row != want {
				t.Errorf("error %d: row %d, want %d", i, e.Row, want)
			}
			if len(e.Fields) != 1 || e.Fields["_row"] == "" {
				t.Errorf("row %d: got %v, want a _row reason", e.Row, e.Fields)
			}
		}
		if got, want := format(b.titanic, b.snapshot(t, "titanic")), []string{"1,1,female,22,S", "0,2,male,40,<nil>"}; !slices.Equal(got, want) {
			t.Errorf("stored rows: got %q, want %q", got, want)
		}
		q, err := b.db.QuarantineList(context.Background(), &store.QuarantineListParams{Pipeline: "titanic"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range q {
			if r.Raw != lines[r.Row] {
				t.Errorf("quarantined row %d: raw %q, want %q", r.Row, r.Raw, lines[r.Row])
			}
		}
		if len(q) != 3 {
			t.Errorf("quarantine: got %d rows, want 3", len(q))
		}
	})
}

// TestRowsCSVUnknownColumnsIgnored checks that a CSV column the schema
// lacks is dropped and named in the answer's ignored_columns (the default
// of schema.unknown_columns), the rows stored.
func TestRowsCSVUnknownColumnsIgnored(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	r := b.post(t, "titanic", "text/csv", "survived,class,fare,sex,age,embarked,cabin\n1,1,71.3,female,22,S,C85\n0,3,7.25,male,30,S,\n")
	a := okAnswer(t, r)
	if a.Accepted != 2 || a.Rejected != 0 {
		t.Errorf("got %+v; want 2 accepted", a)
	}
	if !reflect.DeepEqual(a.IgnoredColumns, []string{"fare", "cabin"}) {
		t.Errorf("ignored_columns %q; want [fare cabin]", a.IgnoredColumns)
	}
}
