package redistest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Snapshot is every key matching a pattern with its DUMP, so any write to
// any of them at all shows up in Diff. Keyspace-diff tests take one before
// an action that must change nothing and compare it with one after.
type Snapshot map[string]string

// TakeSnapshot reads every key matching pattern (Keys: on every master of
// a cluster) with its DUMP.
func TakeSnapshot(tb testing.TB, rdb redis.UniversalClient, pattern string) Snapshot {
	tb.Helper()
	ctx := context.Background()
	out := Snapshot{}
	for _, k := range Keys(tb, rdb, pattern) {
		d, err := rdb.Dump(ctx, k).Result()
		if err == redis.Nil {
			continue // deleted since the SCAN
		}
		if err != nil {
			tb.Fatalf("redistest: snapshot of %s: dump %s: %v", pattern, k, err)
		}
		out[k] = d
	}
	return out
}

// Diff lists what changed from s to after, sorted: "deleted K", "changed
// K", then "created K". Empty means nothing was written.
func (s Snapshot) Diff(after Snapshot) []string {
	var diff []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if a, ok := after[k]; !ok {
			diff = append(diff, "deleted "+k)
		} else if a != s[k] {
			diff = append(diff, "changed "+k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(after)) {
		if _, ok := s[k]; !ok {
			diff = append(diff, "created "+k)
		}
	}
	return diff
}

// Published listens on the channels matching patterns (PSUBSCRIBE, each
// confirmed before it returns); the returned func answers what was
// published since, as "channel payload" lines. It publishes a marker on
// marker, a channel that must match one of patterns, and collects up to
// it, so nothing published before the call can be missed.
func Published(tb testing.TB, rdb redis.UniversalClient, marker string, patterns ...string) func() []string {
	tb.Helper()
	ctx := context.Background()
	sub := rdb.PSubscribe(ctx, patterns...)
	tb.Cleanup(func() { sub.Close() })
	for range patterns {
		if _, err := sub.ReceiveTimeout(ctx, 5*time.Second); err != nil {
			tb.Fatalf("redistest: psubscribe %v: %v", patterns, err)
		}
	}
	return func() []string {
		tb.Helper()
		const end = "--redistest-published-end--"
		if err := rdb.Publish(ctx, marker, end).Err(); err != nil {
			tb.Fatalf("redistest: publish the marker: %v", err)
		}
		var got []string
		for {
			msg, err := sub.ReceiveTimeout(ctx, 5*time.Second)
			if err != nil {
				tb.Fatalf("redistest: pubsub: %v (so far %q)", err, got)
			}
			m, ok := msg.(*redis.Message)
			if !ok {
				continue
			}
			if m.Channel == marker && m.Payload == end {
				return got
			}
			got = append(got, m.Channel+" "+m.Payload)
		}
	}
}
