package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestTokenCommands runs `token create`, `token list` and `token revoke`
// on an init'ed titanic file: create prints the token once and its record
// as JSON, list shows the record but never the token, revoke marks it, and
// bad flags are refused naming the flag.
func TestTokenCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		code, out, errs := run(t, dir, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	must("init", "--example", "titanic")
	var made struct {
		Token, ID, Name, Role, Pipeline string
		ExpiresAt                       *time.Time `json:"expires_at"`
	}
	out := must("token", "create", "--role", "ingest", "--pipeline", "titanic", "--expires", "90d", "--name", "loader", "--json")
	if err := json.Unmarshal([]byte(out), &made); err != nil {
		t.Fatalf("token create --json printed %q: %v", out, err)
	}
	if !strings.HasPrefix(made.Token, "mls_") || len(made.Token) < 40 || !strings.HasPrefix(made.ID, "tok_") ||
		made.Name != "loader" || made.Role != "ingest" || made.Pipeline != "titanic" || made.ExpiresAt == nil ||
		time.Until(*made.ExpiresAt) < 89*24*time.Hour || time.Until(*made.ExpiresAt) > 91*24*time.Hour {
		t.Fatalf("token create --json: %+v", made)
	}
	plain := strings.TrimSpace(must("token", "create", "--role", "predict"))
	if !strings.HasPrefix(plain, "mls_") || plain == made.Token {
		t.Fatalf("token create printed %q, want a new token", plain)
	}
	list := must("token", "list", "--json")
	if strings.Contains(list, made.Token) || strings.Contains(list, plain) {
		t.Fatalf("token list shows a token: %s", list)
	}
	var l struct {
		Tokens []struct {
			ID, Role  string
			RevokedAt *time.Time `json:"revoked_at"`
		}
	}
	if err := json.Unmarshal([]byte(list), &l); err != nil || len(l.Tokens) != 2 || l.Tokens[0].ID != made.ID {
		t.Fatalf("token list --json = %s, %v; want 2 tokens, %s first", list, err, made.ID)
	}
	if out := must("token", "revoke", made.ID); !strings.Contains(out, made.ID+" revoked") {
		t.Fatalf("token revoke printed %q", out)
	}
	if out := must("token", "list"); !strings.Contains(out, "revoked") || !strings.Contains(out, "active") || strings.Contains(out, plain) {
		t.Fatalf("token list after revoke:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "create", "--role", "root"}, `--role: role "root"`},
		{[]string{"token", "create", "--role", "admin", "--expires", "-3d"}, "--expires"},
		{[]string{"token", "create", "--role", "admin", "--pipeline", "nope"}, "--pipeline"},
		{[]string{"token", "revoke", "tok_missing"}, `no token with id "tok_missing"`},
	} {
		code, _, errs := run(t, dir, c.args...)
		if code == ExitOK || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %q", c.args, code, errs, c.want)
		}
	}
}
