package gateway

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/roomwire/roomwire/shared/fanout"
	"github.com/roomwire/roomwire/shared/keys"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// benchPayload is a chat message as send.lua publishes it, with the text a
// chatload publisher stamps (64 bytes).
const benchPayload = `{"id":"2-17","chatRoomId":2,"seq":17,"sendId":8,"rcvId":3,"message":"t=1795709956184798994 n=3419 p=1 r=643240857 xxxxxxxxxxxxxxxxxx","sentAt":"2026-11-26T15:44:02.123Z"}`

// benchConns returns n connections without sockets, each with one auto-ack
// subscription to room 2, as the hub sees them.
func benchConns(n int) ([]*conn, []*subscription) {
	srv := New(Config{NodeID: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Keys: keys.MustNew("bench")})
	conns := make([]*conn, n)
	subs := make([]*subscription, n)
	for i := range conns {
		c := newConn(srv, nil, "127.0.0.1")
		c.connected = true
		s := &subscription{c: c, id: "sub-0", dest: "/sub/chat/room/2", channel: srv.keys.RoomMessages(2), roomID: 2, ack: ackAuto,
			idEsc: stomp.AppendEscaped(nil, "sub-0", c.version), destEsc: stomp.AppendEscaped(nil, "/sub/chat/room/2", c.version)}
		conns[i], subs[i] = c, s
	}
	return conns, subs
}

// BenchmarkAppendDelivery encodes one MESSAGE frame from the node-wide
// shared message into a writer's buffer: the per-delivery encoding cost.
func BenchmarkAppendDelivery(b *testing.B) {
	conns, subs := benchConns(1)
	c, s := conns[0], subs[0]
	m := fanout.NewMsg(s.channel, []byte(benchPayload))
	buf := c.appendItem(nil, outItem{msg: m, sub: s})
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = c.appendItem(buf[:0], outItem{msg: m, sub: s})
	}
}

// BenchmarkDeliverToLocalSubscribers is the node's work for one chat message
// with N local subscribers, the socket write excepted: the hub hands the
// shared message to every subscription (Deliver: bounded queue, wake-up),
// then every connection's writer takes its queue and encodes the MESSAGE.
// ns/delivery is the figure to compare with CPU-µs per delivery of W3.
func BenchmarkDeliverToLocalSubscribers(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			conns, subs := benchConns(n)
			var items []outItem
			buf := make([]byte, 0, 512)
			var seq int64
			b.ReportAllocs()
			for b.Loop() {
				seq++
				m := &fanout.Msg{Channel: subs[0].channel, Payload: []byte(benchPayload), ID: "2-17", Seq: seq}
				for _, s := range subs {
					s.Deliver(m)
				}
				for _, c := range conns {
					<-c.wake
					items, _, _, _ = c.take(items)
					buf = buf[:0]
					for _, it := range items {
						buf = c.appendItem(buf, it)
					}
					clear(items)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
		})
	}
}

// BenchmarkCoalescedDeliveries is the same with each connection holding
// `burst` queued messages when its writer runs, as under load: the writer
// encodes them all into one WebSocket message.
func BenchmarkCoalescedDeliveries(b *testing.B) {
	const n = 100
	for _, burst := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) {
			conns, subs := benchConns(n)
			var items []outItem
			buf := make([]byte, 0, 64<<10)
			var seq int64
			b.ReportAllocs()
			for b.Loop() {
				for range burst {
					seq++
					m := &fanout.Msg{Channel: subs[0].channel, Payload: []byte(benchPayload), ID: "2-17", Seq: seq}
					for _, s := range subs {
						s.Deliver(m)
					}
				}
				for _, c := range conns {
					<-c.wake
					items, _, _, _ = c.take(items)
					buf = buf[:0]
					for _, it := range items {
						buf = c.appendItem(buf, it)
					}
					clear(items)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*burst), "ns/delivery")
		})
	}
}
