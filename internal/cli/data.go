package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/api"
	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/rawcsv"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// formatOfPath picks a body format from a file name (CSV by default).
func formatOfPath(path, flag string) (ingest.Format, error) {
	switch flag {
	case "csv", "json", "ndjson":
		return ingest.Format(flag), nil
	case "":
	default:
		return "", usagef("--format %q: use csv, json or ndjson", flag)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return ingest.FormatJSON, nil
	case ".ndjson", ".jsonl":
		return ingest.FormatNDJSON, nil
	}
	return ingest.FormatCSV, nil
}

func openInput(g *globals, path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(g.env.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // an *fs.PathError: "open PATH: reason"
	}
	return f, nil
}

func newIngestFileCmd(g *globals) *cobra.Command {
	var asJSON bool
	var format, key, delimiter string
	var comma byte
	cmd := &cobra.Command{
		Use:   "ingest-file PIPELINE FILE.csv|-",
		Short: "Load rows from a file (or stdin) as one batch; prints accepted / rejected counts",
		Long: `ingest-file checks every row against the pipeline's schema and stores the
accepted rows as one batch in one transaction; rejected rows go to the
quarantine with their reasons. The format follows the file extension (.csv,
.json, .ndjson/.jsonl) or --format.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := formatOfPath(args[1], format)
			if err != nil {
				return err
			}
			a, err := g.openApplyPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			in, err := openInput(g, args[1])
			if err != nil {
				return err
			}
			defer in.Close()
			prog := newProgress(g.env.Stderr, "reading "+args[1])
			res, err := a.Ingest.Ingest(cmd.Context(), &ingest.Request{
				Pipeline: args[0], Format: f, Body: in, Source: "file:" + filepath.Base(args[1]),
				IdempotencyKey: key, Progress: prog.rows, Delimiter: comma,
			})
			prog.done()
			if err != nil {
				return ingestErr(err)
			}
			if asJSON {
				err = printJSON(g.env.Stdout, storeconv.IngestAnswer(res))
			} else {
				printBatch(g.env.Stdout, res, args[0])
			}
			if err == nil && res.Accepted == 0 && res.Rejected > 0 {
				err = fmt.Errorf("every row (%d) was rejected: none stored (they are in the quarantine with their reasons); fix the file or the schema and load it again", res.Rejected)
			}
			return err
		},
	}
	cmd.PreRunE = func(*cobra.Command, []string) error {
		var err error
		comma, err = parseDelimiter(delimiter)
		return err
	}
	cmd.Flags().StringVar(&delimiter, "delimiter", "", `the CSV's field delimiter: one of , ; | or "tab" (default: detected from the header)`)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the answer as JSON")
	cmd.Flags().StringVar(&format, "format", "", "csv, json or ndjson (default: from the file extension)")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "a key that makes a repeated load a no-op")
	return cmd
}

func ingestErr(err error) error {
	var bre *ingest.BadRequestError
	if errors.As(err, &bre) {
		return fmt.Errorf("%s; nothing was stored", bre.Msg)
	}
	if errors.Is(err, store.ErrIdempotencyMismatch) {
		return fmt.Errorf("%w: use a new --idempotency-key for different rows", err)
	}
	return err
}

func printBatch(w io.Writer, res *store.BatchResult, pipeline string) {
	if res.Replayed {
		fmt.Fprintf(w, "already loaded as batch %d (same idempotency key): nothing new stored\n", res.BatchID)
	}
	a := storeconv.IngestAnswer(res)
	fmt.Fprintf(w, "batch %d of %s: %s accepted, %d rejected\n", a.BatchID, pipeline, count(a.Accepted, "row"), a.Rejected)
	if len(a.IgnoredColumns) > 0 {
		fmt.Fprintf(w, "  ignored column(s) not in the schema: %s\n", strings.Join(a.IgnoredColumns, ", "))
	}
	printRejects(w, a.Errors, a.Rejected)
}

// count is n and noun, plural unless n is 1: "1 row", "2 rows".
func count[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// parseDelimiter reads --delimiter: "" (detect: 0), one of rawcsv's
// delimiters, or "tab".
func parseDelimiter(s string) (byte, error) {
	switch {
	case s == "":
		return 0, nil
	case s == "tab" || s == `\t`:
		return '\t', nil
	case len(s) == 1 && strings.Contains(rawcsv.Delimiters, s):
		return s[0], nil
	}
	return 0, usagef("--delimiter %q: want one of , ; | or tab", s)
}

func printRejects(w io.Writer, rejects []*apitypes.Reject, total int64) {
	const show = 10
	for i, r := range rejects {
		if i == show {
			fmt.Fprintf(w, "  … and %d more (--json lists them)\n", total-show)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", rowPlace(r.Row, r.Line), schema.FieldErrors(r.Fields).Error())
	}
}

// rowPlace names where a rejected row is: its file line (a CSV header is
// line 1), or, for rows quarantined before lines were kept, its 0-based
// data row index.
func rowPlace(row, line int) string {
	if line > 0 {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("data row %d", row)
}

func newPredictCmd(g *globals) *cobra.Command {
	var version int
	var explain bool
	cmd := &cobra.Command{
		Use:   "predict PIPELINE key=value ...",
		Short: "One prediction from the production model (or --version), no server needed",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw := map[string]schema.Raw{}
			for _, kv := range args[1:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usagef("%q: give features as column=value", kv)
				}
				raw[k] = schema.Raw{Text: v}
			}
			a, err := g.openPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			v, err := pickVersion(cmd.Context(), a.Store, args[0], version)
			if err != nil {
				return err
			}
			m, err := a.Registry.Load(cmd.Context(), v)
			if err != nil {
				return err
			}
			var pred artifact.Prediction
			var fe schema.FieldErrors
			if explain {
				if pred, fe, err = m.PredictExplained(raw); err != nil {
					return err
				}
			} else {
				pred, fe = m.Predict(raw)
			}
			if fe != nil {
				return fmt.Errorf("invalid input: %s", fe.Error())
			}
			return printJSON(g.env.Stdout, &api.PredictResponse{Model: args[0], Version: v.Version, Predictions: []artifact.Prediction{pred}})
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "use this version instead of production")
	cmd.Flags().BoolVar(&explain, "explain", false, "add each column's contribution to the raw score (explanation)")
	return cmd
}

func pickVersion(ctx context.Context, s store.Store, pipeline string, version int) (*store.Version, error) {
	if version > 0 {
		v, err := s.VersionGet(ctx, pipeline, version)
		if err != nil {
			return nil, registryErr(err)
		}
		return v, nil
	}
	v, err := s.VersionProduction(ctx, pipeline)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("pipeline %s has no production model yet: ingest rows, then `mlserve train %s --wait`", pipeline, pipeline)
	}
	return v, err
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
