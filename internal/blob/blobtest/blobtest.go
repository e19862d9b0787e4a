// Package blobtest is the conformance suite every blob.Bucket backend must
// pass.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/blob"
)

// Run runs the suite. open returns an empty bucket for each subtest.
func Run(t *testing.T, open func(t *testing.T) blob.Bucket) {
	ctx := context.Background()

	t.Run("PutGetRoundTrip", func(t *testing.T) {
		b := open(t)
		want := []byte("model bytes \x00\xff")
		if err := b.Put(ctx, "artifacts/abc.json", want); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := b.Get(ctx, "artifacts/abc.json")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Get = %q, want %q", got, want)
		}
	})

	t.Run("EmptyObject", func(t *testing.T) {
		b := open(t)
		if err := b.Put(ctx, "empty", nil); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := b.Get(ctx, "empty")
		if err != nil || len(got) != 0 {
			t.Fatalf("Get = %q, %v; want empty, nil", got, err)
		}
	})

	t.Run("GetMissingIsNotFound", func(t *testing.T) {
		b := open(t)
		_, err := b.Get(ctx, "nope/missing.json")
		if !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("OverwriteReplaces", func(t *testing.T) {
		b := open(t)
		for _, v := range []string{"first", "second, longer"} {
			if err := b.Put(ctx, "k", []byte(v)); err != nil {
				t.Fatalf("Put: %v", err)
			}
		}
		got, err := b.Get(ctx, "k")
		if err != nil || string(got) != "second, longer" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	})

	t.Run("DeleteIsIdempotent", func(t *testing.T) {
		b := open(t)
		if err := b.Put(ctx, "a/b", []byte("x")); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := b.Delete(ctx, "a/b"); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
		}
		if _, err := b.Get(ctx, "a/b"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
		}
	})

	t.Run("ListByPrefixSorted", func(t *testing.T) {
		b := open(t)
		for _, k := range []string{"artifacts/b.json", "artifacts/a.json", "reports/x.json", "artifactsX"} {
			if err := b.Put(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := b.List(ctx, "artifacts/")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		want := []string{"artifacts/a.json", "artifacts/b.json"}
		if !slices.Equal(got, want) {
			t.Fatalf("List = %v, want %v", got, want)
		}
	})

	t.Run("BadKeysRejected", func(t *testing.T) {
		b := open(t)
		for _, k := range []string{"", "/abs", "a/../b", "a//b", "./a", "trailing/"} {
			if err := b.Put(ctx, k, []byte("x")); err == nil {
				t.Errorf("Put(%q) succeeded, want an error", k)
			}
		}
	})

	t.Run("ConcurrentPutsOfSameKeyNeverTorn", func(t *testing.T) {
		b := open(t)
		vals := make([][]byte, 8)
		for i := range vals {
			vals[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
		}
		var wg sync.WaitGroup
		for _, v := range vals {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := b.Put(ctx, "same", v); err != nil {
					t.Errorf("Put: %v", err)
				}
			}()
		}
		wg.Wait()
		got, err := b.Get(ctx, "same")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(vals, func(v []byte) bool { return bytes.Equal(v, got) }) {
			t.Fatalf("Get returned a torn object of %d bytes", len(got))
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		b := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := b.Put(cctx, "c", []byte("x")); err == nil {
			t.Fatal("Put with cancelled context succeeded")
		}
		if _, err := b.Get(ctx, "c"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("object written despite cancelled Put: %v", err)
		}
	})

	t.Run("String", func(t *testing.T) {
		b := open(t)
		if s := fmt.Sprint(b); s == "" {
			t.Fatal("String is empty")
		}
	})
}
