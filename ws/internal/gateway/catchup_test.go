package gateway_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
)

// newEnvHistory is newEnv with rooms keeping only historyLen messages in
// Redis (HISTORY_LEN).
func newEnvHistory(t testing.TB, historyLen int, mutate func(*gateway.Config)) *env {
	t.Helper()
	cfg := gateway.Config{WriteTimeout: 2 * time.Second, ConnectRate: -1}
	if mutate != nil {
		mutate(&cfg)
	}
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return startEnv(t, redistest.Space(t), verifier, wsnode.Config{Gateway: cfg,
		Messages: messages.Config{MaxBytes: 40000, HistoryLen: historyLen}})
}

// smallRcvbuf is the client sockets' SO_RCVBUF in these tests: the kernel
// then holds little of what the server writes, so its queue fills fast.
const smallRcvbuf = 4096

// connectSmall dials with a small SO_RCVBUF and CONNECTs without
// heart-beats; the client reads as e.connect's do until stalled.
func (e *env) connectSmall(user int64) *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, smallRcvbuf)
		}); err != nil {
			return err
		}
		return serr
	}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ws, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}, HTTPClient: hc})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 22)
	c := &client{t: e.t, ws: ws, dec: stomp.NewDecoder(stomp.Limits{MaxFrameBytes: 1 << 22}),
		frames: make(chan *stomp.Frame, 20000), closed: make(chan struct{}), gate: make(chan struct{}), done: make(chan struct{})}
	e.t.Cleanup(func() { close(c.done); ws.CloseNow() })
	go c.readLoop()
	c.send("CONNECT", "", "Authorization", "Bearer "+e.token(user), "accept-version", "1.2", "heart-beat", "0,0")
	c.expect("CONNECTED")
	return c
}

// publish stores and publishes n messages of about size bytes in room, as
// user 8; it fails the test on the first error.
func (e *env) publish(room int64, n, size int, tag string) {
	e.t.Helper()
	pad := strings.Repeat("z", size)
	for i := range n {
		if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint(tag, i, " ", pad)); err != nil {
			e.t.Fatalf("send %s %d: %v", tag, i, err)
		}
	}
}

// A live subscriber that stops reading for a while, then reads, while
// far more than its outbound queue holds is published, is not cut as a
// slow consumer: past the queue's high-water mark its subscription catches
// up from history, and it gets every seq once, in order, then live ones.
func TestSlowReaderCatchesUpFromHistory(t *testing.T) {
	for _, ack := range []string{"auto", "client-individual"} {
		t.Run(ack, func(t *testing.T) {
			e := newEnv(t, func(c *gateway.Config) {
				c.QueueFrames, c.QueueBytes = 64, 256<<10
				c.WriteTimeout = time.Minute // the stall must not be cut by the write deadline
				c.MaxReplay = 10             // a catch-up is not a last-seq resume: not capped
				c.MaxPendingAcks = 100000
			})
			room := e.directRoom(8, 3)
			c := e.connectSmall(3)
			c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "ack", ack, "receipt", "r")
			c.expect("RECEIPT")
			before := e.gw.Stats()
			release := c.stall()
			// 6 MB: more than the socket buffers (a few MB) and the queue
			// hold together.
			const stalled, reading = 1500, 500
			e.publish(room, stalled, 4000, "stalled ")
			if e.gw.Stats().SlowConsumers != before.SlowConsumers {
				t.Fatal("the stalled reader was cut as a slow consumer")
			}
			release()
			done := make(chan struct{})
			go func() { defer close(done); e.publish(room, reading, 4000, "reading ") }()
			seqs := readSeqs(t, c, stalled+reading)
			<-done
			assertSeqs(t, seqs, 1, stalled+reading)
			e.publish(room, 1, 10, "live ")
			if seq := seqOf(t, c.expect("MESSAGE")); seq != stalled+reading+1 {
				t.Fatalf("live after the catch-up: seq %d, want %d", seq, stalled+reading+1)
			}
			st := e.gw.Stats()
			if st.SlowConsumers != before.SlowConsumers || st.Sessions != 1 {
				t.Fatalf("slow consumers %d -> %d, sessions %d: the reader was cut", before.SlowConsumers, st.SlowConsumers, st.Sessions)
			}
			if st.CatchUps == before.CatchUps {
				t.Fatal("no catch-up counted")
			}
		})
	}
}

// A catch-up whose start history no longer holds (HISTORY_LEN trimmed it
// while the reader stalled) announces the gap with a RESUME_TRUNCATED
// notice, then goes on with the oldest message history holds.
func TestCatchUpAnnouncesTrimmedHistory(t *testing.T) {
	const historyLen = 50
	e := newEnvHistory(t, historyLen, func(c *gateway.Config) {
		c.QueueFrames, c.QueueBytes = 16, 64<<10
		c.WriteTimeout = time.Minute
	})
	room := e.directRoom(8, 3)
	c := e.connectSmall(3)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "receipt", "r")
	c.expect("RECEIPT")
	release := c.stall()
	const total = 1500
	e.publish(room, total, 4000, "m") // 6 MB: more than socket buffers hold
	release()
	var seqs []int
	notice := 0
	for len(seqs) == 0 || seqs[len(seqs)-1] < total {
		f := c.expect("MESSAGE")
		if f.Value(gateway.TruncatedHeader) == "true" {
			m := msgOf(t, f)
			if notice++; notice > 1 || len(seqs) == 0 || m["type"] != "RESUME_TRUNCATED" || int(m["lastSeq"].(float64)) != seqs[len(seqs)-1] {
				t.Fatalf("notice %s after seqs %v", f.Body, seqs)
			}
			seqs = append(seqs, -int(m["oldestSeq"].(float64)))
			continue
		}
		seqs = append(seqs, seqOf(t, f))
	}
	if notice == 0 {
		t.Fatalf("no RESUME_TRUNCATED notice; got %d messages", len(seqs))
	}
	// Seqs rise by one but at the notice, where the next one is the
	// announced oldestSeq; it comes after a seq history lost.
	for i := 1; i < len(seqs); i++ {
		switch {
		case seqs[i] < 0:
			if -seqs[i] <= seqs[i-1]+1 || seqs[i+1] != -seqs[i] {
				t.Fatalf("notice oldestSeq %d after %d, then %d", -seqs[i], seqs[i-1], seqs[i+1])
			}
			i++
		case seqs[i] != seqs[i-1]+1:
			t.Fatalf("seq %d after %d without a notice", seqs[i], seqs[i-1])
		}
	}
}

