package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// marker is published by collect to find the end of what a test caused.
const marker = "--end-of-test-output--"

// listen subscribes to channels and waits until Redis confirmed every
// subscription, so nothing published afterwards can be missed.
func listen(t testing.TB, rdb *redis.Client, channels ...string) *redis.PubSub {
	t.Helper()
	ctx := context.Background()
	sub := rdb.Subscribe(ctx, channels...)
	t.Cleanup(func() { sub.Close() })
	for range channels {
		msg, err := sub.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			t.Fatalf("subscribe %v: %v", channels, err)
		}
		if _, ok := msg.(*redis.Subscription); !ok {
			t.Fatalf("subscribe %v: got %T before the confirmation", channels, msg)
		}
	}
	return sub
}

// collect returns, per channel, every payload published on channels since
// listen and before now. It publishes a marker on each channel and reads
// until every marker came back. Redis runs commands one at a time and
// queues a subscriber's messages in order, so whatever was published by a
// command that completed before the marker's arrives before the marker (no
// sleeping, no guessing how long to wait for stragglers).
func collect(t testing.TB, rdb *redis.Client, sub *redis.PubSub, channels ...string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	for _, ch := range channels {
		if err := rdb.Publish(ctx, ch, marker).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string][]string{}
	pending := len(channels)
	for pending > 0 {
		msg, err := sub.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			t.Fatalf("read %v: %v (so far %v)", channels, err, got)
		}
		m, ok := msg.(*redis.Message)
		if !ok {
			continue
		}
		if m.Payload == marker {
			pending--
			continue
		}
		got[m.Channel] = append(got[m.Channel], m.Payload)
	}
	return got
}
