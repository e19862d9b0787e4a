// Package artifact defines the model artifact: one versioned, self-contained
// document holding the schema, the fitted feature encoder, the model, its
// metrics, training statistics and lineage. Its canonical bytes are
// deterministic (same data + config + seed ⇒ same bytes), and it is addressed
// by their sha256.
package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/features"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
)

// Format names the artifact format version. Decoders refuse other formats.
const Format = "mlserve.artifact/v1"

// Artifact is a trained model with everything needed to serve and audit it.
type Artifact struct {
	Format    string            `json:"format"`
	Pipeline  string            `json:"pipeline"`
	Schema    schema.Schema     `json:"schema"`
	Encoder   *features.Encoder `json:"encoder"`
	Algorithm string            `json:"algorithm"`
	// Params are the algorithm's params as resolved (defaults filled).
	Params ml.Params `json:"params"`
	// Model is the algorithm's own encoding of the fitted model.
	Model json.RawMessage `json:"model"`
	// Metrics are measured on the holdout.
	Metrics map[string]float64 `json:"metrics"`
	// Stats are per-column statistics of the training rows.
	Stats   json.RawMessage `json:"training_stats,omitempty"`
	Lineage Lineage         `json:"lineage"`
	// Importance is each input column's mean |contribution| to the raw
	// score over the holdout (up to ImportanceRows rows; summed over the
	// classes of a multiclass model): the explanations' global importance.
	// Absent when the model cannot explain.
	Importance map[string]float64 `json:"explanation_importance,omitempty"`
}

// Lineage says where an artifact came from.
type Lineage struct {
	// ConfigSHA256 hashes the pipeline's configuration (schema and model).
	ConfigSHA256  string `json:"config_sha256"`
	DataWatermark int64  `json:"data_watermark"`
	DataRows      int64  `json:"data_rows"`
	DataSHA256    string `json:"data_sha256"`
	Seed          int64  `json:"seed"`
	Holdout       string `json:"holdout"` // e.g. "random 0.2"
	TrainRows     int    `json:"train_rows"`
	HoldoutRows   int    `json:"holdout_rows"`
	Mlserve       string `json:"mlserve_version"`
}

// Encode returns the artifact's canonical bytes and their sha256 (hex).
func Encode(a *Artifact) ([]byte, string, error) {
	if a.Format == "" {
		a.Format = Format
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return nil, "", fmt.Errorf("encode artifact: %w", err)
	}
	data := buf.Bytes()
	return data, Hash(data), nil
}

// Hash returns the hex sha256 of data.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Key is the object-store key of an artifact with the given hash.
func Key(pipeline, sha string) string { return "artifacts/" + pipeline + "/" + sha + ".json" }

// ErrHashMismatch is returned when an artifact's bytes do not hash to the
// expected value.
var ErrHashMismatch = errors.New("artifact hash mismatch")

// Decode verifies data against wantSHA (unless empty) and decodes it.
func Decode(data []byte, wantSHA string) (*Artifact, error) {
	if wantSHA != "" {
		if got := Hash(data); got != wantSHA {
			return nil, fmt.Errorf("%w: got %s, want %s", ErrHashMismatch, got, wantSHA)
		}
	}
	var a Artifact
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("decode artifact: %w", err)
	}
	if a.Format != Format {
		return nil, fmt.Errorf("decode artifact: format %q, this mlserve reads %q", a.Format, Format)
	}
	if a.Encoder == nil || len(a.Model) == 0 {
		return nil, errors.New("decode artifact: encoder or model missing")
	}
	return &a, nil
}
