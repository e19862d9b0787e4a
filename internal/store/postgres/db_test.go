package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/storetest"
)

// TestStorageColumnNames checks that user column names never reach SQL: the
// typed table has c1, c2, … only, with PostgreSQL types.
func TestStorageColumnNames(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openTemp(t)
	s := storetest.TitanicSchema()
	s.Columns = append(s.Columns,
		schema.Column{Name: "odd name.with-dash", Type: schema.Number, Nullable: true},
		schema.Column{Name: "n", Type: schema.Integer, Nullable: true},
		schema.Column{Name: "b", Type: schema.Boolean, Nullable: true},
		schema.Column{Name: "id", Type: schema.Category, Ignore: true},
	)
	if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: "names", Schema: s}); err != nil {
		t.Fatalf("DatasetEnsure: %v", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'ds_names' ORDER BY ordinal_position`, db.schema)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var name, typ string
		err := r.Scan(&name, &typ)
		return name + " " + typ, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "batch_id bigint,row_no integer,c1 text,c2 text,c3 text,c4 double precision,c5 text,c6 double precision,c7 bigint,c8 boolean"
	if strings.Join(got, ",") != want {
		t.Fatalf("ds_names columns = %v, want %s", got, want)
	}
}

// TestLongPipelineNames checks that two 63-character pipeline names that
// differ only at the end get tables of their own (PostgreSQL truncates
// identifiers to 63 bytes).
func TestLongPipelineNames(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openTemp(t)
	c := storetest.MustCompile(t, storetest.TitanicSchema())
	base := strings.Repeat("p", 62)
	for i, p := range []string{base + "a", base + "b"} {
		if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: p, Schema: c.Schema()}); err != nil {
			t.Fatalf("DatasetEnsure(%s): %v", p, err)
		}
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: p, Schema: c, Rows: storetest.Rows(t, c, i+1, 1)}); err != nil {
			t.Fatalf("BatchInsert(%s): %v", p, err)
		}
	}
	for i, p := range []string{base + "a", base + "b"} {
		snap, err := db.SnapshotRead(ctx, &store.SnapshotReadParams{Pipeline: p, Schema: c})
		if err != nil || len(snap.Rows) != i+1 {
			t.Fatalf("SnapshotRead(%s) = %d rows, %v; want %d", p, len(snap.Rows), err, i+1)
		}
	}
}

// TestDatabaseEnforcesRules checks the constraints the code relies on.
func TestDatabaseEnforcesRules(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openTemp(t)
	for range 2 {
		if _, err := db.VersionCreate(ctx, &store.VersionCreateParams{Pipeline: "p"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.VersionPromote(ctx, &store.VersionPromoteParams{Pipeline: "p", Version: 1, Action: store.ActionAuto}); err != nil {
		t.Fatal(err)
	}
	_, err := db.pool.Exec(ctx, `UPDATE model_versions SET state = 'production' WHERE pipeline = 'p' AND version = 2`)
	if !errors.Is(interpretError(err), store.ErrConflict) {
		t.Errorf("second production version: err = %v, want a unique violation (ErrConflict)", err)
	}
	for _, q := range []string{`UPDATE promotions SET reason = 'rewritten'`, `DELETE FROM promotions`, `TRUNCATE promotions`} {
		if _, err := db.pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only", q, err)
		}
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO runs (pipeline, state, reason, created_at) VALUES ('p', 'queued', 'manual', now()), ('p', 'queued', 'manual', now())`); !errors.Is(interpretError(err), store.ErrConflict) {
		t.Errorf("two queued runs: err = %v, want ErrConflict", err)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestClock checks that times come from the injected clock, in UTC at
// microsecond precision, leases included.
func TestClock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	loc := time.FixedZone("CEST", 2*3600)
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 123456789, loc)}
	db := openSchema(t, newSchema(t), clock.Now)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := clock.Now().UTC().Truncate(time.Microsecond)
	r, err := db.RunCreate(ctx, &store.RunCreateParams{Pipeline: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if r.CreatedAt != want {
		t.Fatalf("CreatedAt = %v, want %v in UTC", r.CreatedAt, want)
	}
	if got, err := db.RunGet(ctx, r.ID); err != nil || got.CreatedAt != want {
		t.Fatalf("RunGet CreatedAt = %v, %v; want %v", got.CreatedAt, err, want)
	}
	c := titanic(t, db)
	res, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c,
		Rejects: []*store.Reject{{Row: 1, Raw: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.BatchGet(ctx, storetest.TitanicPipeline, res.BatchID, -1)
	if err != nil || got.Errors[0].CreatedAt != res.Errors[0].CreatedAt || got.Errors[0].CreatedAt != want {
		t.Fatalf("reject time = %v (returned %v), %v; want %v", got.Errors[0].CreatedAt, res.Errors[0].CreatedAt, err, want)
	}
	info, err := db.DatasetInfo(ctx, storetest.TitanicPipeline)
	if err != nil || *info.LastBatchAt != want {
		t.Fatalf("LastBatchAt = %v, %v; want %v", info.LastBatchAt, err, want)
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

// TestTextPostgresCannotStore checks data that text columns cannot hold: a
// label with a NUL byte or invalid UTF-8 fails the batch cleanly (nothing
// written, the store usable), while raw rejects keep every byte and free
// text is cleaned.
func TestTextPostgresCannotStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openTemp(t)
	s := storetest.TitanicSchema()
	s.Columns[4].Values = nil // embarked: an open category
	c := storetest.MustCompile(t, s)
	if err := db.DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: "p", Schema: s}); err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"a\x00b", "\xff\xfe"} {
		rows := storetest.Rows(t, c, 10, 1)
		rows[7][4] = schema.Value{Str: label}
		_, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: "p", Schema: c, Rows: rows})
		if err == nil || !strings.Contains(err.Error(), `row 7, column "embarked"`) {
			t.Fatalf("BatchInsert with label %q: err = %v, want one naming row 7, embarked", label, err)
		}
	}
	if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: "p", Schema: c, IdempotencyKey: "k\xff"}); err == nil {
		t.Fatal("BatchInsert with an invalid UTF-8 key: no error")
	}
	raw := "1,\x00,\xff\xfe,é"
	res, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: "p", Schema: c, Source: "file:\xffx.csv\x00",
		Rows: storetest.Rows(t, c, 3, 2), Rejects: []*store.Reject{{Row: 4, Raw: raw, Fields: schema.FieldErrors{"_row": "bad \x00 \xff"}}}})
	if err != nil {
		t.Fatalf("BatchInsert with odd raw text: %v", err)
	}
	q, err := db.QuarantineList(ctx, &store.QuarantineListParams{Pipeline: "p"})
	if err != nil || len(q) != 1 || q[0].Raw != raw || q[0].BatchID != res.BatchID {
		t.Fatalf("QuarantineList = %+v, %v; want the raw bytes kept", q, err)
	}
	info, err := db.DatasetInfo(ctx, "p")
	if err != nil || info.Batches != 1 || info.Rows != 3 {
		t.Fatalf("DatasetInfo = %+v, %v; want only the good batch", info, err)
	}
	if _, err := db.RunFinish(ctx, &store.RunFinishParams{ID: 1, State: store.RunFailed, Error: "x\x00\xff"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RunFinish with odd error text: err = %v, want ErrNotFound (the text itself is storable)", err)
	}
}

