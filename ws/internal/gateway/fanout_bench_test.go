package gateway

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"

	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// benchPayload is a chat message as send.lua publishes it, with the text a
// chatload publisher stamps (64 bytes).
const benchPayload = `{"id":"2-17","chatRoomId":2,"seq":17,"sendId":8,"rcvId":3,"message":"t=1795709956184798994 n=3419 p=1 r=643240857 xxxxxxxxxxxxxxxxxx","sentAt":"2026-11-26T15:44:02.123Z"}`

// benchConns returns n connections, each with one auto-ack subscription to
// room 2, as the hub sees them. With sockets, each writes to a real
// loopback TCP connection whose other end is drained and discarded.
func benchConns(tb testing.TB, n int, sockets bool) ([]*conn, []*subscription) {
	tb.Helper()
	srv := New(Config{NodeID: "bench", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Keys: keys.MustNew("bench")})
	var ln net.Listener
	if sockets {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
		defer ln.Close()
	}
	conns := make([]*conn, n)
	subs := make([]*subscription, n)
	for i := range conns {
		c := newConn(srv, "127.0.0.1")
		c.connected = true
		if sockets {
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				tb.Fatal(err)
			}
			server, err := ln.Accept()
			if err != nil {
				tb.Fatal(err)
			}
			go func() { _, _ = io.Copy(io.Discard, client) }()
			tb.Cleanup(func() { server.Close(); client.Close() })
			c.ws = wsconn.New(server, nil)
		}
		s := &subscription{c: c, id: "sub-0", dest: "/sub/chat/room/2", channel: srv.keys.RoomMessages(2), roomID: 2, ack: ackAuto,
			idEsc: stomp.AppendEscaped(nil, "sub-0", c.version), destEsc: stomp.AppendEscaped(nil, "/sub/chat/room/2", c.version)}
		s.head = messageHead(s.destEsc)
		conns[i], subs[i] = c, s
	}
	return conns, subs
}

// BenchmarkAppendDelivery encodes one MESSAGE frame from the node-wide
// shared message into a writer's buffer: the per-delivery encoding cost.
func BenchmarkAppendDelivery(b *testing.B) {
	conns, subs := benchConns(b, 1, false)
	c, s := conns[0], subs[0]
	m := fanout.NewMsg(s.channel, []byte(benchPayload))
	buf := c.appendItem(nil, outItem{msg: m, sub: s})
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = c.appendItem(buf[:0], outItem{msg: m, sub: s})
	}
}

// BenchmarkDeliverToLocalSubscribers is the node's whole work for one chat
// message with N local subscribers once the hub has it: every subscription
// queues it (Deliver: bounded queue, writer start), and every connection's
// writer encodes the MESSAGE, frames it and writes it to a real loopback
// socket (drained by a reader goroutine, whose CPU counts too). ns/delivery
// is the figure to compare with CPU-µs per delivery of W3 at low rates.
func BenchmarkDeliverToLocalSubscribers(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			conns, subs := benchConns(b, n, true)
			var seq int64
			b.ReportAllocs()
			for b.Loop() {
				seq++
				m := &fanout.Msg{Channel: subs[0].channel, Payload: []byte(benchPayload), ID: "2-17", Seq: seq}
				for _, s := range subs {
					s.Deliver(m)
				}
				for _, c := range conns {
					c.writers.Wait()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
			if got, want := conns[0].srv.framesOut.Load(), uint64(b.N*n); got != want {
				b.Fatalf("wrote %d WebSocket messages, want %d", got, want)
			}
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
			conns, subs := benchConns(b, n, true)
			var seq int64
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range conns {
					c.qmu.Lock()
					c.writing = true // hold the writers back until the burst is queued
					c.qmu.Unlock()
				}
				for range burst {
					seq++
					m := &fanout.Msg{Channel: subs[0].channel, Payload: []byte(benchPayload), ID: "2-17", Seq: seq}
					for _, s := range subs {
						s.Deliver(m)
					}
				}
				for _, c := range conns {
					c.qmu.Lock()
					c.writing = false
					c.startWriterLocked()
					c.qmu.Unlock()
				}
				for _, c := range conns {
					c.writers.Wait()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*burst), "ns/delivery")
		})
	}
}
