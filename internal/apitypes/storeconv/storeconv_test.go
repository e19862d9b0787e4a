package storeconv_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var (
	created  = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	started  = created.Add(2 * time.Second)
	finished = started.Add(1500 * time.Millisecond)
)

// storeValues are stored values with every field set (the "full" ones) or
// with the optional ones left out, as the store returns them.
func storeValues() map[string]any {
	return map[string]any{
		"version": &store.Version{
			Pipeline: "titanic", Version: 3, State: store.StateProduction, Algorithm: "gbdt",
			Metrics:        map[string]float64{"accuracy": 0.8125, "roc_auc": 0.875},
			ArtifactSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			ArtifactKey:    "artifacts/titanic/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.json",
			DataWatermark:  42, DataRows: 891,
			DataSHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
			RunID:      7, SpecVersion: 2, Reason: "gate: accuracy 0.8125 >= 0.8000", CreatedAt: created,
			Checks: `[{"column":"embarked","check":"missing_rate","severity":"warn","expected":"at most 0.2028","seen":"0.5011","passed":false}]`,
		},
		"run_succeeded": &store.Run{
			ID: 7, Pipeline: "titanic", State: store.RunSucceeded, Reason: store.ReasonNewRows,
			CreatedAt: created, StartedAt: &started, FinishedAt: &finished, Version: 3,
			ArtifactSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Error:          "attempt 1: object store unavailable", Attempt: 2,
			DataWatermark: 42, DataRows: 891, SpecVersion: 2, Message: "promoted", Existing: true,
			Checks: `[{"column":"embarked","check":"missing_rate","severity":"warn","expected":"at most 0.2028","seen":"0.5011","passed":false}]`,
		},
		"run_queued": &store.Run{
			ID: 8, Pipeline: "titanic", State: store.RunQueued, Reason: store.ReasonManual, CreatedAt: created,
		},
		"promotion": &store.Promotion{
			ID: 5, Pipeline: "titanic", FromVersion: 2, ToVersion: 3, Action: store.ActionAuto,
			Actor: "gate", Reason: "accuracy 0.8125 >= 0.8000", CreatedAt: created,
		},
		"ingest": &store.BatchResult{
			BatchID: 12, Accepted: 2, Rejected: 1, Replayed: true,
			Errors: []*store.Reject{{Row: 1, Line: 3, Raw: "x,y", Fields: schema.FieldErrors{"age": "must be a number", "sex": "must be one of F, M"}, BatchID: 12, CreatedAt: created}},
		},
		"ingest_clean": &store.BatchResult{BatchID: 13, Accepted: 3, Errors: []*store.Reject{}},
		"dataset": &store.DatasetInfo{
			Pipeline: "titanic", Rows: 891, Batches: 12, LastBatchID: 12, LastBatchAt: &created, Quarantined: 4,
		},
		"dataset_empty": &store.DatasetInfo{Pipeline: "sensors"},
		"check": checked{&store.BatchResult{Accepted: 2, Rejected: 1,
			Errors: []*store.Reject{{Row: 0, Line: 2, Raw: "1,2", Fields: schema.FieldErrors{"_row": "has 2 fields, want 3"}}}}},
		"check_clean": checked{&store.BatchResult{Accepted: 3}},
		"quarantine": quarantined{rows: []*store.Reject{
			{ID: 41, BatchID: 12, Row: 1, Line: 3, Raw: "1,1,X,22,S", Fields: schema.FieldErrors{"sex": "must be one of male, female"},
				CreatedAt: created, ReplayedBatchID: 15},
		}, next: 41},
		"quarantine_last": quarantined{rows: []*store.Reject{
			{ID: 2, BatchID: 1, Row: 0, Line: 2, Raw: "x", Fields: schema.FieldErrors{"_row": "has 1 field, want 5"}, CreatedAt: created},
		}},
	}
}

// quarantined is a page of the quarantine and its next cursor.
type quarantined struct {
	rows []*store.Reject
	next int64
}

// checked is a body checked by `mlserve schema check`, not stored.
type checked struct{ *store.BatchResult }

