package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// quarantinePage is the answer of GET /v1/datasets/{name}/quarantine.
type quarantinePage struct {
	Rows []struct {
		ID              int64             `json:"id"`
		BatchID         int64             `json:"batch_id"`
		Row             int               `json:"row"`
		Line            int               `json:"line"`
		Raw             string            `json:"raw"`
		Reasons         map[string]string `json:"reasons"`
		ReplayedBatchID *int64            `json:"replayed_batch_id"`
		CreatedAt       string            `json:"created_at"`
	} `json:"rows"`
	NextCursor string `json:"next_cursor"`
}

func TestQuarantineRoute(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	// Two batches: lines 3 and 5 of the first file, line 2 of the second.
	okAnswer(t, b.post(t, "titanic", "text/csv", titanicHeader+"\n0,3,male,22,S\n1,2,female,200,S\n1,1,female,38,C\n0,1,X,30,C\n"))
	second := okAnswer(t, b.post(t, "titanic", "text/csv", titanicHeader+"\n0,4,male,22,S\n"))

	r := b.get(t, "/v1/datasets/titanic/quarantine?limit=2")
	if r.status != http.StatusOK {
		t.Fatalf("GET quarantine: %d %s", r.status, r.body)
	}
	p := decodeStrict[quarantinePage](t, r.body, "rows", "next_cursor")
	if len(p.Rows) != 2 || p.NextCursor == "" {
		t.Fatalf("first page: %s, want 2 rows and a next cursor", r.body)
	}
	if got := p.Rows[0]; got.BatchID != second.BatchID || got.Line != 2 || got.Raw != "0,4,male,22,S" ||
		got.Reasons["class"] != "must be one of 1, 2, 3" || got.ReplayedBatchID != nil {
		t.Errorf("newest quarantined row: %+v, want line 2 of batch %d with its raw text and reason", got, second.BatchID)
	}
	if got := p.Rows[1]; got.Line != 5 || got.Raw != "0,1,X,30,C" || got.Reasons["sex"] == "" {
		t.Errorf("second row: %+v, want line 5 (0,1,X,30,C)", got)
	}
	r = b.get(t, "/v1/datasets/titanic/quarantine?limit=2&cursor="+p.NextCursor)
	last := decodeStrict[quarantinePage](t, r.body, "rows", "next_cursor")
	if r.status != http.StatusOK || len(last.Rows) != 1 || last.Rows[0].Line != 3 || last.NextCursor != "" {
		t.Fatalf("last page: %d %s, want the line-3 row and no next cursor", r.status, r.body)
	}

	for _, q := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=abc", "limit"}, {"limit=1001", "limit"}, {"cursor=-1", "cursor"}, {"cursor=x", "cursor"},
	} {
		r := b.get(t, "/v1/datasets/titanic/quarantine?"+q.query)
		e := errAnswer(t, r, http.StatusBadRequest, "bad_request")
		if e.Fields[q.field] == "" {
			t.Errorf("?%s: fields %v, want a rule for %s", q.query, e.Fields, q.field)
		}
	}
	errAnswer(t, b.get(t, "/v1/datasets/nope/quarantine"), http.StatusNotFound, "not_found")
}