// TestUnavailable checks that a server that cannot be reached is
// store.ErrUnavailable, both at Open and when a connection drops.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = Open(ctx, &Config{URL: "postgres://u:secretpw@" + addr + "/db?sslmode=disable&connect_timeout=2"})
	if !errors.Is(err, store.ErrUnavailable) || !IsUnavailable(err) {
		t.Fatalf("Open on a closed port: err = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "secretpw") {
		t.Fatalf("Open error shows the password: %v", err)
	}
	if _, err := Open(ctx, &Config{URL: "postgres://u:secretpw@host:notaport/db"}); err == nil || strings.Contains(err.Error(), "secretpw") {
		t.Fatalf("Open with a bad URL: err = %v, want an error without the password", err)
	}

	// A connection the server ends in the middle of a transaction.
	db := openTemp(t)
	err = db.inTx(ctx, readWrite, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
		return interpretError(err)
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("terminated connection: err = %v, want ErrUnavailable", err)
	}
	// The pool replaces the connection.
	if _, err := db.RunList(ctx, &store.RunListParams{}); err != nil {
		t.Fatalf("RunList after a dropped connection: %v", err)
	}
}

func TestInterpretError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want error
	}{
		{pgx.ErrNoRows, store.ErrNotFound},
		{fmt.Errorf("x: %w", pgx.ErrNoRows), store.ErrNotFound},
		{&pgconn.PgError{Code: "23505"}, store.ErrConflict},
		{&pgconn.PgError{Code: "40001"}, store.ErrConflict},
		{&pgconn.PgError{Code: "40P01"}, store.ErrConflict},
		{&pgconn.PgError{Code: "08006"}, store.ErrUnavailable},
		{&pgconn.PgError{Code: "57P01"}, store.ErrUnavailable},
		{&pgconn.PgError{Code: "53300"}, store.ErrUnavailable},
		{io.ErrUnexpectedEOF, store.ErrUnavailable},
		{&net.OpError{Op: "read", Err: errors.New("connection reset")}, store.ErrUnavailable},
		{fmt.Errorf("x: %w", pgconn.ErrConnClosed), store.ErrUnavailable},
		{&pgconn.PgError{Code: "22P02"}, nil},
		{context.Canceled, nil},
		{context.DeadlineExceeded, nil},
	} {
		got := interpretError(c.err)
		for _, s := range []error{store.ErrNotFound, store.ErrConflict, store.ErrUnavailable} {
			if errors.Is(got, s) != (s == c.want) {
				t.Errorf("interpretError(%v) = %v; is %v: %v, want %v", c.err, got, s, errors.Is(got, s), s == c.want)
			}
		}
	}
	if interpretError(nil) != nil {
		t.Error("interpretError(nil) != nil")
	}
}

