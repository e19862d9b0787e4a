package e2e

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The JSON shapes of docs/DESIGN.md §3 and §4, as a client reads them.

type version struct {
	Pipeline       string             `json:"pipeline"`
	Version        int                `json:"version"`
	State          string             `json:"state"`
	Metrics        map[string]float64 `json:"metrics"`
	ArtifactSHA256 string             `json:"artifact_sha256"`
	DataWatermark  int64              `json:"data_watermark"`
	DataRows       int64              `json:"data_rows"`
	DataSHA256     string             `json:"data_sha256"`
	CreatedAt      time.Time          `json:"created_at"`
}

type versionList struct {
	Versions []version `json:"versions"`
}

type run struct {
	ID             int64      `json:"id"`
	Pipeline       string     `json:"pipeline"`
	State          string     `json:"state"`
	Reason         string     `json:"reason"`
	StartedAt      *time.Time `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at"`
	Version        int        `json:"version"`
	ArtifactSHA256 string     `json:"artifact_sha256"`
	Error          string     `json:"error"`
	Message        string     `json:"message"`
	SameAs         int        `json:"same_as"`
}

type runList struct {
	Runs []run `json:"runs"`
}

type modelInfo struct {
	Name              string   `json:"name"`
	Task              string   `json:"task"`
	ProductionVersion *int     `json:"production_version"`
	Production        *version `json:"production"`
}

type ingestAnswer struct {
	BatchID  int64 `json:"batch_id"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	Errors   []struct {
		Row    int               `json:"row"`
		Fields map[string]string `json:"fields"`
	} `json:"errors"`
}

type datasetInfo struct {
	Name        string `json:"name"`
	Rows        int64  `json:"rows"`
	Batches     int64  `json:"batches"`
	Quarantined int64  `json:"quarantined"`
}

// prototype is the envelope of the prototype's GET / route.
type prototype struct {
	Data struct {
		Result float64 `json:"result"`
	} `json:"data"`
	Message struct {
		StatusCode    int            `json:"status_code"`
		StatusMessage any            `json:"status_message"`
		Args          map[string]any `json:"args"`
	} `json:"message"`
}

type prediction struct {
	Label         string             `json:"label"`
	Probabilities map[string]float64 `json:"probabilities"`
	Value         *float64           `json:"value"`
}

type predictAnswer struct {
	Model       string       `json:"model"`
	Version     int          `json:"version"`
	Predictions []prediction `json:"predictions"`
}

// versionFields are the keys DESIGN.md §3 requires of a version in JSON.
var versionFields = []string{"pipeline", "version", "state", "metrics", "artifact_sha256", "data_watermark", "data_rows", "data_sha256", "created_at"}

// runFields are the keys DESIGN.md §3 requires of a run in JSON ("version"
// only when one was made).
var runFields = []string{"id", "pipeline", "state", "reason", "started_at", "finished_at", "artifact_sha256", "error"}

func hasKeys(t testing.TB, what string, m map[string]any, keys []string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no %q field: %v", what, k, m)
		}
	}
}

// readCSV reads a CSV file into its header and records.
func readCSV(t testing.TB, name string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return recs[0], recs[1:]
}

// validTitanicRows counts the rows of seed_titanic.csv that the titanic
// example schema (docs/DESIGN.md §2) accepts, checked here independently of
// mlserve.
func validTitanicRows(t testing.TB) (valid, total int) {
	t.Helper()
	header, recs := readCSV(t, "seed_titanic.csv")
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, c := range []string{"survived", "class", "sex", "age", "embarked"} {
		if _, ok := col[c]; !ok {
			t.Fatalf("seed_titanic.csv has no column %q: %v", c, header)
		}
	}
	in := func(v string, allowed ...string) bool { return slices.Contains(allowed, v) }
	for _, r := range recs {
		ok := in(r[col["survived"]], "0", "1") &&
			in(r[col["class"]], "1", "2", "3") &&
			in(r[col["sex"]], "male", "female", "M", "F") &&
			in(r[col["embarked"]], "", "C", "S", "Q")
		if a := r[col["age"]]; a != "" {
			x, err := strconv.ParseFloat(a, 64)
			ok = ok && err == nil && !math.IsNaN(x) && x >= 0 && x <= 120
		}
		if ok {
			valid++
		}
	}
	return valid, len(recs)
}

// sum adds a prediction's probabilities.
func sum(p map[string]float64) float64 {
	var s float64
	for _, v := range p {
		s += v
	}
	return s
}
