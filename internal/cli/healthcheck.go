package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd is a probe for container healthchecks: the final image
// has no shell, curl or wget, so the binary checks its own role's health.
func newHealthcheckCmd(g *globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck URL",
		Short: "GET a health URL (e.g. http://127.0.0.1:1234/readyz); exit 0 on a 2xx answer, else 1",
		Long: `healthcheck is for container healthchecks (the image has no shell or curl):

  mlserve healthcheck http://127.0.0.1:1234/readyz

It sends one GET and succeeds on any 2xx status. Anything else (another
status, no answer within --timeout) fails with one line saying what happened.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("healthcheck URL %q: want http://host:port/path, e.g. http://127.0.0.1:1234/readyz", args[0])
			}
			if timeout <= 0 {
				return usagef("--timeout must be positive")
			}
			client := &http.Client{Timeout: timeout}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u.String(), nil)
			if err != nil {
				return usagef("healthcheck URL %q: %v", args[0], err)
			}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("healthcheck %s: %w", u.Redacted(), err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				return fmt.Errorf("healthcheck %s answered %s: %s", u.Redacted(), resp.Status, strings.Join(strings.Fields(string(body)), " "))
			}
			fmt.Fprintf(g.env.Stdout, "%s %s\n", u.Redacted(), resp.Status)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}
