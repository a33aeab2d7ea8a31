package redistest

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// dropAfter is a connection that, the first time it carries a command
// containing marker, lets the command reach Redis and then breaks before the
// reply: what a Redis crash right after executing it looks like.
type dropAfter struct {
	net.Conn
	marker  []byte
	tripped *atomic.Bool
	broken  bool
}

func (c *dropAfter) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err == nil && bytes.Contains(p, c.marker) && c.tripped.CompareAndSwap(false, true) {
		c.broken = true
	}
	return n, err
}

func (c *dropAfter) Read(p []byte) (int, error) {
	if c.broken {
		time.Sleep(50 * time.Millisecond) // let Redis run the command
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

// LosingReply returns a client (with go-redis' default retries) whose first
// command containing marker is executed by Redis but loses its reply, so
// go-redis runs it again on a new connection. tripped reports whether that
// happened.
func (s *Server) LosingReply(t testing.TB, marker string) (c *redis.Client, tripped func() bool) {
	t.Helper()
	var hit atomic.Bool
	c = redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: 3, Dialer: losingDialer(marker, &hit)})
	t.Cleanup(func() { c.Close() })
	return c, hit.Load
}

// LosingReply is Server.LosingReply for a cluster client (go-redis' default
// retries: up to MaxRedirects, on the node serving the slot): the first
// command containing marker, on any node, loses its reply.
func (c *Cluster) LosingReply(t testing.TB, marker string) (cc *redis.ClusterClient, tripped func() bool) {
	t.Helper()
	var hit atomic.Bool
	cc = redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), Dialer: losingDialer(marker, &hit)})
	t.Cleanup(func() { cc.Close() })
	return cc, hit.Load
}

// losingDialer dials connections that break after the first command
// containing marker (on any of them), recording that in hit.
func losingDialer(marker string, hit *atomic.Bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &dropAfter{Conn: conn, marker: []byte(marker), tripped: hit}, nil
	}
}
