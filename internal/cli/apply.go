package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/config"
	"github.com/mlserve/mlserve/internal/spec"
)

func newApplyCmd(g *globals) *cobra.Command {
	var file string
	var diff, asJSON bool
	cmd := &cobra.Command{
		Use:   "apply [-f mlserve.yaml] [--diff]",
		Short: "Store the pipeline file's specs in the database; running roles follow them",
		Long: `apply validates the pipeline file and stores each pipeline whose spec differs
from the database's current one as its next spec version. Every running role
(api, trainer, ingest, up) follows the new version within seconds, without a
restart; the next training run uses it and records its number.

--diff stores nothing and prints what would change, field by field.
A change the stored data cannot follow (a column's type) is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file != "" {
				g.config = file
			}
			f, err := config.Load(g.config)
			if err != nil {
				return err
			}
			a, err := g.open(cmd.Context(), nil, f)
			if err != nil {
				return err
			}
			defer a.Close()
			res, err := spec.Apply(cmd.Context(), &spec.ApplyParams{Store: a.Store, File: f, Source: "apply:" + g.config, DryRun: diff})
			if err != nil {
				return err
			}
			out := &apitypes.SpecApply{DryRun: diff, Pipelines: []*apitypes.SpecPipeline{}}
			for _, r := range res {
				sp := &apitypes.SpecPipeline{Pipeline: r.Pipeline, FromVersion: r.From, ToVersion: r.To, Changed: r.Changed(),
					Changes: []*apitypes.SpecChange{}}
				for _, c := range r.Changes {
					sp.Changes = append(sp.Changes, &apitypes.SpecChange{Path: c.Path, Old: c.Old, New: c.New})
				}
				out.Pipelines = append(out.Pipelines, sp)
			}
			if asJSON {
				return printJSON(g.env.Stdout, out)
			}
			for _, r := range res {
				switch {
				case !r.Changed():
					fmt.Fprintf(g.env.Stdout, "pipeline %s: spec v%d unchanged\n", r.Pipeline, r.To)
					continue
				case diff && r.From == 0:
					fmt.Fprintf(g.env.Stdout, "pipeline %s: new, would be stored as spec v%d\n", r.Pipeline, r.To)
				case diff:
					fmt.Fprintf(g.env.Stdout, "pipeline %s: spec v%d → v%d would change:\n", r.Pipeline, r.From, r.To)
				case r.From == 0:
					fmt.Fprintf(g.env.Stdout, "pipeline %s: stored as spec v%d\n", r.Pipeline, r.To)
				default:
					fmt.Fprintf(g.env.Stdout, "pipeline %s: spec v%d → v%d:\n", r.Pipeline, r.From, r.To)
				}
				if r.From == 0 {
					continue
				}
				for _, c := range r.Changes {
					fmt.Fprintf(g.env.Stdout, "  %s\n", c)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "pipeline file to apply (default --config)")
	cmd.Flags().BoolVar(&diff, "diff", false, "store nothing; print what would change, field by field")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"dry_run\", \"pipelines\": [...]} as JSON")
	return cmd
}
