package messages_test

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/messages"
)

// dropAfterSend is a connection that, the first time it carries the send
// script, lets the command reach Redis and then breaks before the reply:
// what a Redis crash right after executing the script looks like. go-redis
// then retries the command on a new connection.
type dropAfterSend struct {
	net.Conn
	marker  []byte
	tripped *atomic.Bool
	broken  bool
}

func (c *dropAfterSend) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err == nil && bytes.Contains(p, c.marker) && c.tripped.CompareAndSwap(false, true) {
		c.broken = true
	}
	return n, err
}

func (c *dropAfterSend) Read(p []byte) (int, error) {
	if c.broken {
		time.Sleep(50 * time.Millisecond) // let Redis run the script
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func TestSendIsNotRepeatedByARetry(t *testing.T) {
	f := newFixture(t, messages.Config{})
	room := f.group(t, 1, 2)
	tripped := &atomic.Bool{}
	flaky := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: 3,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &dropAfterSend{Conn: c, marker: []byte(f.keys.RoomSendKeys(room)), tripped: tripped}, nil
		}})
	t.Cleanup(func() { flaky.Close() })
	ps := subscribe(t, f.rdb, f.keys.RoomMessages(room))
	store := messages.NewStore(flaky, f.keys, messages.Config{})

	m, _, err := store.Send(context.Background(), room, 1, 0, "once")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !tripped.Load() {
		t.Fatal("the connection was never broken: the test did not exercise a retry")
	}
	if m.Seq != 1 {
		t.Errorf("seq = %d, want 1", m.Seq)
	}
	if n := f.rdb.ZCard(context.Background(), f.keys.RoomHistory(room)).Val(); n != 1 {
		t.Errorf("history holds %d messages after a retried send, want 1", n)
	}
	if last := f.rdb.HGet(context.Background(), f.keys.RoomMeta(room), "lastSeq").Val(); last != "1" {
		t.Errorf("lastSeq = %s, want 1", last)
	}
	// Exactly one publish: the next message seen after it is a marker.
	next(t, ps)
	f.rdb.Publish(context.Background(), f.keys.RoomMessages(room), "marker")
	if got := next(t, ps).Payload; got != "marker" {
		t.Errorf("a second publish followed the first: %s", got)
	}
}
