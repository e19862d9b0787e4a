package store

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/mlserve/mlserve/internal/schema"
)

// RowHasher computes the content hash of a snapshot: the stored columns'
// names and types, then every row's canonical text. It depends only on the
// typed values, never on the backend that stored them.
type RowHasher struct {
	c   *schema.Compiled
	idx []int
	h   hash.Hash
	buf []byte
}

// NewRowHasher starts a hash for rows of schema c.
func NewRowHasher(c *schema.Compiled) *RowHasher {
	rh := &RowHasher{c: c, idx: c.Schema().Stored(), h: sha256.New()}
	for _, i := range rh.idx {
		col := c.Column(i)
		rh.buf = append(rh.buf, col.Name...)
		rh.buf = append(rh.buf, ':')
		rh.buf = append(rh.buf, col.Type...)
		rh.buf = append(rh.buf, '\x1f')
	}
	rh.buf = append(rh.buf, '\x1e')
	rh.h.Write(rh.buf)
	return rh
}

// Add hashes one row.
func (rh *RowHasher) Add(r schema.Row) {
	b := rh.buf[:0]
	for _, i := range rh.idx {
		if r[i].Missing {
			b = append(b, 0)
		} else {
			b = append(b, rh.c.Format(i, r[i])...)
		}
		b = append(b, '\x1f')
	}
	b = append(b, '\x1e')
	rh.h.Write(b)
	rh.buf = b
}

// Sum returns the hex sha256 of everything added.
func (rh *RowHasher) Sum() string { return hex.EncodeToString(rh.h.Sum(nil)) }

// HashRows returns the content hash of rows.
func HashRows(c *schema.Compiled, rows []schema.Row) string {
	rh := NewRowHasher(c)
	for _, r := range rows {
		rh.Add(r)
	}
	return rh.Sum()
}
