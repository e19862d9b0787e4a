package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/store"
)

// Listener timing: the first reconnect waits minBackoff, each failure
// doubles it up to maxBackoff; an idle connection is pinged every
// keepalive so a silently dropped one is noticed.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	keepalive  = 30 * time.Second
	// connectTimeout bounds one connection attempt and one keepalive ping.
	connectTimeout = 10 * time.Second
	// flushEvery is how soon a receiver that fell behind is told so once it
	// has room again.
	flushEvery = 50 * time.Millisecond
	// listenBuffer is the depth of a listener's channel.
	listenBuffer = 64
)

var channelRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// listener is one Listen call: a dedicated connection (not from the pool)
// and the goroutine that reads it.
type listener struct {
	db      *DB
	logical map[string]string // channel as LISTENed -> channel as asked
	listen  string            // the LISTEN statements
	out     chan store.Notification
	// missed holds channels whose receiver fell behind or whose signals may
	// have been lost in a reconnect: each owes an empty-payload signal.
	missed map[string]bool
	// behind is signalled (never blocking) each time a signal finds the
	// receiver's buffer full; tests wait on it.
	behind chan struct{}
}

// Listen delivers the signals of the named channels (store.ChannelRegistry,
// store.ChannelBatches) until ctx is done or the DB is closed, then closes
// the channel. It holds one connection of its own, outside the pool; when
// that connection drops it reconnects with backoff and then sends each
// channel an empty-payload Notification: signals may have been missed. A
// receiver that falls more than a buffer behind gets the same instead of
// the signals it missed. With Config.Schema set, only changes made through
// stores on the same schema are heard.
func (db *DB) Listen(ctx context.Context, channels ...string) (<-chan store.Notification, error) {
	l, err := db.listen(ctx, channels)
	if err != nil {
		return nil, err
	}
	return l.out, nil
}

func (db *DB) listen(ctx context.Context, channels []string) (*listener, error) {
	if len(channels) == 0 {
		return nil, errors.New("listen: no channel")
	}
	l := &listener{db: db, logical: map[string]string{}, out: make(chan store.Notification, listenBuffer),
		missed: map[string]bool{}, behind: make(chan struct{}, 1)}
	var stmts []string
	for _, ch := range channels {
		if !channelRE.MatchString(ch) {
			return nil, fmt.Errorf("listen: channel name %q must match %s", ch, channelRE)
		}
		phys := ch + db.suffix
		if _, dup := l.logical[phys]; dup {
			continue
		}
		l.logical[phys] = ch
		stmts = append(stmts, `LISTEN `+pgx.Identifier{phys}.Sanitize())
	}
	l.listen = strings.Join(stmts, "; ")

	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil, errors.New("listen: the store is closed")
	}
	ctx, cancel := context.WithCancel(ctx)
	db.stops[l] = cancel
	db.listeners.Add(1)
	db.mu.Unlock()
	stop := func() {
		cancel()
		db.mu.Lock()
		delete(db.stops, l)
		db.mu.Unlock()
		db.listeners.Done()
	}

	conn, err := l.connect(ctx)
	if err != nil {
		stop()
		return nil, fmt.Errorf("listen: %w", err)
	}
	go func() {
		defer stop()
		defer close(l.out)
		l.run(ctx, conn)
	}()
	return l, nil
}

// connect opens the listener's connection with the pool's settings and
// LISTENs.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	// A host that went away may not refuse the connection: bound the wait.
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, l.db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, interpretError(err)
	}
	// No arguments: the simple protocol runs all the statements.
	if _, err := conn.Exec(ctx, l.listen); err != nil {
		closeConn(conn)
		return nil, interpretError(err)
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer func() {
		if conn != nil {
			closeConn(conn)
		}
	}()
	backoff := minBackoff
	for {
		if conn == nil {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			var err error
			if conn, err = l.connect(ctx); err != nil {
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			backoff = minBackoff
			for _, ch := range l.logical {
				l.missed[ch] = true
			}
		}
		l.flush()
		wait := keepalive
		if len(l.missed) > 0 {
			wait = flushEvery
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			l.deliver(store.Notification{Channel: l.logical[n.Channel], Payload: n.Payload})
			continue
		}
		if wctx.Err() != nil && !conn.IsClosed() {
			// Timed out waiting: the connection is still good, unless an
			// idle one fails a ping.
			if len(l.missed) > 0 {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, connectTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err == nil || ctx.Err() != nil {
				continue
			}
		}
		closeConn(conn)
		conn = nil
	}
}

// deliver sends n unless the receiver is behind; then the channel owes an
// empty-payload signal instead.
func (l *listener) deliver(n store.Notification) {
	l.flush()
	if l.missed[n.Channel] {
		return // the pending empty signal covers this one
	}
	select {
	case l.out <- n:
	default:
		l.missed[n.Channel] = true
		select {
		case l.behind <- struct{}{}:
		default:
		}
	}
}

// flush sends the owed empty-payload signals that fit.
func (l *listener) flush() {
	for ch := range l.missed {
		select {
		case l.out <- store.Notification{Channel: ch}:
			delete(l.missed, ch)
		default:
			return
		}
	}
}
