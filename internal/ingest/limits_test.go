package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/testenv"
)

func TestRowsLimits(t *testing.T) {
	t.Parallel()
	const maxBody = 2048
	row := `{"survived": 1, "class": 1, "sex": "female", "age": 22, "embarked": "S"}`
	big := func(sep, open, close string) string {
		var parts []string
		for range 2 * maxBody / len(row) {
			parts = append(parts, row)
		}
		return open + strings.Join(parts, sep) + close
	}
	var csvBig strings.Builder
	csvBig.WriteString(titanicHeader + "\n")
	for csvBig.Len() <= 2*maxBody {
		csvBig.WriteString("1,1,female,22,S\n")
	}
	tooLarge := []struct {
		name, ctype, body string
	}{
		{"json_array", "application/json", big(",", "[", "]")},
		{"json_object", "application/json", `{"survived": 1, "class": 1, "sex": "` + strings.Repeat("x", 2*maxBody) + `"}`},
		{"ndjson", "application/x-ndjson", big("\n", "", "\n")},
		{"csv", "text/csv", csvBig.String()},
	}
	for _, tc := range tooLarge {
		t.Run("too_large_"+tc.name, func(t *testing.T) {
			t.Parallel()
			_, b := setupWith(t, setupOpts{maxBody: maxBody})
			e := errAnswer(t, b.post(t, "titanic", tc.ctype, tc.body), http.StatusRequestEntityTooLarge, "payload_too_large")
			if !strings.Contains(e.Message, fmt.Sprint(maxBody)) {
				t.Errorf("message %q does not give the limit %d", e.Message, maxBody)
			}
			b.nothingWritten(t, "titanic")
		})
	}

	t.Run("just_under_limit", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{maxBody: maxBody})
		var sb strings.Builder
		sb.WriteString(titanicHeader + "\n")
		n := 0
		for sb.Len()+len("1,1,female,22,S\n") <= maxBody {
			sb.WriteString("1,1,female,22,S\n")
			n++
		}
		a := okAnswer(t, b.post(t, "titanic", "text/csv", sb.String()))
		if a.Accepted != int64(n) {
			t.Errorf("accepted: got %d, want %d", a.Accepted, n)
		}
	})

	for _, ct := range []string{"", "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"} {
		t.Run("unsupported_"+ct, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t)
			e := errAnswer(t, b.post(t, "titanic", ct, "1,2,3\n"), http.StatusUnsupportedMediaType, "unsupported_media_type")
			for _, s := range []string{"application/json", "application/x-ndjson", "text/csv"} {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q does not name %s", e.Message, s)
				}
			}
			b.nothingWritten(t, "titanic")
		})
	}

	t.Run("unknown_pipeline", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		for _, name := range []string{"titanik", "Titanic", "ds_titanic", "a.b", "a%20b"} {
			e := errAnswer(t, b.post(t, name, "text/csv", titanicHeader+"\n1,1,female,22,S\n"), http.StatusNotFound, "not_found")
			if !strings.Contains(e.Message, "titanic") {
				t.Errorf("%s: message %q does not list the pipelines", name, e.Message)
			}
			errAnswer(t, b.get(t, "/v1/datasets/"+name), http.StatusNotFound, "not_found")
		}
		b.nothingWritten(t, "titanic")
	})

	t.Run("idempotency_key_too_long", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		errAnswer(t, b.post(t, "titanic", "text/csv", titanicHeader+"\n1,1,female,22,S\n", "Idempotency-Key", strings.Repeat("k", 256)),
			http.StatusBadRequest, "bad_request")
		b.nothingWritten(t, "titanic")
		okAnswer(t, b.post(t, "titanic", "text/csv", titanicHeader+"\n1,1,female,22,S\n", "Idempotency-Key", strings.Repeat("k", 255)))
	})
}

