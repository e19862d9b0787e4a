package sqlite

import (
	"context"
	"embed"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

//go:embed migration/*.up.sql
var migrationFS embed.FS

// Migration is one embedded schema migration.
type Migration = store.Migration

// Migrations returns the embedded migrations in version order. The
// PostgreSQL backend has the same version numbers.
func Migrations() ([]Migration, error) { return store.ReadMigrations(migrationFS, "migration") }

// Migrations is the dialect's view of Migrations.
func (dialect) Migrations() ([]Migration, error) { return Migrations() }

// MigrateBegin takes no lock of its own: the write transaction's BEGIN
// IMMEDIATE already serialises processes migrating at once. applied_at is
// text, as every SQLite timestamp (Time).
func (dialect) MigrateBegin(ctx context.Context, tx sqlstore.Querier) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return nil
}
