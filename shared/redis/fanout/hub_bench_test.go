package fanout_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// counter is a Subscriber that counts deliveries and closes done at target.
type counter struct {
	n      *atomic.Int64
	target int64
	done   chan struct{}
}

func (c *counter) Deliver(*fanout.Msg) {
	if c.n.Add(1) == c.target {
		close(c.done)
	}
}

// BenchmarkHubFanOut publishes chat messages on a real Redis channel and
// waits until the hub has handed every one to N local subscribers. One op
// is one message: a PUBLISH, Redis' delivery to the node's pub/sub
// connection, parsing, and N Deliver calls (publishes are pipelined by
// go-redis' pool only as far as the benchmark's single goroutine allows:
// one round trip each). The subscribers only count, so this is the hub's
// share of a delivery; the gateway's share is BenchmarkDeliverToLocalSubscribers
// in ws/internal/gateway.
func BenchmarkHubFanOut(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run("subscribers="+strconv.Itoa(n), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rdb := srv.Client(b)
			ch := redistest.Prefix(b) + ":room:{2}:messages"
			hub := fanout.New(rdb, fanout.Config{})
			go func() { _ = hub.Run(ctx) }()
			var got atomic.Int64
			done := make(chan struct{})
			for range n {
				if err := hub.Subscribe(ctx, ch, &counter{n: &got, target: int64(b.N * n), done: done}); err != nil {
					b.Fatal(err)
				}
			}
			payloads := make([]string, b.N)
			for i := range payloads {
				seq := strconv.Itoa(i + 1)
				payloads[i] = `{"id":"2-` + seq + `","chatRoomId":2,"seq":` + seq +
					`,"sendId":8,"rcvId":3,"message":"hello there, are we still on for lunch at noon?","sentAt":"2026-11-26T15:44:02.123Z"}`
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := rdb.Publish(ctx, ch, payloads[i]).Err(); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				b.Fatalf("%d of %d deliveries", got.Load(), b.N*n)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
		})
	}
}
