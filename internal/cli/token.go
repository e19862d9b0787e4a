package cli

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/auth"
	"github.com/mlserve/mlserve/internal/store"
)

// tokenJSON is a token record as `token list --json` prints it; Token is
// set only by `token create`, the one time the token is shown.
type tokenJSON struct {
	Token     string     `json:"token,omitempty"`
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Pipeline  string     `json:"pipeline"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token create|list|revoke",
		Short: "Create, list and revoke scoped API tokens",
		Long: `Tokens are records in the database; only their sha256 is stored. Roles, each
including the ones before it: predict (predict, infer, read routes), ingest
(+ POST rows), operator (+ train, promote, rollback, read quarantine), admin
(+ everything else). --pipeline limits a token to one pipeline. A created or
revoked token takes effect on every replica within 5 s, without restart.`,
	}
	cmd.AddCommand(newTokenCreateCmd(g), newTokenListCmd(g), newTokenRevokeCmd(g))
	return cmd
}

// parseExpires reads --expires: a number of days ("90d") or a Go duration
// ("12h"), positive.
func parseExpires(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 && n <= 36500 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--expires %q: want a positive number of days (90d) or a duration (12h)", s)
}

// newToken returns a fresh token and its record id.
func newToken() (token, id string) {
	b := make([]byte, 32+6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "mls_" + base64.RawURLEncoding.EncodeToString(b[:32]), "tok_" + hex.EncodeToString(b[32:])
}

func newTokenCreateCmd(g *globals) *cobra.Command {
	var role, pipeline, expires, name string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --role predict|ingest|operator|admin [--pipeline P] [--expires 90d] [--name N]",
		Short: "Create a token and print it once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := auth.ParseRole(role); err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			if len(name) > 100 {
				return fmt.Errorf("--name: at most 100 characters, got %d", len(name))
			}
			var exp *time.Time
			if expires != "" {
				d, err := parseExpires(expires)
				if err != nil {
					return err
				}
				t := time.Now().UTC().Add(d).Truncate(time.Second)
				exp = &t
			}
			a, err := g.open(cmd.Context(), nil, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			if pipeline != "" {
				if _, err := a.MustPipeline(pipeline); err != nil {
					return fmt.Errorf("--pipeline: %w", err)
				}
			}
			tok, id := newToken()
			rec, err := a.Store.TokenCreate(cmd.Context(), &store.TokenCreateParams{ID: id, Hash: auth.Hash(tok), Name: name, Role: role, Pipeline: pipeline, ExpiresAt: exp})
			if err != nil {
				return err
			}
			out := tokenOut(rec)
			out.Token, out.CreatedAt = tok, nil
			if asJSON {
				return printJSON(g.env.Stdout, out)
			}
			fmt.Fprintln(g.env.Stdout, tok)
			fmt.Fprintf(g.env.Stderr, "token %s (role %s%s) created; it is shown only this once: send it as Authorization: Bearer <token>\n",
				id, role, map[bool]string{true: ", pipeline " + pipeline}[pipeline != ""])
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "predict, ingest, operator or admin (required)")
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "limit the token to this pipeline")
	cmd.Flags().StringVar(&expires, "expires", "", "lifetime: days (90d) or a duration (12h); default never")
	cmd.Flags().StringVar(&name, "name", "", "a name to recognise the token by")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"token","id","name","role","pipeline","expires_at"} as JSON`)
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func tokenOut(t *store.Token) tokenJSON {
	c := t.CreatedAt
	return tokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Pipeline: t.Pipeline, CreatedAt: &c, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

func newTokenListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context(), nil, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			list, err := a.Store.TokenList(cmd.Context())
			if err != nil {
				return err
			}
			out := struct {
				Tokens []tokenJSON `json:"tokens"`
			}{Tokens: []tokenJSON{}}
			for _, t := range list {
				out.Tokens = append(out.Tokens, tokenOut(t))
			}
			if asJSON {
				return printJSON(g.env.Stdout, out)
			}
			return printTokens(g.env.Stdout, out.Tokens)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"tokens": [...]} as JSON`)
	return cmd
}

func printTokens(w io.Writer, list []tokenJSON) error {
	if len(list) == 0 {
		fmt.Fprintln(w, "no tokens: `mlserve token create --role ROLE` makes one")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tPIPELINE\tCREATED\tEXPIRES\tSTATE")
	day := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	now := time.Now()
	for _, t := range list {
		state := "active"
		switch {
		case t.RevokedAt != nil:
			state = "revoked"
		case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, cmpDash(t.Name), t.Role, cmpDash(t.Pipeline), day(t.CreatedAt), day(t.ExpiresAt), state)
	}
	return tw.Flush()
}

func cmpDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newTokenRevokeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token (every replica refuses it within 5 s)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context(), nil, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.Store.TokenRevoke(cmd.Context(), args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no token with id %q: `mlserve token list` shows the ids", args[0])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "token %s revoked at %s\n", t.ID, t.RevokedAt.UTC().Format(time.RFC3339))
			return nil
		},
	}
}
