package httpx

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// sweptPair returns a swept server-side connection and its client, with the
// sweeper running every tick.
func sweptPair(t *testing.T, tick time.Duration) (*sweptConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := newSweptListener(ln, tick)
	go sl.s.run()
	t.Cleanup(func() { sl.s.close(); ln.Close() })
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	// A deadline that never fires fails the test in 5 s instead of
	// hanging it: the client goes away.
	guard := time.AfterFunc(5*time.Second, func() { client.Close() })
	t.Cleanup(func() { guard.Stop() })
	c, err := sl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := c.(*sweptConn)
	if !ok {
		t.Fatalf("Accept gave %T, want *sweptConn", c)
	}
	t.Cleanup(func() { sc.Close() })
	return sc, client
}

// readErr reads one byte from c and reports how long it took and the error.
func readErr(c net.Conn) (time.Duration, error) {
	start := time.Now()
	_, err := c.Read(make([]byte, 1))
	return time.Since(start), err
}

func TestSweptDeadlines(t *testing.T) {
	t.Parallel()
	const tick = 20 * time.Millisecond

	t.Run("a long read deadline fires through the sweeper", func(t *testing.T) {
		t.Parallel()
		c, _ := sweptPair(t, tick)
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		c.mu.Lock()
		kept, real := c.read != 0, c.readReal
		c.mu.Unlock()
		if !kept || real {
			t.Fatalf("a deadline 10 ticks away: kept by the sweeper %v, on the socket %v; want the sweeper's", kept, real)
		}
		took, err := readErr(c)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a deadline error", err)
		}
		if took < 190*time.Millisecond || took > 200*time.Millisecond+20*tick {
			t.Errorf("the read failed after %v, want 200 ms plus at most a tick or so", took)
		}
	})

	t.Run("a write deadline fires through the sweeper", func(t *testing.T) {
		t.Parallel()
		c, _ := sweptPair(t, tick) // the client never reads
		c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		start := time.Now()
		chunk := make([]byte, 64<<10)
		var err error
		for i := 0; i < 16384 && err == nil; i++ { // up to 1 GiB, far past the socket buffers
			_, err = c.Write(chunk)
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write: %v, want a deadline error", err)
		}
		if took := time.Since(start); took > 200*time.Millisecond+20*tick {
			t.Errorf("the write failed after %v", took)
		}
	})

	t.Run("a new deadline undoes a fired one", func(t *testing.T) {
		t.Parallel()
		c, client := sweptPair(t, tick)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := readErr(c); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a deadline error", err)
		}
		// net/http moves the deadline on after a timeout; the connection
		// must work again.
		c.SetReadDeadline(time.Now().Add(time.Hour))
		if _, err := client.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := readErr(c); err != nil {
			t.Fatalf("read after a new deadline: %v", err)
		}
		c.SetReadDeadline(time.Time{})
		if _, err := client.Write([]byte("y")); err != nil {
			t.Fatal(err)
		}
		if _, err := readErr(c); err != nil {
			t.Fatalf("read with no deadline: %v", err)
		}
	})

	t.Run("a cleared deadline never fires", func(t *testing.T) {
		t.Parallel()
		c, client := sweptPair(t, tick)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		c.SetReadDeadline(time.Time{})
		go func() {
			time.Sleep(300 * time.Millisecond)
			client.Write([]byte("x"))
		}()
		if took, err := readErr(c); err != nil {
			t.Fatalf("read: %v after %v, want the byte sent after 300 ms", err, took)
		}
	})

	t.Run("past and near deadlines take effect at once", func(t *testing.T) {
		t.Parallel()
		c, _ := sweptPair(t, tick)
		// net/http aborts its background read with a deadline long ago.
		c.SetReadDeadline(time.Unix(1, 0))
		if took, err := readErr(c); !errors.Is(err, os.ErrDeadlineExceeded) || took > 50*time.Millisecond {
			t.Fatalf("read: %v after %v, want a deadline error at once", err, took)
		}
		c.SetReadDeadline(time.Now().Add(tick / 2))
		if took, err := readErr(c); !errors.Is(err, os.ErrDeadlineExceeded) || took > tick/2+50*time.Millisecond {
			t.Fatalf("read: %v after %v, want a deadline error after %v", err, took, tick/2)
		}
	})

	t.Run("closed connections leave the sweeper", func(t *testing.T) {
		t.Parallel()
		c, _ := sweptPair(t, tick)
		c.s.mu.Lock()
		_, in := c.s.live[c]
		c.s.mu.Unlock()
		if !in {
			t.Fatal("an accepted connection is not swept")
		}
		c.Close()
		c.s.mu.Lock()
		_, in = c.s.live[c]
		c.s.mu.Unlock()
		if in {
			t.Fatal("a closed connection is still swept")
		}
	})
}

// TestSweptDeadlinesRace moves deadlines from several goroutines while the
// sweeper fires them (run with -race): no data race, and a deadline set
// after the others always decides.
func TestSweptDeadlinesRace(t *testing.T) {
	t.Parallel()
	c, client := sweptPair(t, 10*time.Millisecond)
	var wg sync.WaitGroup
	stop := time.Now().Add(300 * time.Millisecond)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				switch (g + i) % 4 {
				case 0:
					c.SetReadDeadline(time.Now().Add(time.Duration(i%5) * 10 * time.Millisecond))
				case 1:
					c.SetWriteDeadline(time.Now().Add(time.Duration(i%7) * 10 * time.Millisecond))
				case 2:
					c.SetDeadline(time.Time{})
				default:
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	c.SetDeadline(time.Now().Add(time.Hour))
	time.Sleep(50 * time.Millisecond) // a few sweeps: none may fire
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := readErr(c); err != nil {
		t.Fatalf("read after the last deadline (an hour away): %v", err)
	}
	if _, err := c.Write([]byte("y")); err != nil {
		t.Fatalf("write after the last deadline: %v", err)
	}
}
