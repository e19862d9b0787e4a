package ingest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/demo"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlite"
)

// BenchmarkIngestCSV measures validated ingestion into SQLite: a CSV body of
// synthetic titanic rows decoded, checked against the schema and stored as
// one batch. It reports rows/s.
func BenchmarkIngestCSV(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, &sqlite.Config{Path: filepath.Join(b.TempDir(), "db")})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			f, _ := config.Example("titanic")
			p := f.Pipelines[0]
			if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: p.Name, Schema: p.Schema}); err != nil {
				b.Fatal(err)
			}
			c, err := schema.Compile(p.Schema)
			if err != nil {
				b.Fatal(err)
			}
			svc := ingest.New(ingest.Config{Store: db, Pipelines: map[string]*schema.Compiled{"titanic": c}})
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.Write(demo.Columns)
			g := demo.NewTitanic(1)
			for i := 0; i < n; i++ {
				w.Write(g.Next().Record())
			}
			w.Flush()
			body := buf.Bytes()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := svc.Ingest(ctx, &ingest.Request{Pipeline: "titanic", Format: ingest.FormatCSV, Body: bytes.NewReader(body)})
				if err != nil || res.Accepted != int64(n) {
					b.Fatalf("accepted %v, err %v", res, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
