package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
)

func newPromotionsCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "promotions PIPELINE [--json]",
		Short: "Show the promotion log, newest first: who or what changed production, when, from which version to which, why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.openPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			ps, err := a.Store.PromotionList(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			list := storeconv.PromotionList(ps)
			if asJSON {
				return printJSON(g.env.Stdout, list)
			}
			if len(list.Promotions) == 0 {
				fmt.Fprintf(g.env.Stdout, "%s has no promotions yet: the first version that passes the gate becomes production\n", args[0])
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "WHEN\tACTION\tFROM\tTO\tBY\tREASON")
			for _, p := range list.Promotions {
				fmt.Fprintf(tw, "%s\t%s\t%s\tv%d\t%s\t%s\n", p.CreatedAt.Local().Format("2006-01-02 15:04:05"), p.Action,
					versionOrNone(p.FromVersion), p.ToVersion, p.Actor, truncate(p.Reason, 100))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"promotions": [...]} as JSON`)
	return cmd
}
