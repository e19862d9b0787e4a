package httpx

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// With timeouts set, net/http moves a connection's read and write deadlines
// about six times per request (the idle wait and its end, the header, the
// body, the answer, the background read); each move re-arms a runtime timer,
// a cost that shows at tens of thousands of requests a second. A sweeper
// keeps long deadlines for much less: setting one only records it on the
// connection, and a goroutine that wakes every tick fails the connections
// whose deadline passed by setting a deadline in the past on the real
// connection, which ends the blocked read or write just as the runtime's
// timer would have. A deadline fires up to one tick late. Deadlines within
// about a tick (and past ones, such as net/http's own "abort this read now")
// go to the runtime's timer at once.

// maxSweepTick is the longest a sweeper waits between looks for passed
// deadlines: the most a long timeout fires late.
const maxSweepTick = 250 * time.Millisecond

// sweepTick returns the tick for lim: a tenth of its shortest timeout,
// between 10 ms and maxSweepTick.
func sweepTick(lim Limits) time.Duration {
	tick := maxSweepTick
	for _, d := range []time.Duration{lim.ReadHeader, lim.Read, lim.Write, lim.Idle} {
		if d > 0 {
			tick = min(tick, d/10)
		}
	}
	return max(tick, 10*time.Millisecond)
}

// sweeper keeps the deadlines of a listener's connections.
type sweeper struct {
	tick time.Duration
	base time.Time    // deadlines are kept as monotonic offsets from base
	now  atomic.Int64 // offset of the last tick
	mu   sync.Mutex
	live map[*sweptConn]struct{}
	stop chan struct{}
	once sync.Once
}

func newSweeper(tick time.Duration) *sweeper {
	return &sweeper{tick: tick, base: time.Now(), live: map[*sweptConn]struct{}{}, stop: make(chan struct{})}
}

// offset returns t as an offset from s.base, or a negative number when t
// is before base (a deadline in the past).
func (s *sweeper) offset(t time.Time) int64 { return int64(t.Sub(s.base)) }

// run sweeps until close.
func (s *sweeper) run() {
	s.now.Store(int64(time.Since(s.base)))
	tick := time.NewTicker(s.tick)
	defer tick.Stop()
	var due []*sweptConn
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		now := int64(time.Since(s.base))
		s.now.Store(now)
		due = due[:0]
		s.mu.Lock()
		for c := range s.live {
			due = append(due, c)
		}
		s.mu.Unlock()
		for _, c := range due {
			c.expire(now)
		}
		clear(due)
	}
}

// close stops run.
func (s *sweeper) close() { s.once.Do(func() { close(s.stop) }) }

// soon reports whether the deadline at offset d is too close (or past) for
// the sweeper to keep: within two ticks of its clock, which lags by up to
// one.
func (s *sweeper) soon(d int64) bool { return d < s.now.Load()+int64(2*s.tick) }

// sweptConn is a TCP connection whose long deadlines the sweeper keeps.
type sweptConn struct {
	*net.TCPConn
	s  *sweeper
	mu sync.Mutex
	// read and write are the pending deadlines as offsets from s.base (0:
	// none); readReal and writeReal say that a deadline is set on the
	// TCP connection itself and must be cleared before a new one counts.
	read, write         int64
	readReal, writeReal bool
}

// SetReadDeadline sets the read deadline; see the comment at the top of
// this file.
func (c *sweptConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set(t, true)
}

// SetWriteDeadline sets the write deadline.
func (c *sweptConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set(t, false)
}

// SetDeadline sets both deadlines.
func (c *sweptConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// set records t as the read or write deadline (c.mu held), handing it to
// the runtime's timer when it is near or past.
func (c *sweptConn) set(t time.Time, read bool) error {
	at, isReal, setReal := &c.write, &c.writeReal, c.TCPConn.SetWriteDeadline
	if read {
		at, isReal, setReal = &c.read, &c.readReal, c.TCPConn.SetReadDeadline
	}
	if !t.IsZero() {
		if d := c.s.offset(t); !c.s.soon(d) {
			*at = d // > 0: soon is true for every offset up to two ticks
		} else {
			*at, *isReal = 0, true
			return setReal(t)
		}
	} else {
		*at = 0
	}
	if *isReal {
		*isReal = false
		return setReal(time.Time{})
	}
	return nil
}

// expire fails the blocked read or write of a deadline that passed by now.
func (c *sweptConn) expire(now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	past := time.Unix(1, 0)
	if c.read != 0 && c.read <= now {
		c.read, c.readReal = 0, true
		c.TCPConn.SetReadDeadline(past)
	}
	if c.write != 0 && c.write <= now {
		c.write, c.writeReal = 0, true
		c.TCPConn.SetWriteDeadline(past)
	}
}

// Close closes the connection and stops sweeping it.
func (c *sweptConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.live, c)
	c.s.mu.Unlock()
	return c.TCPConn.Close()
}

// SweptListener hands out connections whose long deadlines a sweeper keeps
// (see the top of this file); Sweep runs the sweeper. With a connection cap
// (Limits.MaxConns), a connection past it is answered 503 and closed.
type SweptListener struct {
	net.Listener
	s        *sweeper
	maxConns int
	refusing chan struct{} // bounds the goroutines answering refused connections
}

// NewSweptListener wraps ln for a server with limits lim.
func NewSweptListener(ln net.Listener, lim Limits) *SweptListener {
	l := newSweptListener(ln, sweepTick(lim))
	l.maxConns = lim.MaxConns
	return l
}

// Sweep starts the sweeper; stop ends it.
func (l *SweptListener) Sweep() (stop func()) {
	go l.s.run()
	return l.s.close
}

// newSweptListener wraps ln, sweeping every tick; connections that are not
// TCP pass through.
func newSweptListener(ln net.Listener, tick time.Duration) *SweptListener {
	return &SweptListener{Listener: ln, s: newSweeper(tick), refusing: make(chan struct{}, maxRefusing)}
}

// Accept waits for the next connection within the cap.
func (l *SweptListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		sc := &sweptConn{TCPConn: tc, s: l.s}
		l.s.mu.Lock()
		full := l.maxConns > 0 && len(l.s.live) >= l.maxConns
		if !full {
			l.s.live[sc] = struct{}{}
		}
		l.s.mu.Unlock()
		if !full {
			return sc, nil
		}
		select {
		case l.refusing <- struct{}{}:
			go func() {
				defer func() { <-l.refusing }()
				refuse(tc)
			}()
		default:
			tc.Close() // refusing politely is capped too
		}
	}
}

// maxRefusing caps the connections being refused at once; past it a
// connection is closed without an answer.
const maxRefusing = 64

// refused is the answer to a connection past the cap.
var refused = func() []byte {
	var rp Reply
	rp.SetError(Overloaded())
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: %d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		RetryAfter, len(rp.Body), rp.Body)
}()

// refuse answers c 503 (Overloaded) and closes it. It writes at once (the
// request has not been read, but a fresh connection's send buffer takes the
// answer) and then reads, for up to a second, what the client sends, so
// that closing does not reset the connection before the client read the
// answer.
func refuse(c *net.TCPConn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(refused); err != nil {
		return
	}
	c.CloseWrite()
	io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}
