package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/store/storetest"
)

// next returns the next notification, failing the test after a while.
func next(t *testing.T, ch <-chan store.Notification) store.Notification {
	t.Helper()
	select {
	case n, ok := <-ch:
		if !ok {
			t.Fatal("notification channel closed")
		}
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
	}
	return store.Notification{}
}

func wantNext(t *testing.T, ch <-chan store.Notification, channel, payload string) {
	t.Helper()
	if n := next(t, ch); n.Channel != channel || n.Payload != payload {
		t.Fatalf("notification = %+v, want %s %q", n, channel, payload)
	}
}

func wantClosed(t *testing.T, ch <-chan store.Notification) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("notification channel not closed within 10s")
		}
	}
}

func TestNotifier(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	name := newSchema(t)
	db := openSchema(t, name, nil)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := titanic(t, db)
	writer := openSchema(t, name, nil) // another process on the same schema
	elsewhere := openTemp(t)           // another schema of the same database
	titanic(t, elsewhere)

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := db.Listen(lctx, store.ChannelBatches, store.ChannelRegistry)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}

	if _, err := writer.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: storetest.Rows(t, c, 5, 1)}); err != nil {
		t.Fatal(err)
	}
	wantNext(t, ch, store.ChannelBatches, storetest.TitanicPipeline)

	// Neither a failed batch, nor a replay, nor a change in another schema
	// signals: the next signal is the registry change after them.
	bad := storetest.Rows(t, c, 5, 2)
	bad[3] = bad[3][:2]
	if _, err := writer.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: bad}); err == nil {
		t.Fatal("BatchInsert of a short row: no error")
	}
	keyed := &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, IdempotencyKey: "k", Rows: storetest.Rows(t, c, 2, 3)}
	for range 2 {
		if _, err := writer.BatchInsert(ctx, keyed); err != nil {
			t.Fatal(err)
		}
	}
	wantNext(t, ch, store.ChannelBatches, storetest.TitanicPipeline)
	if _, err := elsewhere.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: storetest.Rows(t, c, 5, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := elsewhere.VersionCreate(ctx, &store.VersionCreateParams{Pipeline: "p"}); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		if _, err := writer.VersionCreate(ctx, &store.VersionCreateParams{Pipeline: "p"}); err != nil {
			t.Fatal(err)
		}
		wantNext(t, ch, store.ChannelRegistry, "p")
	}
	if _, err := writer.VersionReject(ctx, &store.VersionRejectParams{Pipeline: "p", Version: 2, Reason: "worse"}); err != nil {
		t.Fatal(err)
	}
	wantNext(t, ch, store.ChannelRegistry, "p")
	for _, v := range []int{1, 2} {
		if _, err := writer.VersionPromote(ctx, &store.VersionPromoteParams{Pipeline: "p", Version: v, Action: store.ActionPromote}); err != nil {
			t.Fatal(err)
		}
		wantNext(t, ch, store.ChannelRegistry, "p")
	}
	if _, err := writer.VersionRollback(ctx, &store.VersionRollbackParams{Pipeline: "p"}); err != nil {
		t.Fatal(err)
	}
	wantNext(t, ch, store.ChannelRegistry, "p")

	cancel()
	wantClosed(t, ch)
}

// TestNotifierReconnect ends the listener's connection on the server side:
// the listener reconnects, says it may have missed signals, and signals
// flow again.
func TestNotifierReconnect(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openTemp(t)
	ch, err := db.Listen(ctx, store.ChannelRegistry)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	for i := range 2 {
		var killed int
		err := adminPool(t).QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN %' AND position($1 in query) > 0`, store.ChannelRegistry+db.suffix).Scan(&killed)
		if err != nil || killed != 1 {
			t.Fatalf("terminate the listener's backend: %d terminated, %v; want 1", killed, err)
		}
		wantNext(t, ch, store.ChannelRegistry, "")
		if _, err := db.VersionCreate(ctx, &store.VersionCreateParams{Pipeline: "p"}); err != nil {
			t.Fatal(err)
		}
		wantNext(t, ch, store.ChannelRegistry, "p")
		t.Logf("reconnect %d done", i+1)
	}
}

// TestNotifierReceiverBehind checks that a receiver that does not keep up
// gets an empty-payload signal instead of the ones that did not fit, and
// that the listener never blocks on it.
func TestNotifierReceiverBehind(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openTemp(t)
	c := titanic(t, db)
	ch, err := db.Listen(ctx, store.ChannelBatches)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	const n = listenBuffer + 20
	for range n {
		if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c, Rows: []schema.Row{}}); err != nil {
			t.Fatal(err)
		}
	}
	// The signals reach the listener a little after the commits: wait until
	// it has found the buffer full, so that the receiver is behind for sure.
	select {
	case <-onlyListener(t, db).behind:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d signals unread, and the listener never found its receiver behind", n)
	}
	got := 0
	for {
		m := next(t, ch)
		if m.Payload == "" {
			break
		}
		got++
	}
	if got > listenBuffer {
		t.Fatalf("%d signals before the empty one, want at most %d", got, listenBuffer)
	}
	t.Logf("%d signals, then an empty one", got)
	// Signals flow again.
	if _, err := db.BatchInsert(ctx, &store.BatchInsertParams{Pipeline: storetest.TitanicPipeline, Schema: c}); err != nil {
		t.Fatal(err)
	}
	for {
		if m := next(t, ch); m.Payload == storetest.TitanicPipeline {
			break
		}
	}
}

func TestListenCloseAndBadChannel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openTemp(t)
	if _, err := db.Listen(ctx); err == nil {
		t.Error("Listen with no channel: no error")
	}
	if _, err := db.Listen(ctx, `x"; DROP TABLE runs; --`); err == nil {
		t.Error("Listen on an invalid channel name: no error")
	}
	ch, err := db.Listen(ctx, store.ChannelBatches, store.ChannelRegistry, store.ChannelBatches)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	db.Close()
	wantClosed(t, ch)
	if _, err := db.Listen(ctx, store.ChannelBatches); err == nil {
		t.Error("Listen after Close: no error")
	}
}

// onlyListener returns db's one listener.
func onlyListener(t *testing.T, db *DB) *listener {
	t.Helper()
	db.mu.Lock()
	defer db.mu.Unlock()
	if len(db.stops) != 1 {
		t.Fatalf("%d listeners, want 1", len(db.stops))
	}
	for l := range db.stops {
		return l
	}
	return nil
}
