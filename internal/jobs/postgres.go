package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mlserve/mlserve/internal/store"
)

// lockRiverMigrate is the first key of the advisory lock that serialises
// River's migrations (rivermigrate takes no lock of its own); the second is
// the schema, so separate schemas migrate independently.
const lockRiverMigrate = 0x6d6c0003

// Postgres is a Backend on a PostgreSQL pool (the store's, see
// postgres.DB.Pool). Several processes on one database share the queue:
// each job runs on one of them, the cron schedules are inserted by River's
// elected leader only, and a job whose process died is rescued after
// Config.RescueAfter. Migrate holds an advisory lock, so processes starting
// at once migrate one after the other.
func Postgres(pool *pgxpool.Pool) Backend {
	drv := riverpgxv5.New(pool)
	return Backend{
		name: "postgres",
		migrate: func(ctx context.Context, logger *slog.Logger) error {
			m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: logger})
			if err != nil {
				return err
			}
			// River's migrations cannot share one transaction (one adds an
			// enum value the next uses), so a session lock on a connection
			// of its own guards them while they run on others.
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return fmt.Errorf("connect: %w", err)
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, int32(lockRiverMigrate)); err != nil {
				return fmt.Errorf("take the migration lock: %w", err)
			}
			defer func() {
				uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, int32(lockRiverMigrate)); err != nil {
					// Closing the connection releases the lock.
					conn.Conn().Close(uctx)
				}
			}()
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
			return err
		},
		client: func(cfg *river.Config) (riverClient, error) { return river.NewClient(drv, cfg) },
		interpret: func(err error) error {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "53100" { // disk_full
				return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
			}
			return err
		},
		leader: func(ctx context.Context) (bool, error) {
			var ok bool
			err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_leader WHERE expires_at > now())`).Scan(&ok)
			return ok, err
		},
	}
}
