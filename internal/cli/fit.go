package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/train"
)

// FitOutput is what `fit --json` prints.
type FitOutput struct {
	Metrics     map[string]float64 `json:"metrics"`
	FitSeconds  float64            `json:"fit_seconds"`
	TrainRows   int                `json:"train_rows"`
	HoldoutRows int                `json:"holdout_rows"`
	Algorithm   string             `json:"algorithm"`
	Params      ml.Params          `json:"params"`
	Task        ml.Task            `json:"task"`
	Rejected    int                `json:"rejected_rows"`
	Holdout     string             `json:"holdout"`
}

// parseParams turns k=v flags into params (values stay strings; the
// algorithm parses them).
func parseParams(kvs []string) (ml.Params, error) {
	p := ml.Params{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--param %q: write name=value, e.g. --param n_trees=200", kv)
		}
		p[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return p, nil
}

func newFitCmd(g *globals) *cobra.Command {
	var target, algorithm string
	var params []string
	var holdout, holdoutTail float64
	var seed int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fit FILE.csv --target COL [--algorithm A] [--param k=v …] [--holdout 0.2 | --holdout-tail 0.2]",
		Short: "Train on a CSV without any store and print holdout metrics and the fit time",
		Long: `fit infers a schema from the CSV, trains the algorithm on it and prints the
holdout metrics and the fit time (training only, not reading the CSV): try a
model before making it a pipeline. --holdout keeps a seeded random fraction of
rows for evaluation; --holdout-tail keeps the last fraction of rows instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return usagef("--target COL is required: the column to predict")
			}
			tail := cmd.Flags().Changed("holdout-tail")
			if tail && cmd.Flags().Changed("holdout") {
				return usagef("give either --holdout or --holdout-tail, not both")
			}
			frac := holdout
			if tail {
				frac = holdoutTail
			}
			if frac <= 0 || frac >= 1 {
				return usagef("the holdout fraction must be between 0 and 1, got %v", frac)
			}
			p, err := parseParams(params)
			if err != nil {
				return err
			}
			f, s, _, err := inferFile(g, args[0], target, "")
			if err != nil {
				return err
			}
			c, err := schema.Compile(s)
			if err != nil {
				return fmt.Errorf("inferred schema of %s: %w", args[0], err)
			}
			if algorithm == "" {
				algorithm = config.DefaultAlgorithm(config.TaskOf(s))
			}
			h, err := c.Header(f.header)
			if err != nil {
				return err
			}
			rows := make([]schema.Row, 0, len(f.records))
			slab := make([]schema.Value, len(f.records)*c.Len())
			rejected := f.bad
			for i, rec := range f.records {
				row, fe := h.Row(rec, slab[i*c.Len():(i+1)*c.Len()])
				if fe != nil {
					rejected++
					continue
				}
				rows = append(rows, row)
			}
			f.records = nil // let the text go before training
			if rejected > 0 {
				fmt.Fprintf(g.env.Stderr, "mlserve: %d rows do not fit the inferred schema and were left out\n", rejected)
			}
			prog := newProgress(g.env.Stderr, "fitting "+algorithm)
			res, err := train.Fit(cmd.Context(), &train.FitParams{
				Pipeline: "fit", Schema: c, Rows: rows, Algorithm: algorithm, Params: p,
				Seed: seed, Holdout: frac, HoldoutTail: tail, Progress: prog.stage,
			})
			prog.done()
			if err != nil {
				return err
			}
			out := &FitOutput{
				Metrics: res.Metrics, FitSeconds: res.FitSeconds, TrainRows: res.TrainRows, HoldoutRows: len(res.HoldoutRows),
				Algorithm: algorithm, Params: res.Params, Task: res.Model.Task(), Rejected: rejected, Holdout: res.Artifact.Lineage.Holdout,
			}
			if asJSON {
				return printJSON(g.env.Stdout, out)
			}
			fmt.Fprintf(g.env.Stdout, "%s (%s) on %s: %d training rows, %d holdout rows (%s), fit in %.3f s\n",
				algorithm, out.Task, args[0], out.TrainRows, out.HoldoutRows, out.Holdout, out.FitSeconds)
			for _, k := range sortedKeys(out.Metrics) {
				fmt.Fprintf(g.env.Stdout, "  %-9s %.4f\n", k, out.Metrics[k])
			}
			params, err := json.Marshal(out.Params) // a JSON object is YAML too: paste it into model.params
			if err != nil {
				return fmt.Errorf("print params: %w", err)
			}
			fmt.Fprintf(g.env.Stdout, "  params: %s\n", params)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "the column to predict")
	f.StringVar(&algorithm, "algorithm", "", "logistic, linear or gbdt (default: logistic for classes, linear for numbers)")
	f.StringArrayVar(&params, "param", nil, "algorithm param as name=value (repeatable)")
	f.Float64Var(&holdout, "holdout", 0.2, "fraction of rows held out at random (seeded)")
	f.Float64Var(&holdoutTail, "holdout-tail", 0.2, "fraction of rows held out from the end of the file")
	f.Int64Var(&seed, "seed", 42, "seed of the split and the algorithm")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
