package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/rawcsv"
	"github.com/mlserve/mlserve/internal/schema"
)

// csvFile is a CSV read whole: its header and well-formed records.
type csvFile struct {
	header  []string
	records [][]string
	bad     int // malformed records (broken quotes, over-long lines)
}

// readCSV reads a whole CSV file, showing progress on a terminal.
func readCSV(g *globals, path string) (*csvFile, error) {
	in, err := openInput(g, path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	prog := newProgress(g.env.Stderr, "reading "+path)
	defer prog.done()
	rd := rawcsv.NewReader(in)
	hdr, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is empty: expected a header line naming the columns", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if hdr.Err != nil {
		// hdr.Err is a *rawcsv.ParseError, which names its line and column.
		return nil, fmt.Errorf("%s: header: %v", path, hdr.Err)
	}
	f := &csvFile{header: append([]string(nil), hdr.Fields...)}
	for i := range f.header {
		f.header[i] = strings.TrimSpace(strings.TrimPrefix(f.header[i], "\ufeff"))
	}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if rec.Err != nil {
			f.bad++
			continue
		}
		f.records = append(f.records, append([]string(nil), rec.Fields...))
		if len(f.records)%50000 == 0 {
			prog.rows(len(f.records))
		}
	}
	return f, nil
}

func (f *csvFile) seq() iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		for _, r := range f.records {
			if !yield(r) {
				return
			}
		}
	}
}

// inferFile infers a schema from a CSV; an empty target means the last
// column. Warnings about the whole file go to stderr too.
func inferFile(g *globals, path, target, bounds string) (*csvFile, schema.Schema, *schema.InferReport, error) {
	b, err := schema.ParseBounds(bounds)
	if err != nil {
		return nil, schema.Schema{}, nil, usagef("--bounds: %v", err)
	}
	f, err := readCSV(g, path)
	if err != nil {
		return nil, schema.Schema{}, nil, err
	}
	if target == "" {
		target = f.header[len(f.header)-1]
		fmt.Fprintf(g.env.Stderr, "mlserve: no --target given; using the last column %q\n", target)
	}
	s, rep, err := schema.Infer(f.header, f.seq(), schema.InferOptions{Target: target, Bounds: b})
	if err != nil {
		return nil, schema.Schema{}, nil, fmt.Errorf("infer schema of %s: %w", path, err)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(g.env.Stderr, "mlserve: warning: %s: %s\n", path, w)
	}
	return f, s, rep, nil
}

// pipelineFile renders an inferred schema as a pipeline file with a
// commented report on top: per column, why it got its type and what was
// seen (range, missing rate, distinct values), which the schema does not
// enforce unless bounds were asked for.
func pipelineFile(name, path string, s schema.Schema, rep *schema.InferReport, bounds string) ([]byte, error) {
	p := config.Pipeline{Name: name, Schema: s}
	f := (&config.File{Pipelines: []config.Pipeline{p}}).WithDefaults()
	data, err := config.Marshal(f)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Inferred by `mlserve schema infer` from %s (%d rows", filepath.Base(path), rep.Rows)
	if rep.Skipped > 0 {
		fmt.Fprintf(&b, ", %d ragged rows skipped", rep.Skipped)
	}
	b.WriteString("). Check it, then edit:\n")
	for _, w := range rep.Warnings {
		fmt.Fprintf(&b, "# WARNING: %s\n", w)
	}
	fmt.Fprintf(&b, "# Bounds: %s", cmp.Or(bounds, string(schema.BoundsNone)))
	switch schema.Bounds(cmp.Or(bounds, string(schema.BoundsNone))) {
	case schema.BoundsNone:
		b.WriteString(" (the ranges seen below are not enforced; add min/max to enforce one)")
	case schema.BoundsPhysical:
		b.WriteString(" (min: 0 on columns never negative; other ranges seen are not enforced)")
	case schema.BoundsObserved:
		b.WriteString(" (min/max are the extremes seen: values beyond them will be rejected)")
	}
	b.WriteString(".\n# Categories with values take unknown: other (a label not listed is encoded as\n# other); set unknown: reject to refuse such a row instead.\n")
	for _, c := range rep.Columns {
		fmt.Fprintf(&b, "#   %-16s %s: %s; %s", c.Name, c.Type, c.Reason, c.Seen(rep.Rows))
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "; %s", n)
		}
		b.WriteString("\n")
	}
	b.Write(data)
	return b.Bytes(), nil
}

