package postgres

import (
	"context"
	"embed"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/store"
)

//go:embed migration/*.up.sql
var migrationFS embed.FS

// Migration is one embedded schema migration.
type Migration = store.Migration

// Migrations returns the embedded migrations in version order. They have
// the same version numbers and names as the SQLite backend's.
func Migrations() ([]Migration, error) { return store.ReadMigrations(migrationFS, "migration") }

// Migrate applies the migrations not yet recorded in schema_migrations, in
// order, in one transaction that first takes an advisory lock: processes
// migrating at once wait for each other, and the later ones find every
// version recorded. With Config.Schema set it creates that schema first.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	err = db.inTx(ctx, readWrite, func(tx pgx.Tx) error {
		// Keyed by schema: separate schemas of one database migrate
		// independently.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(nullif($2, ''), current_schema(), '')))`,
			int32(lockMigrate), db.schema); err != nil {
			return fmt.Errorf("take the migration lock: %w", interpretError(err))
		}
		if db.schema != "" {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, db.schema).Scan(&exists); err != nil {
				return fmt.Errorf("look up schema %s: %w", db.schema, interpretError(err))
			}
			if !exists {
				if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{db.schema}.Sanitize()); err != nil {
					return fmt.Errorf("create schema %s: %w", db.schema, interpretError(err))
				}
			}
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		)`)
		if err != nil {
			return fmt.Errorf("create schema_migrations: %w", interpretError(err))
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", interpretError(err))
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", interpretError(err))
		}
		for _, m := range ms {
			if slices.Contains(applied, int32(m.Version)) {
				continue
			}
			// No arguments: the simple protocol runs the whole file.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %03d_%s: %w", m.Version, m.Name, interpretError(err))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, db.clock()); err != nil {
				return fmt.Errorf("record %03d_%s: %w", m.Version, m.Name, interpretError(err))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