// TestConcurrentDatasetEnsure ensures one new pipeline from several pools
// at once, then widens it from all of them at once: one table, every
// column added once.
func TestConcurrentDatasetEnsure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	name := newSchema(t)
	dbs := []*DB{openSchema(t, name, nil), openSchema(t, name, nil), openSchema(t, name, nil)}
	if err := dbs[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	wide := storetest.TitanicSchema()
	wide.Columns = append(wide.Columns, schema.Column{Name: "fare", Type: schema.Number, Nullable: true})
	for _, s := range []schema.Schema{storetest.TitanicSchema(), wide} {
		var wg sync.WaitGroup
		errs := make([]error, 6)
		start := make(chan struct{})
		for i := range errs {
			wg.Go(func() {
				<-start
				errs[i] = dbs[i%len(dbs)].DatasetEnsure(ctx, &store.DatasetEnsureParams{Pipeline: "p", Schema: s})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("DatasetEnsure #%d with %d columns: %v", i, len(s.Columns), err)
			}
		}
	}
	var cols string
	if err := dbs[0].pool.QueryRow(ctx, `SELECT columns FROM datasets WHERE pipeline = 'p'`).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	var m []struct {
		Name string `json:"name"`
		Col  int    `json:"col"`
	}
	err := json.Unmarshal([]byte(cols), &m)
	if err != nil || len(m) != 6 || m[5].Name != "fare" || m[5].Col != 6 {
		t.Fatalf("column mapping = %+v, %v; want c1..c6 with fare as c6", m, err)
	}
	c := storetest.MustCompile(t, wide)
	if _, err := dbs[1].BatchInsert(ctx, &store.BatchInsertParams{Pipeline: "p", Schema: c, Rows: storetest.Rows(t, c, 3, 1)}); err != nil {
		t.Fatalf("BatchInsert: %v", err)
	}
}
