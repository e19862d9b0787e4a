package train_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/datacheck"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// withoutEmbarked returns a copy of rows with embarked missing in every row.
func withoutEmbarked(b *bundle, rows []schema.Row) []schema.Row {
	i := b.schema.Index("embarked")
	out := make([]schema.Row, len(rows))
	for k, r := range rows {
		r = append(schema.Row(nil), r...)
		r[i] = schema.Value{Missing: true}
		out[k] = r
	}
	return out
}

// checkOf decodes a run's checks and returns the one of column and check.
func checkOf(t *testing.T, run *store.Run, column, check string) datacheck.Result {
	t.Helper()
	var rs []datacheck.Result
	if err := json.Unmarshal([]byte(run.Checks), &rs); err != nil {
		t.Fatalf("run checks %q: %v", run.Checks, err)
	}
	for _, r := range rs {
		if r.Column == column && r.Check == check {
			return r
		}
	}
	t.Fatalf("run checks hold no %s of %s: %s", check, column, run.Checks)
	return datacheck.Result{}
}

func TestRunnerDataChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("BlockFailsTheRunWithoutVersion", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rows := readCSV(t, b.schema, "seed_titanic.csv")
		b.insert(t, rows)
		if first := b.run(t, store.ReasonNewRows); first.Version != 1 {
			t.Fatalf("first run = %+v, want v1", first)
		}
		b.insert(t, withoutEmbarked(b, rows))
		fin := b.run(t, store.ReasonNewRows)
		if fin.State != store.RunFailed || !strings.HasPrefix(fin.Error, train.FailDataCheck+": ") ||
			!strings.Contains(fin.Error, "embarked missing_rate: expected at most 0.2") || fin.Version != 0 {
			t.Fatalf("run = state %s, version %d, error %q; want failed with data_check naming embarked missing_rate, no version", fin.State, fin.Version, fin.Error)
		}
		if r := checkOf(t, fin, "embarked", datacheck.CheckMissingRate); r.Passed || r.Severity != config.SeverityBlock || !strings.HasPrefix(r.Seen, "0.50") {
			t.Errorf("embarked missing_rate = %+v, want failed block, seen about 0.5 (half the rows lack embarked)", r)
		}
		if r := checkOf(t, fin, "age", datacheck.CheckPSI); !r.Passed {
			t.Errorf("age psi on the same ages = %+v, want passed", r)
		}
		if vs, err := b.store.VersionList(ctx, "titanic"); err != nil || len(vs) != 1 {
			t.Fatalf("versions after a blocked run: %d (%v), want 1", len(vs), err)
		}
		got, err := b.store.RunGet(ctx, fin.ID)
		if err != nil || got.Checks != fin.Checks {
			t.Fatalf("RunGet checks = %q, %v; want the run's report", got.Checks, err)
		}
	})

	t.Run("WarnRecordsAndTrains", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.pipeline.Checks.MissingRate = config.Check{Severity: config.SeverityWarn}
		rows := readCSV(t, b.schema, "seed_titanic.csv")
		b.insert(t, rows)
		b.run(t, store.ReasonNewRows)
		b.insert(t, withoutEmbarked(b, rows))
		fin := b.run(t, store.ReasonNewRows)
		if fin.State != store.RunSucceeded || fin.Version != 2 || !strings.Contains(fin.Message, "data check warnings: embarked missing_rate") {
			t.Fatalf("run = state %s, version %d, message %q; want v2 with the warning", fin.State, fin.Version, fin.Message)
		}
		if r := checkOf(t, fin, "embarked", datacheck.CheckMissingRate); r.Passed || r.Severity != config.SeverityWarn {
			t.Errorf("embarked missing_rate = %+v, want failed warn", r)
		}
		v, err := b.store.VersionGet(ctx, "titanic", 2)
		if err != nil || v.Checks != fin.Checks {
			t.Fatalf("v2's checks = %q (%v), want the run's: %q", v.Checks, err, fin.Checks)
		}
	})
}
