// Package storetest is the conformance suite every store.Store backend must
// pass, plus the titanic fixtures it is built on.
//
// A backend's test calls Run with a function that opens an empty database
// for one subtest:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … })
//	}
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// Run runs the suite: a named subtest per method family, each leaf subtest
// on a store of its own that open returns empty (Migrate is called by the
// suite; open may have called it already). Leaf subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Migrate", func(t *testing.T) { testMigrate(t, open) })
	t.Run("Dataset", func(t *testing.T) { testDataset(t, open) })
	t.Run("Batch", func(t *testing.T) { testBatch(t, open) })
	t.Run("Snapshot", func(t *testing.T) { testSnapshot(t, open) })
	t.Run("Quarantine", func(t *testing.T) { testQuarantine(t, open) })
	t.Run("QuarantinePaging", func(t *testing.T) { testQuarantinePaging(t, open) })
	t.Run("QuarantineReplay", func(t *testing.T) { testQuarantineReplay(t, open) })
	t.Run("Version", func(t *testing.T) { testVersion(t, open) })
	t.Run("Promotion", func(t *testing.T) { testPromotion(t, open) })
	t.Run("RollbackReason", func(t *testing.T) { testRollbackReason(t, open) })
	t.Run("Run", func(t *testing.T) { testRun(t, open) })
	t.Run("Lease", func(t *testing.T) { testLease(t, open) })
	t.Run("Spec", func(t *testing.T) { testSpec(t, open) })
	t.Run("Gate", func(t *testing.T) { testGate(t, open) })
	t.Run("Token", func(t *testing.T) { testToken(t, open) })
	t.Run("RunChecks", func(t *testing.T) { testRunChecks(t, open) })
}

// TitanicPipeline is the pipeline name the suite uses.
const TitanicPipeline = "titanic"

func ptr[T any](v T) *T { return &v }

// TitanicSchema returns the titanic example's schema: survived category
// [0, 1] (target), class category [1, 2, 3], sex category [male, female]
// with aliases, age number 0..120 nullable, embarked category [C, S, Q]
// nullable.
func TitanicSchema() schema.Schema {
	return schema.Schema{
		Target: "survived",
		Columns: []schema.Column{
			{Name: "survived", Type: schema.Category, Values: []string{"0", "1"}},
			{Name: "class", Type: schema.Category, Values: []string{"1", "2", "3"}},
			{Name: "sex", Type: schema.Category, Values: []string{"male", "female"},
				Aliases: map[string]string{"M": "male", "F": "female"}},
			{Name: "age", Type: schema.Number, Min: ptr(0.0), Max: ptr(120.0), Nullable: true},
			{Name: "embarked", Type: schema.Category, Values: []string{"C", "S", "Q"}, Nullable: true},
		},
	}
}

// MustCompile compiles s or fails the test.
func MustCompile(t testing.TB, s schema.Schema) *schema.Compiled {
	t.Helper()
	c, err := schema.Compile(s)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return c
}

// RawRow returns the raw values of one synthetic passenger for the columns
// of c, as an ingest request would carry them: aliases, missing values and
// all. Columns the generator does not know get values by type.
func RawRow(c *schema.Compiled, rng *rand.Rand) map[string]schema.Raw {
	m := make(map[string]schema.Raw, c.Len())
	for i := range c.Len() {
		col := c.Column(i)
		if col.Ignore {
			m[col.Name] = schema.Raw{Text: "passenger " + strconv.Itoa(rng.IntN(1000))}
			continue
		}
		if col.Nullable && rng.IntN(8) == 0 {
			m[col.Name] = schema.Raw{Missing: true}
			continue
		}
		var s string
		switch {
		case col.Name == "sex":
			s = []string{"male", "female", "M", "F", "Male"}[rng.IntN(5)]
		case col.Name == "age" && col.Type == schema.Integer:
			s = strconv.Itoa(rng.IntN(80))
		case col.Name == "age":
			s = strconv.FormatFloat(float64(rng.IntN(1600))/20, 'f', -1, 64)
		case col.Type == schema.Category && col.Unknown == schema.UnknownOther && rng.IntN(3) == 0:
			s = "other " + strconv.Itoa(rng.IntN(5))
		case col.Type == schema.Category && len(col.Values) > 0:
			s = col.Values[rng.IntN(len(col.Values))]
		case col.Type == schema.Category:
			s = "label" + strconv.Itoa(rng.IntN(5))
		case col.Type == schema.Number:
			s = strconv.FormatFloat(rng.Float64()*100, 'g', -1, 64)
		case col.Type == schema.Integer:
			s = strconv.Itoa(rng.IntN(1000) - 500)
		case col.Type == schema.Boolean:
			s = []string{"true", "false", "yes", "0"}[rng.IntN(4)]
		case col.Type == schema.Timestamp:
			// 1901 to 2084, to the microsecond (stored to the millisecond).
			s = time.UnixMicro(rng.Int64N(6e15) - 2e15).UTC().Format(time.RFC3339Nano)
		}
		m[col.Name] = schema.Raw{Text: s}
	}
	return m
}

