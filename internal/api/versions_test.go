package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
)

// versionDetail is the answer of GET /v1/models/{name}/versions/{v}.
type versionDetail struct {
	Version        int            `json:"version"`
	Algorithm      string         `json:"algorithm"`
	ArtifactSHA256 string         `json:"artifact_sha256"`
	Params         map[string]any `json:"params"`
	TrainingStats  []any          `json:"training_stats"`
	Lineage        struct {
		TrainRows int   `json:"train_rows"`
		Seed      int64 `json:"seed"`
	} `json:"lineage"`
	FeatureImportance map[string]float64 `json:"feature_importance"`
	Coefficients      []struct {
		Class     string             `json:"class"`
		Intercept float64            `json:"intercept"`
		Weights   map[string]float64 `json:"weights"`
	} `json:"coefficients"`
}

func TestVersionDetail(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	r := b.get(t, "/v1/models/titanic/versions/2")
	if r.status != http.StatusOK {
		t.Fatalf("GET version 2: %d %s", r.status, r.body)
	}
	var d versionDetail
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	fr := b.fit.fits[1]
	if d.Version != 2 || d.Algorithm != "logistic" || d.ArtifactSHA256 != fr.SHA256 || len(d.Params) == 0 ||
		len(d.TrainingStats) == 0 || d.Lineage.Seed != 7 || d.Lineage.TrainRows == 0 || d.FeatureImportance != nil {
		t.Errorf("version 2: %s", r.body)
	}
	if len(d.Coefficients) != 1 || d.Coefficients[0].Class != "1" || d.Coefficients[0].Weights["age"] == 0 ||
		d.Coefficients[0].Weights["sex=female"] <= 0 {
		t.Errorf("coefficients %+v: want one block for class 1, age weighted, being female raising survival", d.Coefficients)
	}

	errAnswer(t, b.get(t, "/v1/models/titanic/versions/9"), http.StatusNotFound, "not_found")
	errAnswer(t, b.get(t, "/v1/models/titanic/versions/x"), http.StatusBadRequest, "bad_request")
	errAnswer(t, b.get(t, "/v1/models/nope/versions/1"), http.StatusNotFound, "model_not_found")
}

// TestArtifactExport checks that the export route answers the artifact's
// canonical bytes: their sha256 is the version's artifact hash.
func TestArtifactExport(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	for v, fr := range b.fit.fits[:2] {
		r := b.get(t, "/v1/models/titanic/versions/"+string(rune('1'+v))+"/artifact")
		if r.status != http.StatusOK {
			t.Fatalf("GET artifact of v%d: %d %s", v+1, r.status, r.body)
		}
		sum := sha256.Sum256(r.body)
		if got := hex.EncodeToString(sum[:]); got != fr.SHA256 {
			t.Errorf("v%d: exported bytes hash to %s, want the artifact hash %s", v+1, got, fr.SHA256)
		}
		if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="titanic-v`+string(rune('1'+v))+`.json"` {
			t.Errorf("v%d: Content-Disposition %q", v+1, cd)
		}
	}
	errAnswer(t, b.get(t, "/v1/models/titanic/versions/9/artifact"), http.StatusNotFound, "not_found")

	// Bytes that no longer match the hash are refused, not sent.
	ver, err := b.db.VersionGet(context.Background(), "titanic", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.bucket.Put(context.Background(), ver.ArtifactKey, []byte(`{"format":"tampered"}`)); err != nil {
		t.Fatal(err)
	}
	errAnswer(t, b.get(t, "/v1/models/titanic/versions/2/artifact"), http.StatusConflict, "artifact_unusable")
}
