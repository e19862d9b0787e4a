package artifact_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/sampledata"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/train"
)

// fitted is a real artifact made by train.Fit, with the rows it came from.
type fitted struct {
	res  *train.FitResult
	rows []schema.Row
}

// fitCSV infers a schema from a shared dataset and fits algorithm on it.
func fitCSV(t *testing.T, file, target, algorithm string, params ml.Params) *fitted {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(sampledata.Bytes(file))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return fitRecords(t, file, recs, target, algorithm, params)
}

// fitRecords is fitCSV on CSV records (header first) named file.
func fitRecords(t *testing.T, file string, recs [][]string, target, algorithm string, params ml.Params) *fitted {
	t.Helper()
	s, _, err := schema.Infer(recs[0], slices.Values(recs[1:]), schema.InferOptions{Target: target})
	if err != nil {
		t.Fatalf("infer %s: %v", file, err)
	}
	c, err := schema.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Header(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]schema.Row, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		row, fe := h.Row(rec, nil)
		if fe != nil {
			t.Fatalf("%s row %d: %v", file, i, fe)
		}
		rows = append(rows, row)
	}
	res, err := train.Fit(context.Background(), &train.FitParams{
		Pipeline: "p", Schema: c, Rows: rows, Algorithm: algorithm, Params: params, Seed: 7, Holdout: 0.2,
		Lineage: artifact.Lineage{ConfigSHA256: strings.Repeat("c", 64), DataWatermark: 12, DataRows: int64(len(rows)), DataSHA256: strings.Repeat("d", 64)},
	})
	if err != nil {
		t.Fatalf("fit %s on %s: %v", algorithm, file, err)
	}
	return &fitted{res: res, rows: rows}
}

// TestRoundTrip encodes, decodes and loads artifacts of every algorithm: the
// bytes are canonical (a decoded artifact encodes to the same bytes and
// hash) and the loaded model predicts exactly as the fitted one.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, target, algorithm string
		params                  ml.Params
	}{
		{"seed_titanic.csv", "survived", "logistic", nil},
		{"iris.csv", "species", "logistic", nil},
		{"seed_titanic.csv", "survived", "gbdt", ml.Params{"n_trees": 20}},
		{"tips.csv", "tip", "linear", nil},
		{"tips.csv", "tip", "gbdt", ml.Params{"n_trees": 20}},
	} {
		t.Run(tc.algorithm+"_"+strings.TrimSuffix(tc.file, ".csv"), func(t *testing.T) {
			t.Parallel()
			f := fitCSV(t, tc.file, tc.target, tc.algorithm, tc.params)
			data, sha, err := artifact.Encode(f.res.Artifact)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, f.res.Bytes) || sha != f.res.SHA256 {
				t.Fatalf("Encode of the fitted artifact differs from Fit's bytes (sha %s, Fit's %s)", sha, f.res.SHA256)
			}
			if len(sha) != 64 || sha != artifact.Hash(data) {
				t.Fatalf("sha %q: want the 64-hex sha256 of the bytes", sha)
			}
			key := artifact.Key("p", sha)
			if key != "artifacts/p/"+sha+".json" || blob.CheckKey(key) != nil {
				t.Errorf("Key = %q (CheckKey: %v)", key, blob.CheckKey(key))
			}

			a, err := artifact.Decode(data, sha)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if a.Format != artifact.Format || a.Algorithm != tc.algorithm || a.Pipeline != "p" {
				t.Errorf("decoded format %q algorithm %q pipeline %q", a.Format, a.Algorithm, a.Pipeline)
			}
			if a.Lineage != f.res.Artifact.Lineage || a.Lineage.DataWatermark != 12 || a.Lineage.Seed != 7 {
				t.Errorf("lineage: got %+v, want %+v", a.Lineage, f.res.Artifact.Lineage)
			}
			if len(a.Metrics) == 0 || !mapsClose(a.Metrics, f.res.Metrics) {
				t.Errorf("metrics: got %v, want %v", a.Metrics, f.res.Metrics)
			}
			again, sha2, err := artifact.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, data) || sha2 != sha {
				t.Errorf("re-encoding the decoded artifact changed it: sha %s, want %s", sha2, sha)
			}

			m, err := artifact.Load(data, sha)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if m.SHA256 != sha || m.Outputs() != f.res.Model.Outputs() || m.Task() != f.res.Model.Task() {
				t.Errorf("loaded model: sha %s outputs %d task %s; want %s %d %s", m.SHA256, m.Outputs(), m.Task(), sha, f.res.Model.Outputs(), f.res.Model.Task())
			}
			rows := f.rows[:min(len(f.rows), 200)]
			got, want := predictAll(m, rows), predictAll(f.res.Model, rows)
			if len(got) != len(rows)*m.Outputs() {
				t.Fatalf("PredictRows: %d values for %d rows", len(got), len(rows))
			}
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("prediction %d: loaded %v, fitted %v", i, got[i], want[i])
				}
			}
			// The one-row path agrees with the batch path.
			out := make([]float64, m.Outputs())
			m.PredictRow(rows[3], out)
			if !slices.Equal(out, got[3*m.Outputs():4*m.Outputs()]) {
				t.Errorf("PredictRow: %v, batch %v", out, got[3*m.Outputs():4*m.Outputs()])
			}
		})
	}
}

func mapsClose(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || math.Abs(v-w) > 1e-12 {
			return false
		}
	}
	return true
}

