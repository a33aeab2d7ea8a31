package redistest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Subscribe subscribes to channels and returns once Redis has confirmed
// every subscription, so nothing published afterwards can be missed. The
// subscription is closed when t ends.
func Subscribe(t testing.TB, rdb redis.UniversalClient, channels ...string) *redis.PubSub {
	t.Helper()
	ctx := context.Background()
	ps := rdb.Subscribe(ctx, channels...)
	t.Cleanup(func() { ps.Close() })
	for range channels {
		msg, err := ps.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			t.Fatalf("subscribe %v: %v", channels, err)
		}
		if _, ok := msg.(*redis.Subscription); !ok {
			t.Fatalf("subscribe %v: got %T before the confirmation", channels, msg)
		}
	}
	return ps
}

// Next returns the next message on ps, failing the test after 5s.
func Next(t testing.TB, ps *redis.PubSub) *redis.Message {
	t.Helper()
	for {
		msg, err := ps.ReceiveTimeout(context.Background(), 5*time.Second)
		if err != nil {
			t.Fatalf("waiting for a pub/sub message: %v", err)
		}
		if m, ok := msg.(*redis.Message); ok {
			return m
		}
	}
}

// Listener receives what is published on some channels with PUBLISH or with
// SPUBLISH, so a test passes whichever of the two the code under test uses,
// on a single Redis or on a cluster.
type Listener struct {
	msgs chan *redis.Message
}

// Listen subscribes to channels both ways (one SUBSCRIBE for all, one
// SSUBSCRIBE per channel, as their slots may differ) and returns once Redis
// confirmed every subscription. The subscriptions end when t ends.
func Listen(t testing.TB, rdb redis.UniversalClient, channels ...string) *Listener {
	t.Helper()
	ctx := context.Background()
	l := &Listener{msgs: make(chan *redis.Message, 1024)}
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(done); wg.Wait() })
	pss := []*redis.PubSub{rdb.Subscribe(ctx, channels...)}
	for _, ch := range channels {
		pss = append(pss, rdb.SSubscribe(ctx, ch))
	}
	for i, ps := range pss {
		t.Cleanup(func() { ps.Close() })
		n := 1
		if i == 0 {
			n = len(channels)
		}
		for range n {
			msg, err := ps.ReceiveTimeout(ctx, 5*time.Second)
			if err != nil {
				t.Fatalf("subscribe %v: %v", channels, err)
			}
			if _, ok := msg.(*redis.Subscription); !ok {
				t.Fatalf("subscribe %v: got %T before the confirmation", channels, msg)
			}
		}
		wg.Go(func() {
			for m := range ps.Channel() {
				select {
				case l.msgs <- m:
				case <-done:
					return
				}
			}
		})
	}
	return l
}

// Next returns the next message, failing the test after 5s.
func (l *Listener) Next(t testing.TB) *redis.Message {
	t.Helper()
	select {
	case m := <-l.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("waiting for a pub/sub message: timed out")
		return nil
	}
}

// None fails the test when a message arrives within d.
func (l *Listener) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-l.msgs:
		t.Fatalf("unexpected message on %s: %s", m.Channel, m.Payload)
	case <-time.After(d):
	}
}
