package spec_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/spec"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
)

// file builds a one-pipeline file; model and extra are YAML lines under
// the pipeline (indented 4 spaces).
func file(t *testing.T, body string) *config.File {
	t.Helper()
	src := `pipelines:
  - name: titanic
    schema:
      target: survived
      columns:
        - {name: survived, type: category, values: [0, 1]}
        - {name: age, type: number, nullable: true}
` + body
	f, err := config.Parse("mlserve.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return f
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), &sqlite.Config{Path: filepath.Join(t.TempDir(), "mlserve.db")})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

func TestDiff(t *testing.T) {
	t.Parallel()
	base := file(t, "    model: {algorithm: logistic}\n")
	cases := []struct {
		name string
		body string
		want []string
	}{
		{"same", "    model: {algorithm: logistic}\n", nil},
		{"defaults written out", "    model: {algorithm: logistic, holdout: 0.2, seed: 42, params: {}}\n    train: {debounce: 30s, min_rows: 50, on_new_rows: 100}\n", nil},
		{"algorithm", "    model: {algorithm: gbdt}\n", []string{"model.algorithm: logistic → gbdt"}},
		{"param added", "    model: {algorithm: logistic, params: {l2: 0.5}}\n", []string{"model.params.l2: (none) → 0.5"}},
		{"two fields", "    model: {algorithm: logistic, seed: 7}\n    train: {min_rows: 80}\n",
			[]string{"model.seed: 42 → 7", "train.min_rows: 50 → 80"}},
		{"column added", "        - {name: fare, type: number}\n    model: {algorithm: logistic}\n",
			[]string{"schema.columns.fare.type: (none) → number"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := tc.body
			var next *config.File
			if strings.HasPrefix(body, "        - ") {
				// A column: it goes into the columns list.
				line, rest, _ := strings.Cut(body, "\n")
				next = fileWithColumn(t, line, rest)
			} else {
				next = file(t, body)
			}
			changes, err := spec.Diff(&base.Pipelines[0], &next.Pipelines[0])
			if err != nil {
				t.Fatalf("Diff: %v", err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, c.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("Diff = %q, want %q", got, tc.want)
			}
		})
	}
}

func fileWithColumn(t *testing.T, column, rest string) *config.File {
	t.Helper()
	src := `pipelines:
  - name: titanic
    schema:
      target: survived
      columns:
        - {name: survived, type: category, values: [0, 1]}
        - {name: age, type: number, nullable: true}
` + column + "\n" + rest
	f, err := config.Parse("mlserve.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func TestApply(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := openStore(t)
	apply := func(f *config.File, dry bool) (*spec.Result, error) {
		t.Helper()
		res, err := spec.Apply(ctx, &spec.ApplyParams{Store: st, File: f, Source: "test", DryRun: dry})
		if err != nil {
			return nil, err
		}
		if len(res) != 1 {
			t.Fatalf("Apply returned %d results, want 1", len(res))
		}
		return res[0], nil
	}
	must := func(r *spec.Result, err error) *spec.Result {
		t.Helper()
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		return r
	}
	current := func() int {
		t.Helper()
		cur, err := st.SpecCurrentList(ctx)
		if err != nil || len(cur) != 1 {
			t.Fatalf("SpecCurrentList = %v, %v", cur, err)
		}
		return cur[0].Version
	}

	first := must(apply(file(t, "    model: {algorithm: logistic}\n"), false))
	if first.From != 0 || first.To != 1 || !first.Changed() || first.String() != "pipeline titanic: spec v1 (new pipeline)" {
		t.Fatalf("first apply = %+v (%s), want v1 new", first, first)
	}
	again := must(apply(file(t, "    model: {algorithm: logistic, seed: 42}\n"), false))
	if again.Changed() || again.To != 1 || again.String() != "pipeline titanic: spec v1 unchanged" {
		t.Fatalf("apply of the same spec = %+v, want v1 unchanged", again)
	}
	gbdt := file(t, "    model: {algorithm: gbdt}\n")
	dry := must(apply(gbdt, true))
	if dry.String() != "pipeline titanic: spec v1 → v2: model.algorithm logistic → gbdt" {
		t.Fatalf("dry run = %q", dry)
	}
	if v := current(); v != 1 {
		t.Fatalf("after a dry run the current spec is v%d, want v1 (nothing written)", v)
	}
	real := must(apply(gbdt, false))
	if real.From != 1 || real.To != 2 || current() != 2 {
		t.Fatalf("apply of gbdt = %+v, current v%d; want v1 → v2", real, current())
	}

	// A column's type change is refused, by the dry run and the real one,
	// and nothing is stored.
	retyped := fileWithColumn(t, "        - {name: fare, type: number}", "    model: {algorithm: gbdt}\n")
	must(apply(retyped, false)) // v3 adds fare: the table gets its column
	bad := fileWithColumn(t, "        - {name: fare, type: category, values: [a, b]}", "    model: {algorithm: gbdt}\n")
	for _, dryRun := range []bool{true, false} {
		_, err := apply(bad, dryRun)
		if !errors.Is(err, spec.ErrNotLive) || !strings.Contains(err.Error(), "fare") {
			t.Fatalf("apply of a type change (dry run %v): err = %v, want ErrNotLive naming fare", dryRun, err)
		}
	}
	if v := current(); v != 3 {
		t.Fatalf("after refused applies the current spec is v%d, want v3", v)
	}
	info, err := st.DatasetInfo(ctx, "titanic")
	if err != nil || info.Pipeline != "titanic" {
		t.Fatalf("DatasetInfo after apply = %+v, %v: apply must prepare the dataset", info, err)
	}
}

func TestLiveFollowsStoredSpec(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	logistic := file(t, "    model: {algorithm: logistic}\n")
	if _, err := spec.Apply(ctx, &spec.ApplyParams{Store: st, File: logistic}); err != nil {
		t.Fatal(err)
	}
	c, err := spec.NewCurrent(&logistic.Pipelines[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var seen []int
	live := spec.NewLive(spec.LiveConfig{Store: st, Initial: []*spec.Current{c}, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Changed: func(_, n *spec.Current) { seen = append(seen, n.Version) }})
	if err := live.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 0 {
		t.Fatalf("Refresh with nothing new changed %v", seen)
	}
	if _, err := spec.Apply(ctx, &spec.ApplyParams{Store: st, File: file(t, "    model: {algorithm: gbdt}\n")}); err != nil {
		t.Fatal(err)
	}
	if err := live.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got, ok := live.Get("titanic")
	if !ok || got.Version != 2 || got.Pipeline.Model.Algorithm != "gbdt" || got.Schema == nil {
		t.Fatalf("after Refresh Get = %+v, want v2 gbdt", got)
	}
	if want := "pipeline titanic: spec v1 → v2: model.algorithm logistic → gbdt"; !strings.Contains(logs.String(), want) {
		t.Fatalf("log lacks %q:\n%s", want, logs.String())
	}
	if len(seen) != 1 || seen[0] != 2 {
		t.Fatalf("Changed saw %v, want [2]", seen)
	}
}