// Rows returns n typed rows for c, the same for the same seed.
func Rows(t testing.TB, c *schema.Compiled, n int, seed uint64) []schema.Row {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]schema.Row, n)
	for i := range out {
		row, fe := c.RowFromMap(RawRow(c, rng))
		if fe != nil {
			t.Fatalf("fixture row %d: %v", i, fe)
		}
		out[i] = row
	}
	return out
}

// DiffRows describes the first difference between got and want, or
// returns "" when they hold the same values: same missing cells, same
// canonical text, and for categories with declared values the same index.
func DiffRows(c *schema.Compiled, got, want []schema.Row) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d rows, want %d", len(got), len(want))
	}
	for r := range got {
		if len(got[r]) != c.Len() || len(want[r]) != c.Len() {
			return fmt.Sprintf("row %d: got %d values, want %d, schema has %d", r, len(got[r]), len(want[r]), c.Len())
		}
		for i := range c.Len() {
			g, w := got[r][i], want[r][i]
			col := c.Column(i)
			switch {
			case g.Missing != w.Missing:
				return fmt.Sprintf("row %d column %s: got missing=%v, want missing=%v", r, col.Name, g.Missing, w.Missing)
			case g.Missing:
			case c.Format(i, g) != c.Format(i, w):
				return fmt.Sprintf("row %d column %s: got %q, want %q", r, col.Name, c.Format(i, g), c.Format(i, w))
			case col.Type == schema.Category && len(col.Values) > 0 && g.Num != w.Num:
				return fmt.Sprintf("row %d column %s: got index %v, want %v", r, col.Name, g.Num, w.Num)
			}
		}
	}
	return ""
}

// testBundle is what most subtests start from: a migrated store with the
// titanic dataset ensured.
type testBundle struct {
	ctx context.Context
	s   store.Store
	c   *schema.Compiled
}

func setup(t *testing.T, open func(t *testing.T) store.Store) *testBundle {
	t.Helper()
	t.Parallel()
	ctx := t.Context()
	s := open(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	c := MustCompile(t, TitanicSchema())
	if err := s.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: TitanicPipeline, Schema: c.Schema()}); err != nil {
		t.Fatalf("DatasetEnsure: %v", err)
	}
	return &testBundle{ctx: ctx, s: s, c: c}
}

// insert stores rows as one batch of the titanic pipeline.
func (b *testBundle) insert(t *testing.T, rows []schema.Row, rejects ...*store.Reject) *store.BatchResult {
	t.Helper()
	res, err := b.s.BatchInsert(b.ctx, &store.BatchInsertParams{
		Pipeline: TitanicPipeline, Schema: b.c, Source: "test", Rows: rows, Rejects: rejects,
	})
	if err != nil {
		t.Fatalf("BatchInsert: %v", err)
	}
	return res
}

func (b *testBundle) snapshot(t *testing.T, c *schema.Compiled, watermark int64) *store.Snapshot {
	t.Helper()
	snap, err := b.s.SnapshotRead(b.ctx, &store.SnapshotReadParams{Pipeline: TitanicPipeline, Schema: c, Watermark: watermark})
	if err != nil {
		t.Fatalf("SnapshotRead: %v", err)
	}
	return snap
}

// reject builds a quarantined row as ingest would.
func reject(row int, raw string, fields schema.FieldErrors) *store.Reject {
	return &store.Reject{Row: row, Raw: raw, Fields: fields}
}

func wantErrContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func testMigrate(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for i := range 3 {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		errs := parallel(4, func(int) error { return s.Migrate(t.Context()) })
		for _, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Migrate: %v", err)
			}
		}
		// The schema works afterwards.
		c := MustCompile(t, TitanicSchema())
		if err := s.DatasetEnsure(t.Context(), &store.DatasetEnsureParams{Pipeline: "p", Schema: c.Schema()}); err != nil {
			t.Fatalf("DatasetEnsure after Migrate: %v", err)
		}
	})
}

// parallel runs fn(0..n-1) in goroutines released at once and returns their
// errors by index.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return errs
}