func TestQuarantineNeedsAdminToken(t *testing.T) {
	t.Parallel()
	_, b := setupWith(t, setupOpts{token: "s3cret"})
	errAnswer(t, b.get(t, "/v1/datasets/titanic/quarantine"), http.StatusUnauthorized, "unauthorized")
	req, err := http.NewRequest(http.MethodGet, b.url+"/v1/datasets/titanic/quarantine", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer s3cret")
	if r := send(t, req); r.status != http.StatusOK {
		t.Fatalf("with the token: %d %s", r.status, r.body)
	}
	req, err = http.NewRequest(http.MethodPost, b.url+"/v1/datasets/titanic/quarantine/replay", nil)
	if err != nil {
		t.Fatal(err)
	}
	errAnswer(t, send(t, req), http.StatusUnauthorized, "unauthorized")
}

// TestReplayOnce quarantines rows, widens the schema, and replays: the
// rows that now pass move into one new batch, once.
func TestReplayOnce(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	ctx := context.Background()
	okAnswer(t, b.post(t, "titanic", "text/csv", titanicHeader+"\n0,3,male,22,S\n1,2,female,200,S\n0,1,X,30,C\n"))
	okAnswer(t, b.post(t, "titanic", "application/x-ndjson", `{"survived": 1, "class": 1, "sex": "female", "age": 150}`+"\n"))

	// The route, under the unchanged schema, moves nothing.
	req, err := http.NewRequest(http.MethodPost, b.url+"/v1/datasets/titanic/quarantine/replay", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, req)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"replayed":0`) || !strings.Contains(string(r.body), `"still_rejected":3`) {
		t.Fatalf("replay under the same schema: %d %s, want 0 replayed, 3 still rejected", r.status, r.body)
	}

	// The pipeline's schema now allows ages up to 300.
	f, err := config.Example("titanic")
	if err != nil {
		t.Fatal(err)
	}
	wide := f.Pipelines[0].Schema
	wide.Columns = slices.Clone(wide.Columns)
	for i := range wide.Columns {
		if wide.Columns[i].Name == "age" {
			wide.Columns[i].Max = config.Ptr(300.0)
		}
	}
	if err := b.db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: "titanic", Schema: wide}); err != nil {
		t.Fatal(err)
	}
	wc, err := schema.Compile(wide)
	if err != nil {
		t.Fatal(err)
	}
	svc := ingest.New(ingest.Config{Store: b.db, Pipelines: map[string]*schema.Compiled{"titanic": wc}, Order: []string{"titanic"}})

	res, err := svc.Replay(ctx, "titanic")
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if res.Replayed != 2 || res.StillRejected != 1 || res.BatchID == 0 {
		t.Fatalf("Replay = %+v, want 2 rows moved into a batch, 1 still rejected", res)
	}
	want := []string{"0,3,male,22,S", "1,2,female,200,S", "1,1,female,150,<nil>"}
	if got := format(wc, b.snapshot(t, "titanic")); !slices.Equal(got, want) {
		t.Errorf("stored rows after replay: %q, want %q", got, want)
	}

	again, err := svc.Replay(ctx, "titanic")
	if err != nil || again.Replayed != 0 || again.StillRejected != 1 || again.BatchID != 0 {
		t.Fatalf("second Replay = %+v, %v; want nothing moved", again, err)
	}
	if got := format(wc, b.snapshot(t, "titanic")); !slices.Equal(got, want) {
		t.Errorf("stored rows after a second replay: %q, want %q", got, want)
	}

	// The quarantine keeps all three, the moved ones marked with the batch.
	r = b.get(t, "/v1/datasets/titanic/quarantine")
	p := decodeStrict[quarantinePage](t, r.body, "rows", "next_cursor")
	var marks []string
	for _, q := range p.Rows {
		m := "-"
		if q.ReplayedBatchID != nil {
			m = fmt.Sprint(*q.ReplayedBatchID == res.BatchID)
		}
		marks = append(marks, fmt.Sprintf("line %d: %s", q.Line, m))
	}
	if w := []string{"line 1: true", "line 4: -", "line 3: true"}; !slices.Equal(marks, w) {
		t.Errorf("quarantine marks %q, want %q", marks, w)
	}
}

// TestLinesOfLongJSON checks the line of a reject deep in a JSON array,
// past the line counter's compaction, and of a single object.
func TestLinesOfLongJSON(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	var body strings.Builder
	body.WriteString("[\n")
	for range 2999 {
		body.WriteString(`{"survived": 0, "class": 3, "sex": "male", "age": 22},` + "\n")
	}
	body.WriteString(`{"survived": 0, "class": 3, "sex": "male", "age": 500}` + "\n]\n")
	a := okAnswer(t, b.post(t, "titanic", "application/json", body.String()))
	if a.Rejected != 1 || a.Errors[0].Row != 2999 || a.Errors[0].Line != 3001 {
		t.Fatalf("errors %+v, want data row 2999 on line 3001", a.Errors)
	}
	a = okAnswer(t, b.post(t, "titanic", "application/json", "\n\n  {\"survived\": 0, \"class\": 9, \"sex\": \"male\"}"))
	if a.Rejected != 1 || a.Errors[0].Line != 3 {
		t.Fatalf("single object: errors %+v, want line 3", a.Errors)
	}
}
