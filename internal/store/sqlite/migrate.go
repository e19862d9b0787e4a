package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

//go:embed migration/*.up.sql
var migrationFS embed.FS

// Migration is one embedded schema migration.
type Migration = store.Migration

// Migrations returns the embedded migrations in version order. The
// PostgreSQL backend has the same version numbers.
func Migrations() ([]Migration, error) { return store.ReadMigrations(migrationFS, "migration") }

// Migrate applies the migrations not yet recorded in schema_migrations, in
// order, each in its own write transaction. The writer lock taken at BEGIN
// serialises processes migrating at once: the second one finds the version
// recorded and skips it.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL
		)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, db.nowText())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: apply %03d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}
