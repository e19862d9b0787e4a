package ingest_test

import (
	"testing"
)

// FuzzRows posts bodies a fuzzer makes, as CSV and as JSON, to the rows
// route: the answer is a 200 whose counts are exactly what the database
// gained (accepted rows stored, rejected rows quarantined), or a 4xx that
// wrote nothing; never a 5xx. `go test` runs the seeds; search for more with
//
//	go test -run '^$' -fuzz FuzzRows -fuzztime 2m ./internal/ingest
func FuzzRows(f *testing.F) {
	_, b := setup(f)
	for _, s := range []struct {
		json bool
		body string
	}{
		{false, "survived,class,sex,age,embarked\n1,1,female,22,S\n0,3,male,,Q\n"},
		{false, "survived,class,sex,age,embarked\n1,9,female,22,S\n0,3,\"male,40,S\n"},
		{false, "class,sex\n1,F\n"},
		{false, "survived,class,sex,age,embarked,extra\n1,1,F,1,S,x\n"},
		{false, "survived,class,sex,age,embarked\n1,1,F\n"},
		{false, "\xef\xbb\xbfsurvived;class\n"},
		{true, `{"rows": [{"survived": 1, "class": 1, "sex": "F", "age": 22, "embarked": "S"}]}`},
		{true, `{"rows": [{"survived": 1, "class": "x", "sex": "F"}, {"survived": null}]}`},
		{true, `[{"survived": 1}]`},
		{true, `{"rows": [1, "a", null, []]}`},
	} {
		f.Add(s.json, s.body)
	}
	f.Fuzz(func(t *testing.T, asJSON bool, body string) {
		ctype := "text/csv"
		if asJSON {
			ctype = "application/json"
		}
		before := b.counts(t, "titanic")
		r := b.post(t, "titanic", ctype, body)
		after := b.counts(t, "titanic")
		switch {
		case r.status >= 500:
			t.Fatalf("status %d for %s %q: %s", r.status, ctype, body, r.body)
		case r.status == 200:
			a := okAnswer(t, r)
			if after.rows-before.rows != a.Accepted || after.quarantined-before.quarantined != a.Rejected || int64(len(a.Errors)) > a.Rejected {
				t.Fatalf("%s %q: answer %+v, but the database gained %d rows and %d quarantined", ctype, body, a, after.rows-before.rows, after.quarantined-before.quarantined)
			}
		default:
			if after != before {
				t.Fatalf("%s %q: status %d, but the database changed from %+v to %+v", ctype, body, r.status, before, after)
			}
		}
	})
}
