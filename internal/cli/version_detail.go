package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/apitypes/storeconv"
	"github.com/mlserve/mlserve/internal/app"
)

// showVersion prints one version in full (`models PIPELINE --version V`).
func showVersion(ctx context.Context, g *globals, a *app.App, pipeline string, want int, asJSON bool) error {
	if _, err := a.MustPipeline(pipeline); err != nil {
		return err
	}
	v, err := pickVersion(ctx, a.Store, pipeline, want)
	if err != nil {
		return err
	}
	m, err := a.Registry.Load(ctx, v)
	if err != nil {
		return fmt.Errorf("%w; `mlserve models %s` still lists the version", err, pipeline)
	}
	d := storeconv.VersionDetail(v, m)
	if asJSON {
		return printJSON(g.env.Stdout, d)
	}
	printVersionDetail(g.env.Stdout, d)
	return nil
}

// shown is how many features the human view lists.
const shown = 15

func printVersionDetail(w io.Writer, d *apitypes.VersionDetail) {
	fmt.Fprintf(w, "%s v%d: %s, %s\n", d.Pipeline, d.Version.Version, d.State, d.Algorithm)
	if d.Reason != "" {
		fmt.Fprintf(w, "  reason:    %s\n", d.Reason)
	}
	fmt.Fprintf(w, "  metrics:   %s\n", formatMetrics(d.Metrics))
	fmt.Fprintf(w, "  data:      %d rows up to batch %d (sha256 %s)\n", d.DataRows, d.DataWatermark, d.DataSHA256)
	fmt.Fprintf(w, "  artifact:  sha256 %s (`mlserve export %s %d -o FILE` writes it)\n", d.ArtifactSHA256, d.Pipeline, d.Version.Version)
	fmt.Fprintf(w, "  created:   %s\n", d.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	if l := d.Lineage; l != nil {
		fmt.Fprintf(w, "  trained:   %d rows, holdout %d (%s), seed %d, mlserve %s\n", l.TrainRows, l.HoldoutRows, l.Holdout, l.Seed, l.Mlserve)
	}
	if len(d.Params) > 0 {
		fmt.Fprintln(w, "  params:")
		for _, k := range sortedKeys(d.Params) {
			fmt.Fprintf(w, "    %s: %v\n", k, d.Params[k])
		}
	}
	if len(d.FeatureImportance) > 0 {
		fmt.Fprintln(w, "  feature importance (share of split gain):")
		printTop(w, d.FeatureImportance, "%.4f")
	}
	for _, c := range d.Coefficients {
		what := "coefficients"
		if c.Class != "" {
			what += " for class " + c.Class
		}
		fmt.Fprintf(w, "  %s (standardised features; intercept %.4f):\n", what, c.Intercept)
		printTop(w, c.Weights, "%+.4f")
	}
	fmt.Fprintln(w, "  training statistics: --json shows them")
}

// printTop lists the largest values of m by size, at most shown of them.
func printTop(w io.Writer, m map[string]float64, format string) {
	keys := sortedKeys(m)
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(math.Abs(m[b]), math.Abs(m[a])) })
	for i, k := range keys {
		if i == shown {
			fmt.Fprintf(w, "    … and %d more (--json lists them)\n", len(keys)-shown)
			break
		}
		fmt.Fprintf(w, "    %-30s "+format+"\n", k, m[k])
	}
}
