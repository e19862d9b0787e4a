package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mlserve/mlserve/internal/store"
)

// DefaultTTL is how long a Cache trusts its copy of the token records: a
// token created or revoked on any replica takes effect everywhere within
// it (plus one database read).
const DefaultTTL = 2 * time.Second

// Cache holds the token records by hash, read again from the store once
// older than TTL or after Invalidate (a ChannelTokens notification).
type Cache struct {
	store store.TokenStore
	ttl   time.Duration
	now   func() time.Time

	mu     sync.Mutex
	at     time.Time // when byHash was read; zero: never or invalidated
	byHash map[string]*store.Token
}

// NewCache returns a cache over s with the given TTL (DefaultTTL when 0).
func NewCache(s store.TokenStore, ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Cache{store: s, ttl: ttl, now: time.Now}
}

// Invalidate makes the next Lookup read the store.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

// Lookup returns the record of the token with the given hash, nil when
// there is none. Callers share one store read when the copy is stale.
func (c *Cache) Lookup(ctx context.Context, hash string) (*store.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || c.now().Sub(c.at) >= c.ttl {
		list, err := c.store.TokenList(ctx)
		if err != nil {
			return nil, fmt.Errorf("read tokens: %w", err)
		}
		m := make(map[string]*store.Token, len(list))
		for _, t := range list {
			m[t.Hash] = t
		}
		c.byHash, c.at = m, c.now()
	}
	return c.byHash[hash], nil
}
