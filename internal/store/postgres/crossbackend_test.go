package postgres

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
	"github.com/mlserve/mlserve/internal/store/storetest"
)

// TestSnapshotHashMatchesSQLite stores the same batches in both backends,
// through a schema change, and checks that snapshots read the same rows
// with the same SHA256 at every watermark and with every schema.
func TestSnapshotHashMatchesSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg := openTemp(t)
	lite, err := sqlite.Open(ctx, &sqlite.Config{Path: filepath.Join(t.TempDir(), "mlserve.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	if err := lite.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	backends := []store.Store{lite, pg}
	ensure := func(s schema.Schema) *schema.Compiled {
		t.Helper()
		for _, b := range backends {
			if err := b.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: "p", Schema: s}); err != nil {
				t.Fatalf("%T.DatasetEnsure: %v", b, err)
			}
		}
		return storetest.MustCompile(t, s)
	}
	// insert stores rows in both and returns each backend's batch id.
	insert := func(c *schema.Compiled, rows []schema.Row) [2]int64 {
		t.Helper()
		var ids [2]int64
		for i, b := range backends {
			res, err := b.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: "p", Schema: c, Rows: rows})
			if err != nil {
				t.Fatalf("%T.BatchInsert: %v", b, err)
			}
			ids[i] = res.BatchID
		}
		return ids
	}

	s1 := storetest.TitanicSchema()
	s1.Columns = append(s1.Columns, schema.Column{Name: "cabin", Type: schema.Category, Nullable: true}) // open
	c1 := ensure(s1)
	rows1 := storetest.Rows(t, c1, 500, 1)
	// Values whose text is easy to get wrong.
	for i, f := range []float64{0.1 + 0.2, 1e-300, 119.99999999999999, 5e-324, 1.0 / 3, 120, math.Copysign(0, -1)} {
		rows1[i][3] = schema.Value{Num: f}
	}
	rows1[10][5] = schema.Value{Str: "é – ü 漢字"}
	rows1[11][5] = schema.Value{Str: " spaced "}
	ids1 := insert(c1, rows1)

	s2 := slices.Clone(s1.Columns)
	s2 = append(s2,
		schema.Column{Name: "siblings", Type: schema.Integer, Nullable: true},
		schema.Column{Name: "alone", Type: schema.Boolean, Nullable: true},
		schema.Column{Name: "fare", Type: schema.Number, Nullable: true},
		schema.Column{Name: `at"; --`, Type: schema.Timestamp, Nullable: true},
		schema.Column{Name: "deck", Type: schema.Category, Values: []string{"A", "B"}, Unknown: schema.UnknownOther, Nullable: true})
	c2 := ensure(schema.Schema{Target: s1.Target, Columns: s2})
	rows2 := storetest.Rows(t, c2, 700, 2)
	for i, ts := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z", "2024-02-29T12:00:00.001+05:30"} {
		sec, ok := schema.ParseTimestamp(ts)
		if !ok {
			t.Fatalf("ParseTimestamp(%q) failed", ts)
		}
		rows2[4+i][9] = schema.Value{Num: sec}
	}
	rows2[0][6] = schema.Value{Num: 1 << 53}
	rows2[1][6] = schema.Value{Num: -(1 << 53)}
	rows2[2][8] = schema.Value{Num: math.MaxFloat64}
	rows2[3][8] = schema.Value{Num: -math.SmallestNonzeroFloat64}
	ids2 := insert(c2, rows2)

	// Reading with a schema whose declared labels moved.
	s3 := schema.Schema{Target: s1.Target, Columns: slices.Clone(s2)}
	s3.Columns[1].Values = []string{"3", "2"}
	c3 := storetest.MustCompile(t, s3)

	for _, c := range []*schema.Compiled{c1, c2, c3} {
		for w := range 3 {
			var snaps [2]*store.Snapshot
			for i, b := range backends {
				var watermark int64
				switch w {
				case 1:
					watermark = ids1[i]
				case 2:
					watermark = ids2[i]
				}
				snap, err := b.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: "p", Schema: c, Watermark: watermark})
				if err != nil {
					t.Fatalf("%T.SnapshotRead: %v", b, err)
				}
				snaps[i] = snap
			}
			if d := storetest.DiffRows(c, snaps[1].Rows, snaps[0].Rows); d != "" {
				t.Fatalf("schema of %d columns, watermark case %d: postgres vs sqlite: %s", c.Len(), w, d)
			}
			for r := range snaps[0].Rows {
				for k := range c.Len() {
					if a, b := snaps[0].Rows[r][k], snaps[1].Rows[r][k]; a != b && !(math.IsNaN(a.Num) && math.IsNaN(b.Num)) {
						t.Fatalf("row %d column %s: sqlite %+v, postgres %+v", r, c.Column(k).Name, a, b)
					}
				}
			}
			if snaps[0].SHA256 != snaps[1].SHA256 {
				t.Fatalf("schema of %d columns, watermark case %d: sqlite hash %s, postgres hash %s", c.Len(), w, snaps[0].SHA256, snaps[1].SHA256)
			}
			if w == 0 && len(snaps[1].Rows) != len(rows1)+len(rows2) {
				t.Fatalf("snapshot has %d rows, want %d", len(snaps[1].Rows), len(rows1)+len(rows2))
			}
		}
	}
}
