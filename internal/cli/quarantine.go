package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/schema"
)

func newQuarantineCmd(g *globals) *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "quarantine PIPELINE [--json] [--limit N] | quarantine replay PIPELINE",
		Short: "Show rejected rows, newest first: batch, line, raw row, reasons",
		Long: `quarantine lists the rows a pipeline's ingest rejected, newest first, with
their batch, their line in the file or body (a CSV header is line 1), the row
as received and why it was rejected. "quarantine replay PIPELINE" checks them
against the current schema again and moves those that now pass into a new
batch, once.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > ingest.MaxQuarantineLimit {
				return usagef("--limit %d: must be from 1 to %d", limit, ingest.MaxQuarantineLimit)
			}
			a, err := g.openPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			page, err := a.Ingest.Quarantine(cmd.Context(), args[0], limit, 0)
			if err != nil {
				return err
			}
			out := storeconv.QuarantinePage(page.Rows, page.Next)
			if asJSON {
				return printJSON(g.env.Stdout, out)
			}
			return printQuarantine(g.env.Stdout, args[0], out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"rows": [...], "next_cursor"} as JSON`)
	cmd.Flags().IntVar(&limit, "limit", ingest.DefaultQuarantineLimit, "show at most this many rows")
	cmd.AddCommand(newReplayCmd(g))
	return cmd
}

func printQuarantine(w io.Writer, pipeline string, p *apitypes.QuarantinePage) error {
	if len(p.Rows) == 0 {
		fmt.Fprintf(w, "the quarantine of %s is empty: no row was rejected\n", pipeline)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BATCH\tLINE\tREPLAYED\tROW\tREASONS")
	for _, r := range p.Rows {
		line := "-"
		if r.Line > 0 {
			line = fmt.Sprint(r.Line)
		}
		moved := "-"
		if r.ReplayedBatchID != nil {
			moved = fmt.Sprintf("batch %d", *r.ReplayedBatchID)
		}
		raw := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(r.Raw)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.BatchID, line, moved, truncate(raw, 60), schema.FieldErrors(r.Reasons).Error())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.NextCursor != "" {
		fmt.Fprintf(w, "more rows: --limit shows more, --json and GET /v1/datasets/%s/quarantine?cursor=%s page on\n", pipeline, p.NextCursor)
	}
	return nil
}

func newReplayCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "replay PIPELINE",
		Short: "Check quarantined rows against the current schema (the pipeline file's, applied first) and move those that now pass into a new batch, once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.openApplyPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			res, err := a.Ingest.Replay(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.env.Stdout, res.Answer())
			}
			if res.Replayed == 0 {
				fmt.Fprintf(g.env.Stdout, "%s: no quarantined row passes the current schema (%d still rejected)\n", args[0], res.StillRejected)
				return nil
			}
			fmt.Fprintf(g.env.Stdout, "%s: %s now passing stored as batch %d; %d still rejected\n",
				args[0], countRows(res.Replayed, "quarantined row"), res.BatchID, res.StillRejected)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON")
	return cmd
}

// countRows says "1 quarantined row" or "2 quarantined rows".
func countRows(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
