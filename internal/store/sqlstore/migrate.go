package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"

	"github.com/mlserve/mlserve/internal/store"
)

// migrationDir is the folder of Config.Migrations that holds them.
const migrationDir = "migration"

// Migrate applies the migrations not yet recorded in schema_migrations, in
// order, in one write transaction that first takes the dialect's migration
// lock (MigrateBegin): processes migrating at once wait for each other, and
// the later ones find every version recorded.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := store.ReadMigrations(s.migrations, migrationDir)
	if err != nil {
		return err
	}
	table, err := fs.ReadFile(s.migrations, path.Join(migrationDir, "schema_migrations.sql"))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = s.d.WriteTx(ctx, func(tx Querier) error {
		if err := s.d.MigrateBegin(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(table)); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		defer rows.Close()
		applied := map[int]bool{}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			applied[v] = true
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		rows.Close()
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			// No arguments: both drivers run every statement of the file.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %03d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, s.d.Time(s.now())); err != nil {
				return fmt.Errorf("record %03d_%s: %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
