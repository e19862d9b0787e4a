package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newExportCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export PIPELINE [VERSION] -o FILE",
		Short: "Write a version's model artifact (default: production) to a file, to keep or move the model",
		Long: `export writes a model version's artifact, byte for byte as the registry
stores it: its sha256 is the version's artifact_sha256. The artifact holds
the schema, the fitted encoder, the model, its metrics, training statistics
and lineage. -o - writes it to stdout.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("-o FILE is required (-o - writes to stdout)")
			}
			want := 0
			if len(args) == 2 {
				v, err := parseVersion(args[1])
				if err != nil {
					return err
				}
				want = v
			}
			a, err := g.openPipeline(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer a.Close()
			v, err := pickVersion(cmd.Context(), a.Store, args[0], want)
			if err != nil {
				return err
			}
			data, err := a.Registry.Artifact(cmd.Context(), v)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := g.env.Stdout.Write(data)
				return err
			}
			if err := writeFileAtomic(out, data); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "%s v%d: wrote %d bytes to %s (sha256 %s)\n", v.Pipeline, v.Version, len(data), out, v.ArtifactSHA256)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (- for stdout)")
	return cmd
}

// parseVersion reads a VERSION argument ("3" or "v3").
func parseVersion(s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimPrefix(s, "v"))
	if err != nil || v < 1 {
		return 0, usagef("VERSION %q must be a version number such as 3", s)
	}
	return v, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// folder, so path is never left half written.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
