package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/sqlstore"
)

// migrationFS holds schema_migrations.sql and the NNN_name.up.sql files.
//
//go:embed migration/*.sql
var migrationFS embed.FS

// Migrations returns the embedded migrations in version order. They have
// the same version numbers and names as the SQLite backend's.
func Migrations() ([]store.Migration, error) { return store.ReadMigrations(migrationFS, "migration") }

// MigrateBegin differs by necessity: processes migrating at once each have
// a transaction of their own, so the first statement takes an advisory
// lock, keyed by schema (separate schemas of one database migrate
// independently). With Config.Schema set it then creates that schema.
func (d dialect) MigrateBegin(ctx context.Context, tx sqlstore.Querier) error {
	schema := d.db.schema
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(nullif($2, ''), current_schema(), '')))`,
		int32(lockMigrate), schema); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	if schema == "" {
		return nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return fmt.Errorf("look up schema %s: %w", schema, err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+sqlstore.QuoteIdent(schema)); err != nil {
			return fmt.Errorf("create schema %s: %w", schema, err)
		}
	}
	return nil
}
