package deps
import (
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riversqlite"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "modernc.org/sqlite"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/minio/minio-go/v7"
	_ "gonum.org/v1/gonum/optimize"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "go.yaml.in/yaml/v3"
	_ "github.com/robfig/cron/v3"
	_ "golang.org/x/term"
	_ "golang.org/x/sync/errgroup"
)
