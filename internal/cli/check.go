package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/config"
)

func newCheckCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check PIPELINE [--json]",
		Short: "Run a pipeline's data checks on its current data without training",
		Long: `check compares the pipeline's current data with the production version's
training statistics, as the next training run would (the pipeline's checks:
section), and prints each check. It exits 1 when a block check fails: the
next run would fail with data_check.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := g.open(ctx, nil, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := a.MustPipeline(args[0])
			if err != nil {
				return err
			}
			rep, err := a.Runner().CheckCurrent(ctx, p)
			if err != nil {
				return err
			}
			out := &apitypes.CheckAnswer{Pipeline: p.Name, Rows: rep.Rows, Baseline: rep.Baseline, Checks: []apitypes.CheckResult{}}
			for _, c := range rep.Checks {
				out.Checks = append(out.Checks, apitypes.CheckResult(c))
			}
			blocked := len(rep.Failed(config.SeverityBlock))
			out.Blocked = blocked > 0
			if asJSON {
				if err := printJSON(g.env.Stdout, out); err != nil {
					return err
				}
			} else {
				printChecks(g, out)
			}
			if blocked > 0 {
				return fmt.Errorf("%d block data check(s) failed: the next training run of %s would fail with data_check", blocked, p.Name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checks as JSON")
	return cmd
}

func printChecks(g *globals, out *apitypes.CheckAnswer) {
	w := g.env.Stdout
	if out.Baseline == 0 {
		fmt.Fprintf(w, "%s: %d rows; no production version to compare with\n", out.Pipeline, out.Rows)
	} else {
		fmt.Fprintf(w, "%s: %d rows against v%d's training statistics\n", out.Pipeline, out.Rows, out.Baseline)
	}
	if len(out.Checks) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tCHECK\tSEVERITY\tRESULT\tEXPECTED\tSEEN")
	for _, c := range out.Checks {
		col, res := c.Column, "ok"
		if col == "" {
			col = "(rows)"
		}
		if !c.Passed {
			res = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", col, c.Check, c.Severity, res, c.Expected, c.Seen)
	}
	tw.Flush()
}