// boundsUsage describes --bounds.
const boundsUsage = "min/max on number and integer columns: none (accept any value), physical (min 0 on columns never negative) or observed (the extremes seen)"

func newSchemaCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "schema", Short: "Infer a schema from a CSV, or check a CSV against a pipeline"}
	var target, name, bounds string
	infer := &cobra.Command{
		Use:   "infer FILE.csv [--target COL] [--bounds none|physical|observed]",
		Short: "Print a pipeline (YAML) whose schema is inferred from the data",
		Long: `infer reads the whole file and proposes column types (number, integer,
boolean, timestamp, category), category values (when few, with unknown: other),
and nullable (when values are missing). It writes no min/max unless --bounds
asks (physical: min 0 on columns never negative; observed: the extremes seen);
the comment above the pipeline says what each column held. Identifier-like and
free-text columns are marked ignore: true. Without --target the last column is
the target.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, s, rep, err := inferFile(g, args[0], target, bounds)
			if err != nil {
				return err
			}
			pname := name
			if pname == "" {
				pname = config.FixName(strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0])))
			}
			data, err := pipelineFile(pname, args[0], s, rep, bounds)
			if err != nil {
				return err
			}
			_, err = g.env.Stdout.Write(data)
			return err
		},
	}
	infer.Flags().StringVar(&target, "target", "", "the column to predict (default: the last column)")
	infer.Flags().StringVar(&name, "name", "", "pipeline name (default: from the file name)")
	infer.Flags().StringVar(&bounds, "bounds", "none", boundsUsage)

	var asJSON bool
	check := &cobra.Command{
		Use:   "check PIPELINE FILE.csv",
		Short: "Report which rows of a file would be rejected and why (stores nothing)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := formatOfPath(args[1], "")
			if err != nil {
				return err
			}
			a, err := g.openPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			in, err := openInput(g, args[1])
			if err != nil {
				return err
			}
			defer in.Close()
			res, err := a.Ingest.Check(cmd.Context(), &ingest.Request{Pipeline: args[0], Format: f, Body: in})
			if err != nil {
				return ingestErr(err)
			}
			report := storeconv.CheckReport(res)
			if asJSON {
				return printJSON(g.env.Stdout, report)
			}
			fmt.Fprintf(g.env.Stdout, "%s against %s: %d rows would be accepted, %d rejected\n", args[1], args[0], report.Accepted, report.Rejected)
			printRejects(g.env.Stdout, report.Errors, report.Rejected)
			return nil
		},
	}
	check.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.AddCommand(infer, check)
	return cmd
}

func newInitCmd(g *globals) *cobra.Command {
	var example, csvPath, target, name, bounds string
	var force bool
	cmd := &cobra.Command{
		Use:   "init [--example titanic] | init --csv FILE --target COL --name P",
		Short: "Write a pipeline file (mlserve.yaml): the titanic example, or one inferred from a CSV",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := g.config
			if !force && fileExists(out) {
				return fmt.Errorf("%s exists; pass --force to overwrite it or --config to write another file", out)
			}
			var data []byte
			if csvPath != "" {
				if example != "" {
					return usagef("give either --example or --csv, not both")
				}
				if target == "" {
					return usagef("--csv needs --target COL (the column to predict)")
				}
				if name == "" {
					name = config.FixName(strings.TrimSuffix(filepath.Base(csvPath), filepath.Ext(csvPath)))
				}
				if !config.ValidName(name) {
					return usagef("--name %q must match [a-z][a-z0-9_]{0,62}; for example %q", name, config.FixName(name))
				}
				_, s, rep, err := inferFile(g, csvPath, target, bounds)
				if err != nil {
					return err
				}
				if data, err = pipelineFile(name, csvPath, s, rep, bounds); err != nil {
					return err
				}
			} else {
				if example == "" {
					example = "titanic"
				}
				f, err := config.Example(example)
				if err != nil {
					return usagef("%v", err)
				}
				if data, err = config.Marshal(f); err != nil {
					return err
				}
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(g.env.Stdout, "wrote %s; next: `mlserve up`, then load rows with `mlserve ingest-file PIPELINE FILE.csv`\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&example, "example", "", "write a built-in example: titanic")
	cmd.Flags().StringVar(&csvPath, "csv", "", "infer the schema from this CSV file")
	cmd.Flags().StringVar(&target, "target", "", "with --csv: the column to predict")
	cmd.Flags().StringVar(&name, "name", "", "with --csv: the pipeline name (default: from the file name)")
	cmd.Flags().StringVar(&bounds, "bounds", "none", "with --csv: "+boundsUsage)
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
