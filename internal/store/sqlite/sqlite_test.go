package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/storetest"
)

func openAt(t testing.TB, path string, now func() time.Time) *DB {
	t.Helper()
	db, err := Open(context.Background(), &Config{Path: path, Now: now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mlserve.db")
	db := openAt(t, path, nil)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db, path
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "mlserve.db"), nil)
	})
}

// titanic ensures the titanic dataset on db and returns its schema.
func titanic(t testing.TB, db *DB) *schema.Compiled {
	t.Helper()
	c := storetest.MustCompile(t, storetest.TitanicSchema())
	if err := db.DatasetEnsure(context.Background(), &store.DatasetEnsureParams{Pipeline: storetest.TitanicPipeline, Schema: c.Schema()}); err != nil {
		t.Fatalf("DatasetEnsure: %v", err)
	}
	return c
}

func TestTwoHandlesIngestAndSnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, path := openTemp(t)
	b := openAt(t, path, nil) // another process on the same file
	c := titanic(t, a)

	const batches, per = 20, 200
	input := make([][]schema.Row, batches)
	for j := range input {
		input[j] = storetest.Rows(t, c, per, uint64(j))
		for _, r := range input[j] {
			r[3] = schema.Value{Num: float64(j % 100)}
		}
	}
	// Both handles write; b also reads snapshots all along.
	var wg sync.WaitGroup
	errs := make(chan error, batches)
	for w, db := range []*DB{a, b} {
		wg.Go(func() {
			for j := w; j < batches; j += 2 {
				if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: input[j]}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var reads int
	var readErr error
	var rg sync.WaitGroup
	rg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			snap, err := b.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: storetest.TitanicPipeline, Schema: c})
			if err != nil {
				readErr = err
				return
			}
			if len(snap.Rows)%per != 0 {
				readErr = errors.New("snapshot is not whole batches")
				return
			}
			for g := 0; g < len(snap.Rows); g += per {
				for _, r := range snap.Rows[g : g+per] {
					if r[3] != snap.Rows[g][3] {
						readErr = errors.New("snapshot mixes batches")
						return
					}
				}
			}
			reads++
		}
	})
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("BatchInsert: %v", err)
	}
	if readErr != nil {
		t.Fatalf("SnapshotRead: %v", readErr)
	}
	t.Logf("%d snapshots during ingestion", reads)
	info, err := a.DatasetInfo(ctx, storetest.TitanicPipeline)
	if err != nil || info.Rows != batches*per || info.Batches != batches {
		t.Fatalf("DatasetInfo = %+v, %v", info, err)
	}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mlserve.db")
	a, b := openAt(t, path, nil), openAt(t, path, nil)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, db := range []*DB{a, b, a, b} {
		wg.Go(func() { errs[i] = db.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Migrate #%d: %v", i, err)
		}
	}
	if err := a.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := a.r.QueryRowContext(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != ms[len(ms)-1].Version {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].Version)
	}
}

func TestMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	// Versions start at 1 and increase; a gap is allowed while helpers own
	// numbers (another branch holds the missing one).
	for i, m := range ms {
		if (i == 0 && m.Version != 1) || (i > 0 && m.Version <= ms[i-1].Version) || m.Name == "" || m.SQL == "" {
			t.Errorf("migration %d = version %d name %q; want increasing versions from 1, each with a name and SQL", i, m.Version, m.Name)
		}
		if strings.Contains(strings.ToLower(m.SQL), "river_") {
			t.Errorf("migration %d touches river_ tables, which River owns", m.Version)
		}
	}
}

// TestStorageColumnNames checks that user column names never reach SQL: the
// typed table has c1, c2, … only.
func TestStorageColumnNames(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, _ := openTemp(t)
	s := storetest.TitanicSchema()
	s.Columns = append(s.Columns, schema.Column{Name: "odd name.with-dash", Type: schema.Number, Nullable: true})
	if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: "names", Schema: s}); err != nil {
		t.Fatalf("DatasetEnsure: %v", err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT name, type FROM pragma_table_info('ds_names') ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+" "+typ)
	}
	want := "batch_id INTEGER,row_no INTEGER,c1 TEXT,c2 TEXT,c3 TEXT,c4 REAL,c5 TEXT,c6 REAL"
	if strings.Join(got, ",") != want {
		t.Fatalf("ds_names columns = %v, want %s", got, want)
	}
}

// TestDatabaseEnforcesRules checks the constraints the code relies on.
func TestDatabaseEnforcesRules(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, _ := openTemp(t)
	for range 2 {
		if _, err := db.VersionCreate(ctx, &store.VersionCreateParams{Pipeline: "p"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.VersionPromote(ctx, &store.VersionPromoteParams{Pipeline: "p", Version: 1, Action: store.ActionAuto}); err != nil {
		t.Fatal(err)
	}
	_, err := db.w.ExecContext(ctx, `UPDATE model_versions SET state = 'production' WHERE pipeline = 'p' AND version = 2`)
	if !errors.Is(interpretError(err), store.ErrConflict) {
		t.Errorf("second production version: err = %v, want a unique violation (ErrConflict)", err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE promotions SET reason = 'rewritten'`); err == nil {
		t.Errorf("UPDATE promotions: no error, want append-only")
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM promotions`); err == nil {
		t.Errorf("DELETE FROM promotions: no error, want append-only")
	}
	if _, err := db.r.ExecContext(ctx, `DELETE FROM leases`); err == nil {
		t.Errorf("write on the read pool: no error, want query_only")
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestClock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	loc := time.FixedZone("CEST", 2*3600)
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 123456789, loc)}
	db := openAt(t, filepath.Join(t.TempDir(), "mlserve.db"), clock.Now)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := db.RunCreate(ctx, &store.RunCreateParams{Pipeline: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().UTC(); !r.CreatedAt.Equal(want) || r.CreatedAt.Location() != time.UTC || r.CreatedAt != want {
		t.Fatalf("CreatedAt = %v, want %v in UTC", r.CreatedAt, want)
	}
	if r.Reason != store.ReasonManual {
		t.Fatalf("default reason = %q, want manual", r.Reason)
	}

	acquire := func(holder string) bool {
		t.Helper()
		ok, err := db.LeaseAcquire(ctx, &store.LeaseParams{Name: "l", Holder: holder, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire("a") || acquire("b") {
		t.Fatal("a should hold the lease")
	}
	clock.Add(59 * time.Second)
	if acquire("b") {
		t.Fatal("b took the lease before it expired")
	}
	clock.Add(time.Second)
	if !acquire("b") {
		t.Fatal("b could not take the expired lease")
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if db, err := Open(context.Background(), &Config{Path: p}); err == nil {
			db.Close()
			t.Errorf("Open(%q): no error", p)
		}
	}
}

// BenchmarkBatchInsert inserts batches of 10,000 titanic rows (5 columns)
// and reports rows/s.
func BenchmarkBatchInsert(b *testing.B) {
	db, _ := openTemp(b)
	c := titanic(b, db)
	const n = 10000
	rows := storetest.Rows(b, c, n, 1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: rows}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSnapshotRead reads a 100,000-row snapshot and reports rows/s.
func BenchmarkSnapshotRead(b *testing.B) {
	db, _ := openTemp(b)
	c := titanic(b, db)
	ctx := context.Background()
	const n = 100000
	for i := range 10 {
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c,
			Rows: storetest.Rows(b, c, n/10, uint64(i))}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		snap, err := db.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: storetest.TitanicPipeline, Schema: c})
		if err != nil || len(snap.Rows) != n {
			b.Fatalf("SnapshotRead = %d rows, %v", len(snap.Rows), err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
