package store

import (
	"context"
	"time"
)

// ChannelTokens signals that a token was created or revoked; the payload
// is the token's id.
const ChannelTokens = "mlserve_tokens"

// TokenStore keeps the scoped API tokens: records holding the sha256 of
// each token, never the token itself.
type TokenStore interface {
	// TokenCreate stores a token record. The id and hash must be unique;
	// ErrConflict otherwise. It signals ChannelTokens once committed.
	TokenCreate(ctx context.Context, params *TokenCreateParams) (*Token, error)
	// TokenList returns every token record, revoked and expired ones
	// included, oldest first.
	TokenList(ctx context.Context) ([]*Token, error)
	// TokenRevoke marks a token revoked (a revoked token stays revoked
	// and keeps its first RevokedAt); ErrNotFound when no token has the
	// id. It signals ChannelTokens once committed.
	TokenRevoke(ctx context.Context, id string) (*Token, error)
}

// Token is a stored token record.
type Token struct {
	ID   string
	Hash string // hex sha256 of the token
	Name string
	Role string
	// Pipeline limits the token to one pipeline; "" for all.
	Pipeline  string
	CreatedAt time.Time
	ExpiresAt *time.Time // nil: never
	RevokedAt *time.Time // nil: not revoked
}

// TokenCreateParams are the arguments of TokenCreate.
type TokenCreateParams struct {
	ID, Hash, Name, Role, Pipeline string
	ExpiresAt                      *time.Time
}
