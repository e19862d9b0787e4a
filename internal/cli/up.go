package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/app"
	"github.com/mlserve/mlserve/internal/config"
)

// DemoFile is the pipeline of `up --demo`: the titanic example, retrained
// every 200 new passengers after a 5 s debounce so that a user watching
// sees versions come.
func DemoFile() *config.File {
	f, err := config.Example("titanic")
	if err != nil {
		panic(err) // the built-in example always exists
	}
	p := &f.Pipelines[0]
	p.Train.OnNewRows = config.Ptr(200)
	p.Train.Debounce = config.Duration(5 * time.Second)
	return f
}

func newUpCmd(g *globals) *cobra.Command {
	var addr string
	var demo bool
	var rate float64
	var seed uint64
	cmd := &cobra.Command{
		Use:   "up [--demo]",
		Short: "Run every role (api, trainer, ingest) in one process",
		Long: `up runs the api, trainer and ingest roles in one process on one listener.

With --demo it needs no pipeline file: it runs the built-in titanic pipeline
with a synthetic passenger feed (seeded, survival odds of the real 1912
passengers), trains the first model as soon as there are enough rows, retrains
as rows arrive and serves at :1234. Its data lives in ./.mlserve/demo unless
--data-dir says otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := g.logger()
			if err != nil {
				return err
			}
			var file *config.File
			if demo {
				file = DemoFile()
				if g.dataDir == "" {
					g.dataDir = ".mlserve/demo"
				}
			}
			env, err := g.resolvedEnv()
			if err != nil {
				return err
			}
			source := ""
			if demo {
				source = "demo"
			}
			a, err := app.OpenWait(cmd.Context(), app.Options{ConfigPath: g.config, File: file, Env: env, Logger: logger,
				Apply: true, Source: source, Exclusive: true}, startPatience)
			if err != nil {
				return err
			}
			defer a.Close()
			o := app.ServeOptions{
				Roles: app.Roles{API: true, Trainer: true, Ingest: true},
				Addr:  pick(addr, env.AddrFor("up")),
			}
			if !demo {
				// Edits of the file are applied while up runs.
				o.WatchFile = g.config
			}
			if demo {
				o.Extra = func(ctx context.Context) error {
					return feed(ctx, a.Ingest, &feedOptions{pipeline: "titanic", rate: rate, seed: seed, source: "demo", logger: logger})
				}
				o.Ready = func(bound string) {
					fmt.Fprintf(g.env.Stderr, "\nmlserve demo: a synthetic passenger feed (%.0f rows/s) is filling pipeline titanic;\n"+
						"the first model trains at 50 rows, then a new version every 200 rows.\n"+
						"  curl 'http://%s/?class=1&sex=female&age=22&embarked=S'\n"+
						"  curl http://%s/v1/models/titanic/versions\n\n", rate, hostPort(bound), hostPort(bound))
				}
			}
			return a.Serve(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default $MLSERVE_ADDR or :1234)")
	cmd.Flags().BoolVar(&demo, "demo", false, "run the built-in titanic example with a synthetic feed")
	cmd.Flags().Float64Var(&rate, "rate", 20, "demo feed: rows per second")
	cmd.Flags().Uint64Var(&seed, "seed", 1912, "demo feed: random seed")
	return cmd
}

// startPatience is how long a role waits at start for an unreachable
// database or object store.
const startPatience = time.Minute

func newRoleCmd(g *globals, role string) *cobra.Command {
	var addr string
	short := map[string]string{
		"api":     "Run the api role: predictions, registry routes, hot reload (default :1234)",
		"trainer": "Run the trainer role: training jobs, schedules, new-rows trigger (health and metrics on :1236)",
		"ingest":  "Run the ingest role: POST /v1/datasets/{name}/rows (default :1235)",
	}
	cmd := &cobra.Command{
		Use:   role,
		Short: short[role],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := g.logger()
			if err != nil {
				return err
			}
			env, err := g.resolvedEnv()
			if err != nil {
				return err
			}
			a, err := app.OpenWait(cmd.Context(), app.Options{ConfigPath: g.config, Env: env, Logger: logger, Apply: true, Exclusive: true}, startPatience)
			if err != nil {
				return err
			}
			defer a.Close()
			roles := app.Roles{API: role == "api", Trainer: role == "trainer", Ingest: role == "ingest"}
			return a.Serve(cmd.Context(), app.ServeOptions{Roles: roles, Addr: pick(addr, env.AddrFor(role))})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default $MLSERVE_ADDR or the role's port)")
	return cmd
}

func newMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema (roles also do it at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := g.open(cmd.Context(), nil, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			fmt.Fprintln(g.env.Stdout, "database is up to date")
			return nil
		},
	}
}

func pick(flag, def string) string {
	if flag != "" {
		return flag
	}
	return def
}

// hostPort makes ":1234" or "[::]:1234" printable as localhost:1234.
func hostPort(addr string) string {
	for _, p := range []string{"[::]:", "0.0.0.0:", ":"} {
		if len(addr) > len(p) && addr[:len(p)] == p {
			return "localhost:" + addr[len(p):]
		}
	}
	return addr
}