// TestCorruptionRefused checks that bytes that are not the recorded
// artifact are refused with ErrHashMismatch naming both hashes, and that
// bytes that do not decode are refused with a clear error when no hash is
// given.
func TestCorruptionRefused(t *testing.T) {
	t.Parallel()
	f := fitCSV(t, "seed_titanic.csv", "survived", "logistic", nil)
	other := fitCSV(t, "seed_titanic.csv", "survived", "logistic", ml.Params{"C": 0.1})
	good, sha := f.res.Bytes, f.res.SHA256
	if other.res.SHA256 == sha {
		t.Fatal("two fits with different params have the same artifact hash")
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"flipped_byte", flipped},
		{"truncated", good[:len(good)/3]},
		{"empty", nil},
		{"other_artifact", other.res.Bytes},
		{"trailing_newline_removed", good[:len(good)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for name, call := range map[string]func() (any, error){
				"Decode": func() (any, error) { return artifact.Decode(tc.data, sha) },
				"Load":   func() (any, error) { return artifact.Load(tc.data, sha) },
			} {
				got, err := call()
				if !errors.Is(err, artifact.ErrHashMismatch) {
					t.Fatalf("%s: err %v, want ErrHashMismatch", name, err)
				}
				if !strings.Contains(err.Error(), "want "+sha) || !strings.Contains(err.Error(), "got "+artifact.Hash(tc.data)) {
					t.Errorf("%s: %q should name the hash found and the one expected", name, err)
				}
				if !isNil(got) {
					t.Errorf("%s returned a value with its error", name)
				}
			}
		})
	}

	// Without an expected hash, the content itself is checked.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	edit := func(key string, v json.RawMessage) []byte {
		d := map[string]json.RawMessage{}
		for k, x := range doc {
			d[k] = x
		}
		if v == nil {
			delete(d, key)
		} else {
			d[key] = v
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		data []byte
		says string
	}{
		{"truncated", good[:len(good)/3], "decode artifact"},
		{"not_json", []byte("garbage"), "decode artifact"},
		{"other_format", edit("format", json.RawMessage(`"mlserve.artifact/v0"`)), `format "mlserve.artifact/v0", this mlserve reads "mlserve.artifact/v1"`},
		{"no_format", edit("format", nil), `format ""`},
		{"no_encoder", edit("encoder", nil), "encoder or model missing"},
		{"no_model", edit("model", nil), "encoder or model missing"},
	} {
		t.Run("content_"+tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := artifact.Decode(tc.data, "")
			if err == nil || a != nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Decode: %v, %v; want an error saying %q", a, err, tc.says)
			}
			if errors.Is(err, artifact.ErrHashMismatch) {
				t.Errorf("Decode without a hash: %v is a hash mismatch", err)
			}
		})
	}

	// Decodes, but cannot be served.
	for _, tc := range []struct {
		name string
		data []byte
		says string
	}{
		{"unknown_algorithm", edit("algorithm", json.RawMessage(`"forest"`)), `load artifact: unknown algorithm "forest"`},
		{"model_of_another_algorithm", edit("algorithm", json.RawMessage(`"gbdt"`)), "load artifact: decode gbdt model"},
	} {
		t.Run("load_"+tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := artifact.Load(tc.data, artifact.Hash(tc.data))
			if err == nil || m != nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Load: %v, %v; want an error saying %q", m, err, tc.says)
			}
		})
	}
}

func isNil(v any) bool {
	switch x := v.(type) {
	case *artifact.Artifact:
		return x == nil
	case *artifact.Model:
		return x == nil
	}
	return v == nil
}

// TestPredict checks the raw-value path a request takes: coercion by the
// schema, field errors naming each bad field, and the output's form.
func TestPredict(t *testing.T) {
	t.Parallel()
	f := fitCSV(t, "seed_titanic.csv", "survived", "logistic", nil)
	m, err := artifact.Load(f.res.Bytes, f.res.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(kv ...string) map[string]schema.Raw {
		out := map[string]schema.Raw{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = schema.Raw{Text: kv[i+1]}
		}
		return out
	}
	p, fe := m.Predict(raw("class", "1", "sex", "female", "age", "22", "embarked", "S"))
	if fe != nil {
		t.Fatalf("Predict: %v", fe)
	}
	if len(p.Probabilities) != 2 || p.Value != nil || (p.Label != "0" && p.Label != "1") {
		t.Fatalf("Predict: %+v, want a label and two probabilities", p)
	}
	if sum := p.Probabilities["0"] + p.Probabilities["1"]; math.Abs(sum-1) > 1e-9 {
		t.Errorf("probabilities sum to %v", sum)
	}
	if p.Probabilities["1"] < 0.5 {
		t.Errorf("a first-class woman of 22: P(survived) = %v, want over 0.5", p.Probabilities["1"])
	}

	_, fe = m.Predict(raw("class", "first", "sex", "female", "cabin", "C85", "survived", "1"))
	for _, k := range []string{"class", "cabin", "survived"} {
		if fe[k] == "" {
			t.Errorf("field errors %v: want one for %s", fe, k)
		}
	}
	if !strings.Contains(fe["survived"], "target") || !strings.Contains(fe["cabin"], "not a feature") {
		t.Errorf("field errors %v: want the target and the unknown field explained", fe)
	}
	if fe["sex"] != "" {
		t.Errorf("field errors %v: sex was fine", fe)
	}
}
