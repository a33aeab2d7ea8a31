package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Subscribe subscribes to channels and returns once Redis has confirmed
// every subscription, so nothing published afterwards can be missed. The
// subscription is closed when t ends.
func Subscribe(t testing.TB, rdb *redis.Client, channels ...string) *redis.PubSub {
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