// A resume whose replay stalls while history is trimmed past the point it
// reached announces the gap before the next page, not silently.
func TestResumeAnnouncesHistoryTrimmedDuringTheReplay(t *testing.T) {
	const historyLen = 300
	e := newEnvHistory(t, historyLen, func(c *gateway.Config) {
		c.QueueFrames, c.QueueBytes = 16, 64<<10
		c.WriteTimeout = time.Minute
	})
	room := e.directRoom(8, 3)
	e.publish(room, historyLen, 30000, "old ") // 9 MB: the replay stalls on its first pages
	c := e.connectSmall(3)
	release := c.stall()
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "0")
	time.Sleep(300 * time.Millisecond)        // the replay reads a page and stalls in it
	e.publish(room, 2*historyLen, 10, "new ") // history keeps 601..900
	release()
	var seqs []int
	f := c.expect("MESSAGE")
	for ; f.Value(gateway.TruncatedHeader) == ""; f = c.expect("MESSAGE") {
		seq := seqOf(t, f)
		if len(seqs) > 0 && seq != seqs[len(seqs)-1]+1 {
			t.Fatalf("seq %d after %d without a notice", seq, seqs[len(seqs)-1])
		}
		seqs = append(seqs, seq)
	}
	if len(seqs) == 0 || len(seqs)%100 != 0 || len(seqs) == historyLen {
		t.Fatalf("notice after %d messages, want it at a page's end before %d", len(seqs), historyLen)
	}
	assertSeqs(t, seqs, 1, len(seqs))
	want := fmt.Sprintf(`{"type":"RESUME_TRUNCATED","chatRoomId":%d,"lastSeq":%d,"oldestSeq":%d}`, room, len(seqs), 2*historyLen+1)
	if string(f.Body) != want {
		t.Fatalf("notice %s, want %s", f.Body, want)
	}
	assertSeqs(t, readSeqs(t, c, 3*historyLen), 2*historyLen+1, 3*historyLen)
}

// UNSUBSCRIBE and DISCONNECT during a catch-up stop it as they stop a
// resume: after the RECEIPT no MESSAGE of the subscription arrives, and a
// DISCONNECT ends the session without a slow-consumer cut.
func TestCatchUpStopsOnUnsubscribeAndDisconnect(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) {
		c.QueueFrames, c.QueueBytes = 64, 256<<10
		c.WriteTimeout = time.Minute
	})
	room := e.directRoom(8, 3)
	c := e.connectSmall(3)
	dest := fmt.Sprintf("/sub/chat/room/%d", room)
	c.send("SUBSCRIBE", "", "id", "s", "destination", dest, "receipt", "r")
	c.send("SUBSCRIBE", "", "id", "t", "destination", dest, "receipt", "r2")
	c.expect("RECEIPT")
	c.expect("RECEIPT")
	before := e.gw.Stats()
	release := c.stall()
	e.publish(room, 1500, 4000, "m") // 6 MB: the queue passes its high-water mark
	if e.gw.Stats().CatchUps == before.CatchUps {
		t.Fatal("no catch-up started")
	}
	c.send("UNSUBSCRIBE", "", "id", "s", "receipt", "u")
	release()
	last := map[string]int{}
	for f := c.next(); f.Command != "RECEIPT"; f = c.next() {
		if f.Command != "MESSAGE" {
			t.Fatalf("got %s %v", f.Command, f.Headers)
		}
		sub, seq := f.Value("subscription"), seqOf(t, f)
		if seq != last[sub]+1 {
			t.Fatalf("subscription %s: seq %d after %d", sub, seq, last[sub])
		}
		last[sub] = seq
	}
	e.publish(room, 1, 10, "live ")
	for f := c.next(); ; f = c.next() {
		if f.Command != "MESSAGE" || f.Value("subscription") != "t" {
			t.Fatalf("after the UNSUBSCRIBE's RECEIPT: %s %v", f.Command, f.Headers)
		}
		if seqOf(t, f) == 1501 {
			break
		}
	}
	release = c.stall()
	e.publish(room, 1500, 4000, "more ")
	c.send("DISCONNECT", "", "receipt", "d")
	release()
	for f := c.next(); f.Command != "RECEIPT"; f = c.next() {
		if f.Command != "MESSAGE" {
			t.Fatalf("got %s %v", f.Command, f.Headers)
		}
	}
	c.expectClosed()
	redistest.EventuallyWithin(t, 10*time.Second, "the session ended", func() bool { return e.gw.Sessions() == 0 })
	if st := e.gw.Stats(); st.SlowConsumers != before.SlowConsumers {
		t.Fatalf("slow consumers %d -> %d", before.SlowConsumers, st.SlowConsumers)
	}
}
