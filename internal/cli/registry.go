package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/app"
	"github.com/mlserve/mlserve/internal/jobs"
	"github.com/mlserve/mlserve/internal/ml/metric"
	"github.com/mlserve/mlserve/internal/store"
)

func newTrainCmd(g *globals) *cobra.Command {
	var wait, work, asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "train PIPELINE [--wait [--work]]",
		Short: "Enqueue a training run (and with --wait, wait for it and print the outcome)",
		Long: `train enqueues a manual training run. With --wait it waits for the run to
finish; when no trainer is running it works the job itself. On the embedded
store (SQLite) it always does; on PostgreSQL it does when no trainer is
alive (River has no elected leader), and otherwise leaves the run to the
trainers. --work or --work=false decides instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if cmd.Flags().Changed("work") && !wait {
				return errors.New("--work needs --wait")
			}
			a, err := g.openApplyPipeline(ctx, args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			working := work
			if wait && !cmd.Flags().Changed("work") {
				// SQLite cannot tell (ErrUnknown): this process works the run.
				running, err := a.TrainerRunning(ctx)
				switch {
				case errors.Is(err, jobs.ErrUnknown):
					working = true
				case err != nil:
					return err
				case !running:
					working = true
					fmt.Fprintln(g.env.Stderr, "no trainer is running on this database: training the run here")
				}
			}
			q, err := a.Queue(app.QueueOptions{Work: working})
			if err != nil {
				return err
			}
			run, err := q.Enqueue(ctx, args[0], store.ReasonManual, 0)
			if err != nil {
				return err
			}
			switch {
			case run.Existing && run.Reason == store.ReasonNewRows:
				// Enqueue started it now: a manual run waits out no debounce.
				fmt.Fprintf(g.env.Stderr, "run %d (new rows) was already queued for %s, waiting out its debounce; joining it and starting it now\n",
					run.ID, run.Pipeline)
			case run.Existing:
				fmt.Fprintf(g.env.Stderr, "run %d (%s) was already queued for %s; joining it\n", run.ID, run.Reason, run.Pipeline)
			}
			if !wait {
				warnIfNoTrainer(ctx, g, a, run)
				if asJSON {
					return printJSON(g.env.Stdout, storeconv.Run(run))
				}
				fmt.Fprintf(g.env.Stdout, "run %d queued for %s; `mlserve runs %s` shows it\n", run.ID, run.Pipeline, run.Pipeline)
				return nil
			}
			if working {
				if err := q.Start(ctx); err != nil {
					return err
				}
				defer q.Stop(context.WithoutCancel(ctx))
			}
			prog := newProgress(g.env.Stderr, "training "+args[0])
			var stuck func(*store.Run) // only said when another process should take the run
			if !working {
				stuck = func(r *store.Run) {
					prog.done()
					fmt.Fprintf(g.env.Stderr, "run %d is still queued after %s: no trainer has taken it yet (are they busy, or stopped? `mlserve runs` shows the queue). --work makes this command train it.\n",
						r.ID, stuckAfter)
				}
			}
			fin, err := waitRun(ctx, a.Store, run.ID, timeout, prog, stuck)
			prog.done()
			if err != nil {
				return err
			}
			out := storeconv.Run(fin)
			if asJSON {
				return printJSON(g.env.Stdout, out)
			}
			printRun(g.env.Stdout, out)
			if fin.State == store.RunFailed {
				return fmt.Errorf("run %d failed: %s", fin.ID, fin.Error)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the run to finish")
	cmd.Flags().BoolVar(&work, "work", false, "with --wait, train the run in this process (default: when no trainer is running)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --wait, give up after this long (0: no limit)")
	return cmd
}

// stuckAfter is how long waitRun lets a run sit queued before it says so.
const stuckAfter = 10 * time.Second

// waitRun polls a run until it succeeded or failed for good.
// stuck, if not nil, is called once when the run is still queued after
// stuckAfter.
func waitRun(ctx context.Context, s store.Store, id int64, timeout time.Duration, prog *progress, stuck func(*store.Run)) (*store.Run, error) {
	start := time.Now()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		run, err := s.RunGet(ctx, id)
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if err == nil {
			if run.State == store.RunSucceeded || run.State == store.RunFailed {
				return run, nil
			}
			if stuck != nil && run.State == store.RunQueued && time.Since(start) >= stuckAfter {
				stuck(run)
				stuck = nil
			}
			msg := string(run.State)
			if run.Error != "" {
				msg += fmt.Sprintf(" (attempt %d failed: %s; retrying)", run.Attempt, run.Error)
			}
			prog.status(msg)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for run %d: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// specLabel prints a spec version: "v3", or "-" when none is recorded.
func specLabel(v int) string {
	if v == 0 {
		return "-"
	}
	return "v" + strconv.Itoa(v)
}

func printRun(w io.Writer, r *apitypes.Run) {
	fmt.Fprintf(w, "run %d (%s, %s, spec %s): %s", r.ID, r.Pipeline, r.Reason, specLabel(r.SpecVersion), r.State)
	if r.StartedAt != nil && r.FinishedAt != nil {
		fmt.Fprintf(w, " in %.1f s", r.FinishedAt.Sub(*r.StartedAt).Seconds())
	}
	fmt.Fprintln(w)
	if r.Message != "" {
		fmt.Fprintf(w, "  %s\n", r.Message)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}

func newRunsCmd(g *globals) *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "runs [PIPELINE]",
		Short: "List training runs, newest first: state, reason, duration, result",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context(), nil, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			p := ""
			if len(args) == 1 {
				if _, err := a.MustPipeline(args[0]); err != nil {
					return err
				}
				p = args[0]
			}
			stored, err := a.Store.RunList(cmd.Context(), &store.RunListParams{Pipeline: p, Limit: limit})
			if err != nil {
				return err
			}
			list := storeconv.RunList(stored)
			if asJSON {
				return printJSON(g.env.Stdout, list)
			}
			if len(list.Runs) == 0 {
				fmt.Fprintln(g.env.Stdout, "no training runs yet: `mlserve train PIPELINE --wait` starts one")
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPIPELINE\tSTATE\tREASON\tSPEC\tSTARTED\tDURATION\tVERSION\tRESULT")
			for _, r := range list.Runs {
				started, dur := "-", "-"
				if r.StartedAt != nil {
					started = r.StartedAt.Local().Format("2006-01-02 15:04:05")
					if r.FinishedAt != nil {
						dur = fmt.Sprintf("%.1fs", r.FinishedAt.Sub(*r.StartedAt).Seconds())
					}
				}
				v := "-"
				if r.Version > 0 {
					v = "v" + strconv.Itoa(r.Version)
				}
				result := r.Message
				if r.Error != "" {
					result = "error: " + r.Error
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Pipeline, r.State, r.Reason, specLabel(r.SpecVersion), started, dur, v, truncate(result, 90))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"runs\": [...]} as JSON")
	cmd.Flags().IntVar(&limit, "limit", 50, "show at most this many runs")
	return cmd
}

func newModelsCmd(g *globals) *cobra.Command {
	var asJSON bool
	var version string
	cmd := &cobra.Command{
		Use:   "models [PIPELINE [--version V]]",
		Short: "List model versions with metrics, data watermark and state; --version shows one in full",
		Long: `models lists the versions of every pipeline (or of PIPELINE), newest first.
With --version it shows one version in full: its algorithm and resolved
params, metrics, lineage, training statistics (with --json) and the feature
importances (gbdt) or coefficients (linear, logistic) of its model.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			want := 0
			if version != "" {
				if len(args) != 1 {
					return usagef("--version needs a PIPELINE")
				}
				v, err := parseVersion(version)
				if err != nil {
					return err
				}
				want = v
			}
			a, err := g.open(cmd.Context(), nil, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			if want > 0 {
				return showVersion(cmd.Context(), g, a, args[0], want, asJSON)
			}
			names := a.File.Names()
			if len(args) == 1 {
				if _, err := a.MustPipeline(args[0]); err != nil {
					return err
				}
				names = args[:1]
			}
			all := []*store.Version{}
			for _, n := range names {
				vs, err := a.Store.VersionList(cmd.Context(), n)
				if err != nil {
					return err
				}
				all = append(all, vs...)
			}
			list := storeconv.VersionList(all)
			if asJSON {
				return printJSON(g.env.Stdout, list)
			}
			if len(list.Versions) == 0 {
				fmt.Fprintln(g.env.Stdout, "no model versions yet: ingest rows, then `mlserve train PIPELINE --wait`")
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PIPELINE\tVERSION\tSTATE\tALGORITHM\tSPEC\tMETRICS\tROWS\tWATERMARK\tCREATED\tREASON")
			for _, v := range list.Versions {
				fmt.Fprintf(tw, "%s\tv%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", v.Pipeline, v.Version, v.State, v.Algorithm,
					specLabel(v.SpecVersion), formatMetrics(v.Metrics), v.DataRows, v.DataWatermark, v.CreatedAt.Local().Format("2006-01-02 15:04:05"), truncate(v.Reason, 70))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"versions\": [...]} (with --version: the version) as JSON")
	cmd.Flags().StringVar(&version, "version", "", "show this version of PIPELINE in full")
	return cmd
}

func formatMetrics(m map[string]float64) string {
	var parts []string
	for _, task := range []string{metric.TaskBinary, metric.TaskMulticlass, metric.TaskRegression} {
		for _, n := range metric.Names(task) {
			if v, ok := m[n]; ok && !strings.Contains(strings.Join(parts, " "), n+"=") {
				parts = append(parts, fmt.Sprintf("%s=%.4f", n, v))
			}
		}
	}
	return strings.Join(parts, " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func newPromoteCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "promote PIPELINE VERSION",
		Short: "Make a version production (one transaction, written to the promotion log)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := strconv.Atoi(strings.TrimPrefix(args[1], "v"))
			if err != nil || v < 1 {
				return usagef("VERSION %q must be a version number such as 3", args[1])
			}
			a, err := g.openPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := a.Registry.Promote(cmd.Context(), args[0], v, "cli", reason)
			if err != nil {
				return registryErr(err)
			}
			fmt.Fprintf(g.env.Stdout, "%s: production is now v%d (was %s)\n", p.Pipeline, p.ToVersion, versionOrNone(p.FromVersion))
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the promotion log")
	return cmd
}

func newRollbackCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "rollback PIPELINE",
		Short: "Return production to the version before the current one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.openPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := a.Registry.Rollback(cmd.Context(), args[0], "cli", reason)
			if err != nil {
				return registryErr(err)
			}
			fmt.Fprintf(g.env.Stdout, "%s: rolled back from v%d to v%d\n", p.Pipeline, p.FromVersion, p.ToVersion)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the promotion log")
	return cmd
}

func versionOrNone(v int) string {
	if v == 0 {
		return "none"
	}
	return "v" + strconv.Itoa(v)
}

func registryErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w; `mlserve models` lists the versions", err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w; `mlserve models` shows the states", err)
	}
	return err
}

// warnIfNoTrainer tells on stderr that a queued run waits for a trainer
// when none runs on the database (PostgreSQL: River has no leader), or
// when that cannot be told (the embedded store).
func warnIfNoTrainer(ctx context.Context, g *globals, a *app.App, run *store.Run) {
	running, err := a.TrainerRunning(ctx)
	switch {
	case errors.Is(err, jobs.ErrUnknown):
		fmt.Fprintf(g.env.Stderr, "note: unless `mlserve up` or `mlserve trainer` runs on this data dir, run %d stays queued until one starts; `mlserve train %s --wait` trains it here now\n", run.ID, run.Pipeline)
	case err == nil && !running:
		fmt.Fprintf(g.env.Stderr, "warning: no trainer is running on this database: run %d stays queued until one starts (`mlserve trainer` or `mlserve up`); `mlserve train %s --wait` trains it here now\n", run.ID, run.Pipeline)
	}
}