func TestRowsIdempotency(t *testing.T) {
	t.Parallel()
	body := titanicHeader + "\n1,1,female,22,S\n0,3,male,abc,S\n0,2,male,30,Q\n"

	t.Run("replay", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		first := b.post(t, "titanic", "text/csv", body, "Idempotency-Key", "k-1")
		a1 := okAnswer(t, first)
		if h := first.header.Get("Idempotent-Replayed"); h != "" {
			t.Errorf("first answer: Idempotent-Replayed %q, want none", h)
		}
		for range 2 {
			again := b.post(t, "titanic", "text/csv", body, "Idempotency-Key", "k-1")
			a2 := okAnswer(t, again)
			if h := again.header.Get("Idempotent-Replayed"); h != "true" {
				t.Errorf("replay: Idempotent-Replayed %q, want true", h)
			}
			if !bytes.Equal(again.body, first.body) {
				t.Errorf("replay: got %s, want the first answer %s", again.body, first.body)
			}
			if !reflect.DeepEqual(a2, a1) {
				t.Errorf("replay: got %+v, want %+v", a2, a1)
			}
		}
		if got, want := b.counts(t, "titanic"), (counts{batches: 1, rows: 2, quarantined: 1}); got != want {
			t.Errorf("database: got %+v, want %+v", got, want)
		}
	})

	t.Run("different_body", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		okAnswer(t, b.post(t, "titanic", "text/csv", body, "Idempotency-Key", "k-2"))
		other := body + "1,3,female,5,C\n"
		e := errAnswer(t, b.post(t, "titanic", "text/csv", other, "Idempotency-Key", "k-2"), http.StatusUnprocessableEntity, "idempotency_key_reused")
		if !strings.Contains(e.Message, "Idempotency-Key") {
			t.Errorf("message %q does not name the header", e.Message)
		}
		// The same rows in another format are another request.
		asJSON := `[{"survived": 1, "class": 1, "sex": "female", "age": 22, "embarked": "S"}]`
		errAnswer(t, b.post(t, "titanic", "application/json", asJSON, "Idempotency-Key", "k-2"), http.StatusUnprocessableEntity, "idempotency_key_reused")
		if got, want := b.counts(t, "titanic"), (counts{batches: 1, rows: 2, quarantined: 1}); got != want {
			t.Errorf("database: got %+v, want %+v", got, want)
		}
	})

	t.Run("keys_are_per_request", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		a1 := okAnswer(t, b.post(t, "titanic", "text/csv", body, "Idempotency-Key", "k-3"))
		a2 := okAnswer(t, b.post(t, "titanic", "text/csv", body, "Idempotency-Key", "k-4"))
		a3 := okAnswer(t, b.post(t, "titanic", "text/csv", body))
		a4 := okAnswer(t, b.post(t, "titanic", "text/csv", body))
		ids := []int64{a1.BatchID, a2.BatchID, a3.BatchID, a4.BatchID}
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != 4 {
			t.Errorf("batch ids: got %v, want 4 increasing ids", ids)
		}
		if got, want := b.counts(t, "titanic"), (counts{batches: 4, rows: 8, quarantined: 4}); got != want {
			t.Errorf("database: got %+v, want %+v", got, want)
		}
	})

	t.Run("same_key_other_pipeline", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		okAnswer(t, b.post(t, "titanic", "text/csv", body, "Idempotency-Key", "k-5"))
		r := b.post(t, "sensors", "application/json", `[{"ok": true, "count": 1}]`, "Idempotency-Key", "k-5")
		if a := okAnswer(t, r); a.Accepted != 1 || r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("sensors: got %+v replayed %q, want a new batch", a, r.header.Get("Idempotent-Replayed"))
		}
	})

	t.Run("concurrent_retries", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		var wg sync.WaitGroup
		answers := make([]*response, 6)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, b.url+"/v1/datasets/titanic/rows", strings.NewReader(body))
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set("Idempotency-Key", "k-6")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				data, _ := io.ReadAll(res.Body)
				answers[i] = &response{status: res.StatusCode, header: res.Header, body: data}
			}()
		}
		wg.Wait()
		replayed := 0
		for _, r := range answers {
			if r == nil {
				continue
			}
			okAnswer(t, r)
			if !bytes.Equal(r.body, answers[0].body) {
				t.Errorf("answers differ: %s vs %s", r.body, answers[0].body)
			}
			if r.header.Get("Idempotent-Replayed") == "true" {
				replayed++
			}
		}
		if replayed != len(answers)-1 {
			t.Errorf("replayed answers: got %d, want %d", replayed, len(answers)-1)
		}
		if got, want := b.counts(t, "titanic"), (counts{batches: 1, rows: 2, quarantined: 1}); got != want {
			t.Errorf("database: got %+v, want %+v", got, want)
		}
	})
}

