package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/score"
)

func newScoreCmd(g *globals) *cobra.Command {
	var version int
	var output, format string
	var copyOnly bool
	cmd := &cobra.Command{
		Use:   "score PIPELINE FILE.csv|- [-o OUT.csv] [--version V]",
		Short: "Score a file of rows with the production model (or --version): its columns plus the predictions",
		Long: `score predicts every row of a CSV file (or NDJSON, by extension or --format)
with the pipeline's production model, or --version, loaded from the registry:
no server is needed. It writes the file's columns, then label and p_<class>
for each class (classification) or value (regression), then error: a row that
fails validation gets its reason there and no prediction, and the other rows
are scored. Columns that are not features of the model (an id, the target)
are copied through. Rows are read, scored on every core and written a chunk
at a time, in input order, so memory does not grow with the file.

The answers go to -o (written whole or not at all) or to stdout; progress
and the summary (rows, errors, rows/s) go to stderr. It exits 1 when every
row failed.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := formatOfPath(args[1], format)
			if err != nil {
				return err
			}
			var sf score.Format
			switch f {
			case ingest.FormatCSV:
				sf = score.CSV
			case ingest.FormatNDJSON:
				sf = score.NDJSON
			default:
				return usagef("score reads CSV or NDJSON (one object per line), not a JSON array: use --format csv or ndjson")
			}
			if output != "" && args[1] != "-" && sameFile(args[1], output) {
				return usagef("-o %s is the input file: write the answers to another file", output)
			}
			run := func(in io.Reader, out io.Writer, o score.Options) (*score.Summary, error) {
				return score.Copy(ctx, in, out, o)
			}
			what := "copied"
			if !copyOnly {
				a, err := g.openPipeline(ctx, args[0])
				if err != nil {
					return err
				}
				defer a.Close()
				v, err := pickVersion(ctx, a.Store, args[0], version)
				if err != nil {
					return err
				}
				m, err := a.Registry.Load(ctx, v)
				if err != nil {
					return err
				}
				run = func(in io.Reader, out io.Writer, o score.Options) (*score.Summary, error) {
					o.Format = sf
					return score.Stream(ctx, m, in, out, o)
				}
				what = fmt.Sprintf("scored with %s v%d", args[0], v.Version)
			}
			in, err := openInput(g, args[1])
			if err != nil {
				return err
			}
			defer in.Close()
			out, commit, err := openOutput(g, output)
			if err != nil {
				return err
			}
			defer commit(false)
			prog := newProgress(g.env.Stderr, "scoring "+args[1])
			start := time.Now()
			sum, err := run(in, out, score.Options{Progress: func(n int64) {
				prog.status(fmt.Sprintf("%d rows, %s rows/s", n, rate(n, time.Since(start))))
			}})
			prog.done()
			if err != nil {
				var bad *score.BadInputError
				if errors.As(err, &bad) {
					return fmt.Errorf("%s: %s", args[1], bad.Msg)
				}
				return err
			}
			if err := commit(true); err != nil {
				return err
			}
			printScoreSummary(g.env.Stderr, sum, what, args[1], output, time.Since(start))
			if sum.Rows > 0 && sum.Errors == sum.Rows {
				return fmt.Errorf("every row failed validation: the error column says why")
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "use this version instead of production")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the answers to this file instead of stdout")
	cmd.Flags().StringVar(&format, "format", "", "csv or ndjson (default: from the file extension)")
	cmd.Flags().BoolVar(&copyOnly, "copy-only", false, "read and write the file without a model (the baseline of bench/score)")
	cmd.Flags().MarkHidden("copy-only")
	return cmd
}

// sameFile reports whether two paths name one existing file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// openOutput opens the answers' destination: stdout, or a temporary file
// beside path that commit(true) renames to path; commit(false) removes it
// unless committed.
func openOutput(g *globals, path string) (io.Writer, func(ok bool) error, error) {
	if path == "" {
		return g.env.Stdout, func(bool) error { return nil }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, nil, fmt.Errorf("create output: %w", err)
	}
	done := false
	return f, func(ok bool) error {
		if done {
			return nil
		}
		done = true
		if !ok {
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		if err := f.Close(); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.Rename(f.Name(), path); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}, nil
}

// rate formats n per d as a rounded rate.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	r := float64(n) / d.Seconds()
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e4:
		return fmt.Sprintf("%.0fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

func printScoreSummary(w io.Writer, s *score.Summary, what, input, output string, d time.Duration) {
	dest := "stdout"
	if output != "" {
		dest = output
	}
	fmt.Fprintf(w, "%s: %d %s %s, %d %s, in %.2f s (%s rows/s) → %s\n",
		input, s.Rows, plural(s.Rows, "row", "rows"), what, s.Errors, plural(s.Errors, "error", "errors"),
		d.Seconds(), rate(s.Rows, d), dest)
	if s.Errors > 0 {
		fmt.Fprintln(w, "  rows with an error have no prediction; the error column says why")
	}
	if len(s.Ignored) > 0 {
		fmt.Fprintf(w, "  not used by the model (CSV columns are copied through): %s\n", strings.Join(s.Ignored, ", "))
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
