package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// subscribe subscribes to channels and returns once Redis has confirmed
// every subscription, so nothing published afterwards can be missed.
func subscribe(t testing.TB, rdb *redis.Client, channels ...string) *redis.PubSub {
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

// next returns the next message on ps, failing after 5s.
func next(t testing.TB, ps *redis.PubSub) *redis.Message {
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
