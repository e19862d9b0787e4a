package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/store"
)

// testToken checks the token records: create, list, revoke.
func testToken(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CreateListRevoke", func(t *testing.T) {
		b := setup(t, open)
		exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		a, err := b.s.TokenCreate(b.ctx, &store.TokenCreateParams{ID: "tok_a", Hash: "h1", Name: "ci", Role: "ingest", Pipeline: TitanicPipeline, ExpiresAt: &exp})
		if err != nil {
			t.Fatalf("TokenCreate: %v", err)
		}
		if a.ID != "tok_a" || a.Hash != "h1" || a.Name != "ci" || a.Role != "ingest" || a.Pipeline != TitanicPipeline ||
			a.ExpiresAt == nil || !a.ExpiresAt.Equal(exp) || a.RevokedAt != nil || a.CreatedAt.IsZero() {
			t.Fatalf("TokenCreate returned %+v", a)
		}
		if _, err := b.s.TokenCreate(b.ctx, &store.TokenCreateParams{ID: "tok_b", Hash: "h2", Role: "admin"}); err != nil {
			t.Fatalf("TokenCreate without name, pipeline, expiry: %v", err)
		}
		_, err = b.s.TokenCreate(b.ctx, &store.TokenCreateParams{ID: "tok_c", Hash: "h1", Role: "admin"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("TokenCreate with a used hash: err = %v, want ErrConflict", err)
		}
		list, err := b.s.TokenList(b.ctx)
		if err != nil || len(list) != 2 || list[0].ID != "tok_a" || list[1].ID != "tok_b" || list[1].ExpiresAt != nil || list[1].Pipeline != "" {
			t.Fatalf("TokenList = %+v, %v; want tok_a then tok_b", list, err)
		}
		r, err := b.s.TokenRevoke(b.ctx, "tok_a")
		if err != nil || r.RevokedAt == nil {
			t.Fatalf("TokenRevoke = %+v, %v; want RevokedAt set", r, err)
		}
		again, err := b.s.TokenRevoke(b.ctx, "tok_a")
		if err != nil || again.RevokedAt == nil || !again.RevokedAt.Equal(*r.RevokedAt) {
			t.Fatalf("TokenRevoke twice = %+v, %v; want the first RevokedAt %v kept", again, err, r.RevokedAt)
		}
		if _, err := b.s.TokenRevoke(b.ctx, "tok_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TokenRevoke of a missing id: err = %v, want ErrNotFound", err)
		}
		list, err = b.s.TokenList(b.ctx)
		if err != nil || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
			t.Fatalf("TokenList after revoke = %+v, %v", list, err)
		}
	})
}
