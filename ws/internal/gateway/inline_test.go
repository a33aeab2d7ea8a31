package gateway_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// Deliveries to a room with few subscribers on the node, and the replies
// to a client's own frames, are written by the goroutine that makes them
// when the socket takes them at once: no writer goroutine is started per
// delivery (Stats.WriterRuns), and every client still gets everything in
// order. A larger room keeps a writer per connection.
func TestSmallRoomsAreWrittenWithoutAWriterGoroutine(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name    string
		users   []int64
		room    func() int64
		maxRuns func(n int) uint64 // per n messages
		minRuns func(n int) uint64
	}{
		{name: "direct room", users: []int64{8, 3}, room: func() int64 { return e.directRoom(8, 3) },
			maxRuns: func(n int) uint64 { return uint64(n / 10) }, minRuns: func(int) uint64 { return 0 }},
		{name: "group of 6", users: []int64{21, 22, 23, 24, 25, 26}, room: func() int64 { return e.group(21, 22, 23, 24, 25, 26) },
			maxRuns: func(n int) uint64 { return uint64(6*n + 2) }, minRuns: func(n int) uint64 { return uint64(n) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			room := tc.room()
			dest := fmt.Sprintf("/sub/chat/room/%d", room)
			clients := make([]*client, len(tc.users))
			for i, u := range tc.users {
				clients[i], _ = e.connect(u)
				clients[i].subscribeOK("s", dest)
			}
			before := e.gw.Stats()
			const n = 40
			for i := 0; i < n; i++ {
				k := i % len(clients)
				text := fmt.Sprintf("m%d", i)
				clients[k].send("SEND", sendBody(room, tc.users[k], text), "destination", "/pub/send-message")
				for j, c := range clients {
					if got := msgOf(t, c.expect("MESSAGE"))["message"]; got != text {
						t.Fatalf("user %d got %v, want %s", tc.users[j], got, text)
					}
				}
			}
			// A reply is written by the read loop itself.
			clients[0].send("BEGIN", "", "transaction", "t", "receipt", "r")
			clients[0].expect("RECEIPT")
			st := e.gw.Stats()
			runs := st.WriterRuns - before.WriterRuns
			if d := st.Delivered - before.Delivered; d != uint64(n*len(clients)) {
				t.Fatalf("%d deliveries counted, want %d", d, n*len(clients))
			}
			if runs > tc.maxRuns(n) || runs < tc.minRuns(n) {
				t.Fatalf("%d writer goroutines started for %d messages to %d subscribers, want %d to %d",
					runs, n, len(clients), tc.minRuns(n), tc.maxRuns(n))
			}
			t.Logf("%d writer goroutines for %d deliveries", runs, n*len(clients))
		})
	}
}

// A connection written to both ways, by a writer (a large room's
// delivery, which leaves a write deadline on the socket) and inline (its
// direct room's), keeps getting its direct messages long after that
// deadline passed: the inline write must not fail on it and cut the
// client (it did, in make bench's W2, for every client whose deadline had
// been set once).
func TestInlineWritesOutliveAWritersDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	e := newEnv(t, func(c *gateway.Config) { c.WriteTimeout = timeout })
	direct := e.directRoom(8, 3)
	group := e.group(8, 3, 31, 32, 33, 34)
	var clients []*client
	for _, u := range []int64{8, 3, 31, 32, 33, 34} {
		c, _ := e.connect(u)
		c.subscribeOK("g", fmt.Sprintf("/sub/chat/room/%d", group))
		if u == 8 || u == 3 {
			c.subscribeOK("d", fmt.Sprintf("/sub/chat/room/%d", direct))
		}
		clients = append(clients, c)
	}
	runs := e.gw.Stats().WriterRuns
	clients[2].send("SEND", sendBody(group, 31, "to the group"), "destination", "/pub/send-message")
	for _, c := range clients {
		c.expect("MESSAGE")
	}
	if e.gw.Stats().WriterRuns == runs {
		t.Fatal("the group's message started no writer: the test proves nothing")
	}
	time.Sleep(3 * timeout / 2)
	for i := 0; i < 3; i++ {
		text := fmt.Sprintf("direct %d", i)
		clients[0].send("SEND", sendBody(direct, 8, text), "destination", "/pub/send-message")
		for _, c := range clients[:2] {
			if got := msgOf(t, c.expect("MESSAGE"))["message"]; got != text {
				t.Fatalf("got %v, want %s", got, text)
			}
		}
	}
	if n := e.gw.Stats().SlowConsumers; n != 0 {
		t.Fatalf("%d clients cut as slow consumers", n)
	}
}
