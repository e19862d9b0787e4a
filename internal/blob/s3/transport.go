package s3

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// newTransport returns an HTTP/1.1 transport on which no step waits for the
// server longer than timeout: connecting, the TLS handshake, the response
// headers, and every read or write on an open connection (so a server that
// stops answering in the middle of a body fails the request too, which
// response-header and dial timeouts alone do not cover).
func newTransport(timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleTimeoutConn{Conn: c, timeout: timeout}, nil
		},
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		// Close pooled connections before their idle deadline fails them.
		IdleConnTimeout: timeout / 2,
		// The body's bytes must be the object's bytes: no transparent gzip.
		DisableCompression: true,
	}
}

// idleTimeoutConn fails a Read or Write when the connection has seen no
// traffic in either direction for timeout. Every Read and Write pushes the
// deadline of both directions forward, so a long upload keeps the pending
// response read alive, and a stalled one fails after timeout.
type idleTimeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleTimeoutConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *idleTimeoutConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