func TestRowsAtomic(t *testing.T) {
	t.Parallel()

	// bigCSV has n valid rows and one reject at the end.
	bigCSV := func(n int) string {
		var sb strings.Builder
		sb.WriteString(titanicHeader + "\n")
		for i := range n {
			fmt.Fprintf(&sb, "%d,%d,female,%d,S\n", i%2, 1+i%3, i%100)
		}
		sb.WriteString("1,1,female,boom,S\n")
		return sb.String()
	}

	t.Run("cancelled_while_storing", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		key := t.Name()
		hooks.Store(key, func() { cancel() })
		t.Cleanup(func() { hooks.Delete(key) })
		// The trigger cancels the request when row 1500 of 3000 is written.
		if _, err := b.raw.Exec(`CREATE TRIGGER cancel_midway AFTER INSERT ON ds_titanic WHEN NEW.row_no = 1500
			BEGIN SELECT mlserve_test_hook('` + key + `'); END`); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/datasets/titanic/rows", strings.NewReader(bigCSV(3000)))
		req.Header.Set("Content-Type", "text/csv")
		req.RemoteAddr, req.Host = "127.0.0.1:5000", "localhost"
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		if ctx.Err() == nil {
			t.Fatalf("the trigger did not fire: the test does not test anything: %d %s", rec.Code, rec.Body)
		}
		r := &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		errAnswer(t, r, 499, "cancelled")
		b.nothingWritten(t, "titanic")
	})

	t.Run("storage_fails_midway", func(t *testing.T) {
		t.Parallel()
		var logs testenv.Buffer
		_, b := setupWith(t, setupOpts{logs: &logs})
		// The last reject's quarantine insert fails: by then the batch and
		// every row are written in the transaction. An error the store
		// does not call unavailability is ours: 500, logged with the
		// request id, never 503 "retry".
		if _, err := b.raw.Exec(`CREATE TRIGGER fail_midway BEFORE INSERT ON quarantine WHEN NEW.raw LIKE '%boom%'
			BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
			t.Fatal(err)
		}
		r := b.post(t, "titanic", "text/csv", bigCSV(3000), "Idempotency-Key", "atomic-1")
		e := errAnswer(t, r, http.StatusInternalServerError, "internal")
		if strings.Contains(e.Message, "disk on fire") {
			t.Errorf("message %q leaks the internal error", e.Message)
		}
		id := r.header.Get("X-Request-Id")
		if id == "" || !strings.Contains(e.Message, id) {
			t.Errorf("message %q does not name the request id %q", e.Message, id)
		}
		if got := r.header.Get("Retry-After"); got != "" {
			t.Errorf("Retry-After: got %q, want none", got)
		}
		logged := false
		for line := range strings.SplitSeq(logs.String(), "\n") {
			logged = logged || strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, `"request_id":"`+id+`"`) && strings.Contains(line, "disk on fire")
		}
		if !logged {
			t.Errorf("no ERROR line with request_id %s and the error:\n%s", id, logs.String())
		}
		b.nothingWritten(t, "titanic")

		// The retry with the same key works once storage does.
		if _, err := b.raw.Exec(`DROP TRIGGER fail_midway`); err != nil {
			t.Fatal(err)
		}
		a := okAnswer(t, b.post(t, "titanic", "text/csv", bigCSV(3000), "Idempotency-Key", "atomic-1"))
		if a.Accepted != 3000 || a.Rejected != 1 {
			t.Errorf("retry: got %d/%d, want 3000/1", a.Accepted, a.Rejected)
		}
		if got, want := b.counts(t, "titanic"), (counts{batches: 1, rows: 3000, quarantined: 1}); got != want {
			t.Errorf("database: got %+v, want %+v", got, want)
		}
	})

	t.Run("store_closed", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.db.Close()
		r := b.post(t, "titanic", "text/csv", bigCSV(10))
		// A closed store is our bug, not the database being unreachable.
		errAnswer(t, r, http.StatusInternalServerError, "internal")
		if got := b.counts(t, "titanic"); got != (counts{}) {
			t.Errorf("database: got %+v, want nothing written", got)
		}
	})
}

func TestRowsAdmin(t *testing.T) {
	t.Parallel()
	body := titanicHeader + "\n1,1,female,22,S\n"
	do := func(t *testing.T, b *testBundle, method, path, remote, auth string) *response {
		t.Helper()
		var rd io.Reader
		if method == http.MethodPost {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, path, rd)
		req.Header.Set("Content-Type", "text/csv")
		req.RemoteAddr, req.Host = remote, "localhost:1235"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		return &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}
	const rows = "/v1/datasets/titanic/rows"

	t.Run("token", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{token: "s3cret"})
		for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong", "Basic czNjcmV0", "Bearer s3cret2", "s3cret"} {
			for _, remote := range []string{"127.0.0.1:1234", "203.0.113.7:1234"} {
				r := do(t, b, http.MethodPost, rows, remote, auth)
				e := errAnswer(t, r, http.StatusUnauthorized, "unauthorized")
				if strings.Contains(e.Message, "s3cret") {
					t.Errorf("message %q leaks the token", e.Message)
				}
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate: got %q", got)
				}
			}
		}
		b.nothingWritten(t, "titanic")
		for _, remote := range []string{"127.0.0.1:1234", "203.0.113.7:1234"} {
			for _, auth := range []string{"Bearer s3cret", "bearer s3cret", "  BEARER  s3cret "} {
				okAnswer(t, do(t, b, http.MethodPost, rows, remote, auth))
			}
		}
		// Reading is not an admin route.
		if r := do(t, b, http.MethodGet, "/v1/datasets/titanic", "203.0.113.7:1234", ""); r.status != http.StatusOK {
			t.Errorf("GET dataset without token: status %d", r.status)
		}
	})

	t.Run("no_token", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		for _, remote := range []string{"203.0.113.7:1234", "10.0.0.1:80", "[2001:db8::1]:443", "garbage", ""} {
			errAnswer(t, do(t, b, http.MethodPost, rows, remote, "Bearer anything"), http.StatusForbidden, "forbidden")
		}
		b.nothingWritten(t, "titanic")
		for _, remote := range []string{"127.0.0.1:1234", "[::1]:1234"} {
			okAnswer(t, do(t, b, http.MethodPost, rows, remote, ""))
		}
	})
}

// TestRowsGarbage throws random bodies and headers at the rows route: the
// answer is always JSON and never a 5xx.
func TestRowsGarbage(t *testing.T) {
	t.Parallel()
	_, b := setupWith(t, setupOpts{maxBody: 4096})
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{
		"{", "}", "[", "]", ",", ":", `"`, `\`, "\n", "\r\n", "null", "true", "1e999", "-0", "NaN",
		`"survived"`, `"class"`, `"sex"`, `"age"`, `"embarked"`, "female", "F", "0", "1", "3", "22.5",
		titanicHeader, "\x00", "\xff\xfe", "\ufeff", "é", " ", "\t", `""`, `"a""b"`, "NA", ",,,,",
	}
	ctypes := []string{"application/json", "application/x-ndjson", "text/csv", "", "application/json; charset=latin1"}
	for i := range 300 {
		var sb strings.Builder
		for range rng.IntN(40) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		body := sb.String()
		ct := ctypes[i%len(ctypes)]
		hdr := []string{}
		if rng.IntN(4) == 0 {
			hdr = append(hdr, "Idempotency-Key", fmt.Sprintf("g-%d", rng.IntN(5)))
		}
		r := b.post(t, "titanic", ct, body, hdr...)
		if r.status >= 500 {
			t.Errorf("body %q (%s): status %d, body %s", body, ct, r.status, r.body)
		}
		if !json.Valid(r.body) {
			t.Errorf("body %q (%s): answer is not JSON: %s", body, ct, r.body)
		}
	}
}
