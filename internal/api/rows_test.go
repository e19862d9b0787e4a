package api_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestPredictRows posts CSV and NDJSON bodies to the predict route: each
// is answered row by row in its own format, a bad row with its error and
// the others scored, on the engine apitest.Engine picks (scripts/test.sh
// runs this suite on both).
func TestPredictRows(t *testing.T) {
	t.Parallel()
	const path = "/v1/models/titanic/predict"
	ftoa := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

	t.Run("csv", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		body := "id,class,sex,age,embarked\n" +
			"a,1,F,22,S\n" +
			"b,2,male,130,C\n" + // age out of range
			"c,3,male,,\n" +
			"d,1\n" // ragged
		r := b.do(t, http.MethodPost, path, "text/csv", body)
		if r.status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("Content-Type %q, want text/csv", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatalf("answer is not CSV: %v\n%s", err, r.body)
		}
		if got := strings.Join(recs[0], ","); got != "id,class,sex,age,embarked,label,p_0,p_1,error" {
			t.Fatalf("header %s", got)
		}
		if len(recs) != 5 {
			t.Fatalf("%d rows, want 4:\n%s", len(recs)-1, r.body)
		}
		for i, row := range map[int][]any{1: {1, true, 22.0, "S"}, 3: {3, false, -1.0, ""}} {
			w := b.fit.want(0, titanicRow(row[0].(int), row[1].(bool), row[2].(float64), row[3].(string)))
			if rec := recs[i]; rec[6] != ftoa(w[0]) || rec[7] != ftoa(w[1]) || rec[8] != "" {
				t.Errorf("row %d: %v, want p %v and no error", i, rec, w)
			}
		}
		if rec := recs[2]; rec[0] != "b" || rec[5] != "" || rec[8] != "age: must be a number between 0 and 120" {
			t.Errorf("bad row: %v, want no prediction and the age rule", rec)
		}
		if rec := recs[4]; rec[0] != "d" || !strings.Contains(rec[8], "has 2 fields, the header has 5") {
			t.Errorf("ragged row: %v", rec)
		}
	})

	t.Run("ndjson", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		body := `{"class": 1, "sex": "F", "age": 22, "embarked": "S"}` + "\n" +
			`{"class": 5, "sex": "F"}` + "\n" +
			`{"class": 1,` + "\n" +
			`{"class": 3, "sex": "male"}` + "\n"
		r := b.do(t, http.MethodPost, path, "application/x-ndjson", body)
		if r.status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("Content-Type %q, want application/x-ndjson", ct)
		}
		lines := strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("%d lines, want 4:\n%s", len(lines), r.body)
		}
		type answer struct {
			Label         string             `json:"label"`
			Probabilities map[string]float64 `json:"probabilities"`
			Error         string             `json:"error"`
			Fields        map[string]string  `json:"fields"`
		}
		var a [4]answer
		for i, l := range lines {
			if err := json.Unmarshal([]byte(l), &a[i]); err != nil {
				t.Fatalf("line %d: %v: %s", i, err, l)
			}
		}
		for i, row := range map[int][]any{0: {1, true, 22.0, "S"}, 3: {3, false, -1.0, ""}} {
			w := b.fit.want(0, titanicRow(row[0].(int), row[1].(bool), row[2].(float64), row[3].(string)))
			if a[i].Probabilities["0"] != w[0] || a[i].Probabilities["1"] != w[1] || a[i].Error != "" {
				t.Errorf("line %d: %s, want p %v", i, lines[i], w)
			}
		}
		if a[1].Fields["class"] != "must be one of 1, 2, 3" || a[1].Label != "" {
			t.Errorf("line 1: %s, want the class rule", lines[1])
		}
		if !strings.Contains(a[2].Error, "invalid JSON") {
			t.Errorf("line 2: %s, want invalid JSON", lines[2])
		}
	})

	t.Run("whole_body_errors", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1, promote: true, maxBatch: 3, maxBody: 4 << 10})
		e := errAnswer(t, b.do(t, http.MethodPost, path, "text/csv", "class,age\n1,3\n"), http.StatusBadRequest, "invalid_input")
		if !strings.Contains(e.Fields["sex"], "required") {
			t.Errorf("missing column: fields %v, want sex", e.Fields)
		}
		errAnswer(t, b.do(t, http.MethodPost, path, "text/csv", ""), http.StatusBadRequest, "bad_request")
		errAnswer(t, b.do(t, http.MethodPost, path, "text/csv", "class,sex\n1,F\n2,F\n3,F\n1,M\n"), http.StatusRequestEntityTooLarge, "batch_too_large")
		errAnswer(t, b.do(t, http.MethodPost, path, "application/x-ndjson", strings.Repeat(`{"class":1,"sex":"F"}`+"\n", 300)), http.StatusRequestEntityTooLarge, "payload_too_large")
		if r := b.do(t, http.MethodPost, path, "text/csv", "class,sex\n1,F\n2,M\n3,F\n"); r.status != http.StatusOK {
			t.Errorf("3 rows with MLSERVE_MAX_BATCH 3: status %d: %s", r.status, r.body)
		}
		r := b.do(t, http.MethodPost, "/v1/models/nope/predict", "text/csv", "class,sex\n1,F\n")
		errAnswer(t, r, http.StatusNotFound, "model_not_found")
	})

	t.Run("json_says_all_or_nothing", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		e := errAnswer(t, b.post(t, path, `{"instances": [{"class": 1, "sex": "F"}, {"class": 9, "sex": "F"}]}`), http.StatusBadRequest, "invalid_input")
		if !strings.Contains(e.Message, "text/csv") || !strings.Contains(e.Message, "application/x-ndjson") {
			t.Errorf("message %q does not point to the per-row formats", e.Message)
		}
	})
}
