// Package cli is mlserve's command line (cobra). Subcommands are grouped by
// what they touch, a file per group: up.go (up, the roles, migrate), data.go
// (ingest-file, predict), score.go (score), registry.go (train, runs, models, promote,
// rollback), schema.go (schema infer and check, init), fit.go, datafill.go
// and healthcheck.go. Each parses its flags, calls internal/app and prints
// for people or, with --json, one JSON document; progress.go draws progress
// on a terminal.
package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mlserve/mlserve/internal/app"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/version"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// usageError marks a mistake in how a command was called (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// Env is what a command sees of the process: arguments, streams and the
// environment. Tests pass their own.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// globals are the flags every command takes.
type globals struct {
	env       Env
	config    string
	dataDir   string
	logLevel  string
	logFormat string
}

// Main runs the command line and returns the exit code.
func Main(e Env) int {
	g := &globals{env: e}
	root := newRoot(g)
	root.SetArgs(e.Args)
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || isFlagError(err) {
		fmt.Fprintf(e.Stderr, "mlserve: %v\nrun `mlserve help` for usage\n", err)
		return ExitUsage
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "\n  ")
	fmt.Fprintf(e.Stderr, "mlserve: %s\n", msg)
	return ExitFail
}

// isFlagError recognises cobra's and pflag's usage errors.
func isFlagError(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires exactly", "requires at most", "if any flags in the group"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "mlserve",
		Short:         "A database table in, a live, continuously retrained prediction API out",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `mlserve checks and stores incoming rows, retrains when data arrives and on a
schedule, keeps every model version in a registry, promotes a version only when
it beats production, and serves production over HTTP.

Start with:  mlserve up --demo       (built-in titanic example, serves on :1234)
Your data:   mlserve init --csv data.csv --target COL --name NAME && mlserve up`,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.config, "config", "mlserve.yaml", "pipeline file")
	pf.StringVar(&g.dataDir, "data-dir", "", "folder of the embedded database and artifacts (default .mlserve beside the pipeline file)")
	pf.StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn, error (default $"+config.EnvLogLevel+" or info)")
	pf.StringVar(&g.logFormat, "log-format", "", "log format: auto (text on a terminal, else JSON), json, text (default $"+config.EnvLogFormat+" or auto)")
	root.AddCommand(
		newUpCmd(g), newRoleCmd(g, "api"), newRoleCmd(g, "trainer"), newRoleCmd(g, "ingest"),
		newDatafillCmd(g), newInitCmd(g), newMigrateCmd(g), newSchemaCmd(g),
		newIngestFileCmd(g), newTrainCmd(g), newRunsCmd(g), newModelsCmd(g),
		newPromoteCmd(g), newRollbackCmd(g), newPredictCmd(g), newScoreCmd(g), newFitCmd(g),
		newHealthcheckCmd(g), newApplyCmd(g), newTokenCmd(g), newCheckCmd(g),
		newQuarantineCmd(g), newPromotionsCmd(g), newExportCmd(g),
	)
	return root
}

// logger builds the process logger on stderr: --log-level and
// --log-format, else MLSERVE_LOG_LEVEL and MLSERVE_LOG_FORMAT, else info
// and auto.
func (g *globals) logger() (*slog.Logger, error) {
	level, levelFrom := g.logLevel, "--log-level"
	if level == "" {
		level, levelFrom = strings.TrimSpace(g.env.Getenv(config.EnvLogLevel)), config.EnvLogLevel
	}
	if level == "" {
		level = "info"
	}
	format, formatFrom := g.logFormat, "--log-format"
	if format == "" {
		format, formatFrom = strings.TrimSpace(g.env.Getenv(config.EnvLogFormat)), config.EnvLogFormat
	}
	if format == "" {
		format = "auto"
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("%s %q: use debug, info, warn or error", levelFrom, level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	jsonOpts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: durationSeconds}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(g.env.Stderr, jsonOpts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(g.env.Stderr, opts)), nil
	case "auto":
		if isTerminal(g.env.Stderr) {
			return slog.New(slog.NewTextHandler(g.env.Stderr, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(g.env.Stderr, jsonOpts)), nil
	}
	return nil, usagef("%s %q: use auto, json or text", formatFrom, format)
}

// quietLogger logs warnings and errors only: for one-shot commands whose
// output is their answer.
func (g *globals) quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(g.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// resolvedEnv reads the environment and fills embedded defaults from
// --data-dir, which defaults to the folder beside the pipeline file.
func (g *globals) resolvedEnv() (config.Env, error) {
	return config.FromEnv(g.env.Getenv).Resolve(cmp.Or(g.dataDir, config.DataDirBeside(g.config)))
}

// open opens the App for a command that only reads: the database's specs
// are used, the pipeline file only names the pipelines.
func (g *globals) open(ctx context.Context, logger *slog.Logger, file *config.File) (*app.App, error) {
	return g.openWith(ctx, logger, app.Options{File: file})
}

// openApply opens the App for a command that writes to a pipeline: the
// pipeline file's specs are applied first where they differ, and it says
// so on stderr when an existing pipeline's spec changed (the first version
// of a new pipeline is what its first command expects, and goes unsaid).
func (g *globals) openApply(ctx context.Context, logger *slog.Logger, file *config.File) (*app.App, error) {
	a, err := g.openWith(ctx, logger, app.Options{File: file, Apply: true})
	if err != nil {
		return nil, err
	}
	for _, r := range a.Applied {
		if r.From == 0 {
			continue
		}
		fmt.Fprintf(g.env.Stderr, "%s: %s\n", g.config, r)
	}
	return a, nil
}

// openPipeline is open for a command about one pipeline: it fails, naming
// the pipelines there are, when name is not one of them. The caller closes
// the App.
func (g *globals) openPipeline(ctx context.Context, name string) (*app.App, error) {
	a, err := g.open(ctx, nil, nil)
	return withPipeline(a, err, name)
}

// openApplyPipeline is openApply for a command that writes to one
// pipeline, checked as openPipeline checks it.
func (g *globals) openApplyPipeline(ctx context.Context, name string) (*app.App, error) {
	a, err := g.openApply(ctx, nil, nil)
	return withPipeline(a, err, name)
}

// withPipeline passes on an opened App that has the pipeline name, and
// closes it when it does not.
func withPipeline(a *app.App, err error, name string) (*app.App, error) {
	if err != nil {
		return nil, err
	}
	if _, err := a.MustPipeline(name); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (g *globals) openWith(ctx context.Context, logger *slog.Logger, o app.Options) (*app.App, error) {
	env, err := g.resolvedEnv()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = g.quietLogger()
	}
	o.ConfigPath, o.Env, o.Logger = g.config, env, logger
	return app.Open(ctx, o)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printJSON writes v as one indented JSON document.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// durationSeconds writes a duration as seconds (1.5) in JSON logs, which
// would otherwise give nanoseconds (1500000000); text logs keep "1.5s".
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	}
	return a
}
