package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// fill stores n messages of about size bytes each in room through the send
// path, as user 8 (seqs from+1..from+n).
func (e *env) fill(room int64, n, size int) {
	e.t.Helper()
	pad := strings.Repeat("x", size)
	for i := 1; i <= n; i++ {
		if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint("m", i, " ", pad)); err != nil {
			e.t.Fatalf("send %d: %v", i, err)
		}
	}
}

// connectHeld dials and CONNECTs (no heart-beats) like e.connect, but the
// client's read loop starts only when release is called: until then nothing
// is read from the socket, as from a frozen tab or a stalled network.
func (e *env) connectHeld(user int64) (c *client, release func()) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 22)
	c = &client{t: e.t, ws: ws, dec: stomp.NewDecoder(stomp.Limits{MaxFrameBytes: 1 << 22}),
		frames: make(chan *stomp.Frame, 10000), closed: make(chan struct{}), gate: make(chan struct{}), done: make(chan struct{})}
	e.t.Cleanup(func() { close(c.done); ws.CloseNow() })
	c.send("CONNECT", "", "Authorization", "Bearer "+e.token(user), "accept-version", "1.2", "heart-beat", "0,0")
	if _, data, err := ws.Read(ctx); err != nil || !strings.HasPrefix(string(data), "CONNECTED") {
		e.t.Fatalf("CONNECT: %q %v", data, err)
	}
	var once sync.Once
	return c, func() { once.Do(func() { go c.readLoop() }) }
}

// readSeqs reads MESSAGE frames until seq last arrived and returns every
// seq in arrival order; any other frame fails the test.
func readSeqs(t *testing.T, c *client, last int) []int {
	t.Helper()
	var seqs []int
	for len(seqs) == 0 || seqs[len(seqs)-1] < last {
		f := c.expect("MESSAGE")
		seqs = append(seqs, seqOf(t, f))
	}
	return seqs
}

// seqOf returns the seq of a chat MESSAGE; a notice fails the test.
func seqOf(t *testing.T, f *stomp.Frame) int {
	t.Helper()
	seq, ok := msgOf(t, f)["seq"].(float64)
	if !ok {
		t.Fatalf("MESSAGE %v %s has no seq", f.Headers, f.Body)
	}
	return int(seq)
}

// assertSeqs checks that seqs are from..to, each once, in order.
func assertSeqs(t *testing.T, seqs []int, from, to int) {
	t.Helper()
	if len(seqs) != to-from+1 {
		t.Fatalf("got %d messages, want %d (%d..%d)", len(seqs), to-from+1, from, to)
	}
	for i, s := range seqs {
		if s != from+i {
			t.Fatalf("message %d has seq %d, want %d: every seq once, in order", i, s, from+i)
		}
	}
}

// A fast reader resuming over a backlog larger than its outbound queue
// (1,000 x 4 KB > WS_QUEUE_BYTES 4 MiB) gets all of it, in order, then the
// live messages sent during and after the replay.
func TestResumeStreamsABacklogLargerThanTheQueue(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	const backlog, during, after = 1000, 50, 10
	e.fill(room, backlog, 4000)
	c, _ := e.connect(3)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "0", "receipt", "r")
	// The RECEIPT comes once the subscription is live (it may overtake
	// replayed messages): messages sent from then on are live ones.
	var seqs []int
	for f := c.next(); f.Command != "RECEIPT"; f = c.next() {
		if f.Command != "MESSAGE" {
			t.Fatalf("got %s %v", f.Command, f.Headers)
		}
		seqs = append(seqs, seqOf(t, f))
	}
	sent := make(chan error, 1)
	go func() {
		for i := range during {
			if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint("during ", i)); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	seqs = append(seqs, readSeqs(t, c, backlog+during)...)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	for i := range after {
		if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint("after ", i)); err != nil {
			t.Fatal(err)
		}
	}
	seqs = append(seqs, readSeqs(t, c, backlog+during+after)...)
	assertSeqs(t, seqs, 1, backlog+during+after)
	c.noFrame(100 * time.Millisecond)
}

// Live messages of a busy room published while the replay is stalled (the
// reader does not read yet) overflow the bounded live buffer: it is dropped
// and the replay reads them from history. The reader still gets every seq
// once, in order.
func TestResumeKeepsLiveMessagesOfAStalledReplay(t *testing.T) {
	// A long write deadline: the stalled reader must not be cut here.
	e := newEnv(t, func(c *gateway.Config) { c.WriteTimeout = time.Minute })
	room := e.directRoom(8, 3)
	// 12.8 MB: more than socket buffers and the queue hold together, so
	// the replay cannot finish before the reader reads.
	const backlog, size = 800, 16000
	e.fill(room, backlog, size)
	c, release := e.connectHeld(3)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "0")
	pad := strings.Repeat("y", size)
	live := 0
	send := func() {
		t.Helper()
		live++
		if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint("live ", live, pad)); err != nil {
			t.Fatal(err)
		}
	}
	// Publish until the live buffer (WS_QUEUE_BYTES/4 = 1 MiB) overflowed.
	for !strings.Contains(e.logs.String(), "resume live buffer dropped") {
		if live == 150 {
			t.Fatal("the live buffer never overflowed")
		}
		send()
		time.Sleep(5 * time.Millisecond) // traffic shape: the hub delivers them meanwhile
	}
	for range 20 {
		send()
	}
	release()
	assertSeqs(t, readSeqs(t, c, backlog+live), 1, backlog+live)
	send()
	if m := msgOf(t, c.expect("MESSAGE")); m["seq"] != float64(backlog+live) {
		t.Fatalf("live after the replay: seq %v, want %d", m["seq"], backlog+live)
	}
}

