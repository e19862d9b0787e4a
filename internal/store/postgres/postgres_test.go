package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/storetest"
	"github.com/mlserve/mlserve/internal/testenv"
)

// The tests run against the server at MLSERVE_TEST_DATABASE_URL, each in a
// schema of its own that is dropped afterwards. Without the variable they
// skip, or fail in CI (testenv).

func TestMain(m *testing.M) {
	code := m.Run()
	if admin.pool != nil {
		admin.pool.Close()
	}
	os.Exit(code)
}

func testURL(t testing.TB) string {
	t.Helper()
	return testenv.Getenv(t, "MLSERVE_TEST_DATABASE_URL", "PostgreSQL server")
}

// admin is a small pool for creating and dropping test schemas.
var admin struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

func adminPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := testURL(t)
	admin.once.Do(func() {
		cfg, err := pgxpool.ParseConfig(u)
		if err != nil {
			admin.err = err
			return
		}
		cfg.MaxConns = 4
		admin.pool, admin.err = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	if admin.err != nil {
		t.Fatalf("admin pool: %v", admin.err)
	}
	return admin.pool
}

// schemaName returns a fresh schema name and drops that schema when the
// test ends. It does not create it.
func schemaName(t testing.TB) string {
	t.Helper()
	pool := adminPool(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "s_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// newSchema creates a fresh schema, dropped when the test ends.
func newSchema(t testing.TB) string {
	t.Helper()
	name := schemaName(t)
	if _, err := adminPool(t).Exec(context.Background(), `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	return name
}

// openSchema opens a store on schema; it is closed when the test ends
// (before the schema is dropped).
func openSchema(t testing.TB, schemaName string, now func() time.Time) *DB {
	t.Helper()
	db, err := Open(context.Background(), &Config{URL: testURL(t), MaxConns: 4, Now: now, Schema: schemaName})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openTemp opens a migrated store on a fresh schema.
func openTemp(t testing.TB) *DB {
	t.Helper()
	db := openSchema(t, newSchema(t), nil)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSchema(t, newSchema(t), nil)
	})
}

// titanic ensures the titanic dataset on db and returns its schema.
func titanic(t testing.TB, db store.Store) *schema.Compiled {
	t.Helper()
	c := storetest.MustCompile(t, storetest.TitanicSchema())
	if err := db.DatasetEnsure(context.Background(), &store.DatasetEnsureParams{Pipeline: storetest.TitanicPipeline, Schema: c.Schema()}); err != nil {
		t.Fatalf("DatasetEnsure: %v", err)
	}
	return c
}
