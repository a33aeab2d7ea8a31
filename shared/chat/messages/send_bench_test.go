package messages_test

import (
	"context"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// BenchmarkSend is the shared send path against a real Redis: validation,
// JSON of the text, one EVALSHA of send.lua (membership, seq, history
// append with trimming, PUBLISH) and decoding the reply. Sequential: one
// round trip per op, as one STOMP session's SENDs are.
func BenchmarkSend(b *testing.B) {
	for _, tt := range []struct {
		name   string
		direct bool
		rcv    int64
	}{
		{"direct", true, 0},
		{"direct-with-rcvId", true, 3},
		{"group", false, 0},
	} {
		b.Run(tt.name, func(b *testing.B) {
			f := newFixture(b, messages.Config{HistoryLen: 1000})
			room := f.group(b, 8, 3, 5)
			if tt.direct {
				room = f.direct(b, 8, 3)
			}
			ctx := context.Background()
			text := "t=1795709956184798994 n=3419 p=1 r=643240857 xxxxxxxxxxxxxxxxxx"
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.msgs.Send(ctx, room, 8, tt.rcv, text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSendParallel runs sends from many goroutines into distinct
// rooms, as many sessions of a node do: the throughput of the Lua path with
// go-redis' connection pool.
func BenchmarkSendParallel(b *testing.B) {
	f := newFixture(b, messages.Config{HistoryLen: 1000})
	const rooms = 64
	ids := make([]int64, rooms)
	for i := range ids {
		ids[i] = f.direct(b, int64(2*i+10), int64(2*i+11))
	}
	ctx := context.Background()
	var next = make(chan int, rooms)
	for i := range rooms {
		next <- i
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		i := <-next % rooms
		for pb.Next() {
			if _, _, err := f.msgs.Send(ctx, ids[i], int64(2*i+10), 0, "hello there"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