// last-seq beyond the room's latest seq (a client holding state from a
// reset database, or a bug) is treated as the latest, said so in an
// x-resume-reset notice, and later live messages are delivered.
func TestResumeBeyondTheLatestSeqResets(t *testing.T) {
	for _, stored := range []int{0, 5} {
		t.Run(fmt.Sprint(stored, " stored"), func(t *testing.T) {
			e := newEnv(t, nil)
			room := e.directRoom(8, 3)
			e.fill(room, stored, 10)
			c, _ := e.connect(3)
			c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "50", "receipt", "r")
			n := c.expect("MESSAGE")
			want := fmt.Sprintf(`{"type":"RESUME_RESET","chatRoomId":%d,"lastSeq":50,"latestSeq":%d}`, room, stored)
			if n.Value("x-resume-reset") != "true" || string(n.Body) != want || n.Value("subscription") != "s" {
				t.Fatalf("notice = %v %s, want x-resume-reset and %s", n.Headers, n.Body, want)
			}
			c.expect("RECEIPT")
			if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, "live"); err != nil {
				t.Fatal(err)
			}
			if m := msgOf(t, c.expect("MESSAGE")); m["seq"] != float64(stored+1) || m["message"] != "live" {
				t.Fatalf("live message = %v, want seq %d", m, stored+1)
			}
		})
	}
}

// A resuming client that never reads is still cut off as a slow consumer
// (write deadline), while the replay waits on its queue.
func TestResumeOfAReaderThatNeverReadsIsCut(t *testing.T) {
	e := newEnv(t, nil) // WriteTimeout 2s
	room := e.directRoom(8, 3)
	e.fill(room, 800, 16000)
	before := e.gw.Stats().SlowConsumers
	c, _ := e.connectHeld(3)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "0")
	// The cut comes from the 2 s write deadline: allow a loaded machine more.
	redistest.EventuallyWithin(t, 20*time.Second, "the stalled reader cut as a slow consumer", func() bool {
		return e.gw.Stats().SlowConsumers > before && e.gw.Sessions() == 0
	})
}

// The replay stops at MaxReplay messages; the gap to the live messages is
// announced by a RESUME_TRUNCATED notice right before the first message
// after it.
func TestResumeCapAnnouncesTheGap(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.MaxReplay = 10 })
	room := e.directRoom(8, 3)
	e.fill(room, 30, 10)
	c, _ := e.connect(3)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "0", "receipt", "r")
	var seqs []int
	for receipt := false; len(seqs) < 10 || !receipt; {
		switch f := c.next(); f.Command {
		case "MESSAGE":
			seqs = append(seqs, seqOf(t, f))
		case "RECEIPT":
			receipt = true
		default:
			t.Fatalf("got %s %v", f.Command, f.Headers)
		}
	}
	assertSeqs(t, seqs, 1, 10)
	if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, "live"); err != nil {
		t.Fatal(err)
	}
	n := c.expect("MESSAGE")
	want := fmt.Sprintf(`{"type":"RESUME_TRUNCATED","chatRoomId":%d,"lastSeq":10,"oldestSeq":31}`, room)
	if n.Value("x-resume-truncated") != "true" || string(n.Body) != want {
		t.Fatalf("notice = %v %s, want %s", n.Headers, n.Body, want)
	}
	if m := msgOf(t, c.expect("MESSAGE")); m["seq"] != float64(31) {
		t.Fatalf("then seq %v, want 31", m["seq"])
	}
}

// UNSUBSCRIBE stops a replay in progress: after its RECEIPT no MESSAGE of
// the subscription arrives.
func TestUnsubscribeStopsAReplay(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.WriteTimeout = time.Minute })
	room := e.directRoom(8, 3)
	e.fill(room, 800, 16000) // more than socket buffers hold: the replay stalls
	c, release := e.connectHeld(3)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "0")
	c.send("UNSUBSCRIBE", "", "id", "s", "receipt", "u")
	release()
	n := 0
	for f := c.next(); f.Command != "RECEIPT"; f = c.next() {
		if f.Command != "MESSAGE" {
			t.Fatalf("got %s %v", f.Command, f.Headers)
		}
		if n++; seqOf(t, f) != n {
			t.Fatalf("message %d has seq %d", n, seqOf(t, f))
		}
	}
	if n == 800 {
		t.Fatal("the whole replay arrived: it was never stalled")
	}
	if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, "live"); err != nil {
		t.Fatal(err)
	}
	c.noFrame(200 * time.Millisecond)
}
