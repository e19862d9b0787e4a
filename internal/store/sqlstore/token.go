package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlserve/mlserve/internal/store"
)

const tokenCols = `id, hash, name, role, pipeline, created_at, expires_at, revoked_at`

func scanToken(s Row) (*store.Token, error) {
	tk := &store.Token{}
	var created, expires, revoked timeDest
	if err := s.Scan(&tk.ID, &tk.Hash, &tk.Name, &tk.Role, &tk.Pipeline, &created, &expires, &revoked); err != nil {
		return nil, err
	}
	tk.CreatedAt, tk.ExpiresAt, tk.RevokedAt = created.t, expires.ptr(), revoked.ptr()
	return tk, nil
}

// TokenCreate stores a token record.
func (s *Store) TokenCreate(ctx context.Context, params *store.TokenCreateParams) (*store.Token, error) {
	if params.ID == "" || params.Hash == "" || params.Role == "" {
		return nil, errors.New("create token: id, hash and role are required")
	}
	var expires any
	if params.ExpiresAt != nil {
		expires = s.d.Time(*params.ExpiresAt)
	}
	var out *store.Token
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		var err error
		out, err = scanToken(tx.QueryRow(ctx, `INSERT INTO tokens (id, hash, name, role, pipeline, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+tokenCols,
			params.ID, params.Hash, s.d.Text(params.Name), params.Role, s.d.Text(params.Pipeline), s.d.Time(s.now()), expires))
		if err != nil {
			return err
		}
		return s.d.Notify(ctx, tx, store.ChannelTokens, params.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("create token %s: %w", params.ID, err)
	}
	return out, nil
}

// TokenList returns every token record, oldest first.
func (s *Store) TokenList(ctx context.Context) ([]*store.Token, error) {
	rows, err := s.d.Reader().Query(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []*store.Token{}
	for rows.Next() {
		tk, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, tk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// TokenRevoke marks a token revoked, keeping the first revocation time.
func (s *Store) TokenRevoke(ctx context.Context, id string) (*store.Token, error) {
	var out *store.Token
	err := s.d.WriteTx(ctx, func(tx Querier) error {
		var err error
		out, err = scanToken(tx.QueryRow(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING `+tokenCols,
			s.d.Time(s.now()), id))
		if err != nil {
			return err
		}
		return s.d.Notify(ctx, tx, store.ChannelTokens, id)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return out, nil
}