// full names the fixtures whose every answer field must be set: a field
// the converter forgot would show as a zero value.
var full = map[string]bool{"version": true, "run_succeeded": true, "promotion": true, "ingest": true, "dataset": true, "check": true, "quarantine": true}

// convert is the one converter of each stored value.
func convert(t *testing.T, v any) any {
	switch v := v.(type) {
	case *store.Version:
		return storeconv.Version(v)
	case *store.Run:
		return storeconv.Run(v)
	case *store.Promotion:
		return storeconv.Promotion(v)
	case *store.BatchResult:
		return storeconv.IngestAnswer(v)
	case *store.DatasetInfo:
		return storeconv.Dataset(v)
	case checked:
		return storeconv.CheckReport(v.BatchResult)
	case quarantined:
		return storeconv.QuarantinePage(v.rows, v.next)
	}
	t.Fatalf("no converter for %T", v)
	return nil
}

// TestGolden pins the JSON bytes of the answers (as httpx.WriteJSON writes
// them): a renamed, retyped, added or dropped field fails here. After an
// intended change, run `go test ./internal/apitypes/storeconv -update` and update
// docs/DESIGN.md and internal/openapi with it.
func TestGolden(t *testing.T) {
	for name, v := range storeValues() {
		t.Run(name, func(t *testing.T) {
			got, err := json.Marshal(convert(t, v))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("JSON of %s changed (%s):\n got %s\nwant %s", name, keyDiff(got, want), got, want)
			}
			if full[name] {
				var m map[string]any
				if err := json.Unmarshal(got, &m); err != nil {
					t.Fatal(err)
				}
				for k, x := range m {
					if x == nil || x == "" || x == 0.0 {
						t.Errorf("%s: field %q is %v: the converter lost it", name, k, x)
					}
				}
			}
		})
	}
}

// TestNoInternals checks that no answer carries the artifact's
// object-store key or the idempotent-replay flag, whatever the stored
// value holds (a quarantined row's replayed_batch_id is another thing).
func TestNoInternals(t *testing.T) {
	for name, v := range storeValues() {
		got, err := json.Marshal(convert(t, v))
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"artifact_key", "artifacts/", "ArtifactKey", "Replayed", `"replayed":true`, `"replayed":false`, "x,y", "Existing"} {
			if bytes.Contains(got, []byte(bad)) {
				t.Errorf("%s: answer %s contains %q", name, got, bad)
			}
		}
	}
}

// TestListsNeverNull checks that an empty list is [] in the list answers.
func TestListsNeverNull(t *testing.T) {
	for _, v := range []any{storeconv.VersionList(nil), storeconv.RunList(nil), storeconv.PromotionList(nil)} {
		got, _ := json.Marshal(v)
		if bytes.Contains(got, []byte("null")) {
			t.Errorf("%T of nothing is %s, want an empty list", v, got)
		}
	}
}

// TestStoreTypesHaveNoJSONTags keeps the store's types out of the wire:
// answers are built through this package.
func TestStoreTypesHaveNoJSONTags(t *testing.T) {
	for _, v := range []any{store.Version{}, store.Run{}, store.Promotion{}, store.BatchResult{}, store.Reject{}, store.DatasetInfo{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			if tag, ok := rt.Field(i).Tag.Lookup("json"); ok {
				t.Errorf("store.%s.%s has json tag %q: convert it with a type of package apitypes instead", rt.Name(), rt.Field(i).Name, tag)
			}
		}
	}
}

// keyDiff names the top-level keys whose presence or value differs.
func keyDiff(got, want []byte) string {
	var g, w map[string]json.RawMessage
	json.Unmarshal(got, &g)
	json.Unmarshal(want, &w)
	var out []string
	for k, v := range w {
		if gv, ok := g[k]; !ok {
			out = append(out, "missing "+k)
		} else if !bytes.Equal(gv, v) {
			out = append(out, "changed "+k)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			out = append(out, "new "+k)
		}
	}
	if len(out) == 0 {
		return "same keys and values: order or spacing"
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
