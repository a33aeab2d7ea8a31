package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// redisCalls is the number of commands the test's Redis has run (INFO
// commandstats), to show that a hostile client's cost is bounded.
func redisCalls(t testing.TB, rdb *redis.Client) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(info, "\n") {
		_, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		v, err := strconv.ParseInt(calls, 10, 64)
		if err != nil {
			t.Fatalf("commandstats line %q", line)
		}
		n += v
	}
	return n
}

// fillAs stores n short messages of user in room.
func (e *env) fillAs(room, user int64, n int) {
	e.t.Helper()
	for i := range n {
		if _, _, err := e.msgs.Send(context.Background(), room, user, 0, fmt.Sprint("history ", i)); err != nil {
			e.t.Fatal(err)
		}
	}
}

// framesIn is how many frames of cmd the node has handled.
func (e *env) framesIn(cmd string) uint64 { return e.gw.Stats().FramesIn[cmd] }

// TestTransactionBytesBound: what a session's open transactions hold is
// bounded in bytes (MaxTxBytes, 256 KiB by default), not only in frames;
// beyond it the session gets ERROR "limit exceeded" and close 1008, nothing
// of the transaction is applied, and another client in the room keeps
// working.
func TestTransactionBytesBound(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	healthy, _ := e.connect(3)
	healthy.send("SUBSCRIBE", "", "id", "h", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "receipt", "h")
	healthy.receipt("h")
	c, _ := e.connect(8)
	c.send("BEGIN", "", "transaction", "t")
	// 20 frames of 60 KiB: 1.2 MB, well within 128 frames per transaction.
	body := sendBody(room, 8, strings.Repeat("x", 60<<10))
	frame := fmt.Sprintf("SEND\ndestination:%s\ntransaction:t\ncontent-length:%d\n\n%s\x00", gateway.SendDestination, len(body), body)
	for range 20 {
		c.tryRaw(frame)
	}
	c.tryRaw("COMMIT\ntransaction:t\n\n\x00")
	c.expectErrorAndClose("limit exceeded: open transactions may hold at most 262144 bytes", websocket.StatusPolicyViolation)
	if n := e.rdb.ZCard(context.Background(), e.keys.RoomHistory(room)).Val(); n != 0 {
		t.Fatalf("%d messages stored from the refused transaction", n)
	}
	healthy.stillWorks(room, 3)
}

// stillWorks sends a message as user to room and waits for its RECEIPT
// and its delivery to c itself (in either order).
func (c *client) stillWorks(room, user int64) {
	c.t.Helper()
	c.send("SEND", sendBody(room, user, "still fine"), "destination", gateway.SendDestination, "receipt", "ok")
	for receipt, delivered := false, false; !receipt || !delivered; {
		switch f := c.next(); f.Command {
		case "RECEIPT":
			receipt = true
		case "MESSAGE":
			delivered = delivered || msgOf(c.t, f)["message"] == "still fine"
		default:
			c.t.Fatalf("got %s %v %q", f.Command, f.Headers, f.Body)
		}
	}
}

// TestTransactionBytesCountHeaders: header text counts too, so many small
// transactions with large headers hit the bound as well.
func TestTransactionBytesCountHeaders(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.MaxTxBytes = 64 << 10 })
	c, _ := e.connect(8)
	pad := strings.Repeat("p", 6<<10)
	var b strings.Builder
	for i := range 16 {
		fmt.Fprintf(&b, "BEGIN\ntransaction:t%d\n\n\x00", i)
		fmt.Fprintf(&b, "ACK\nid:x\ntransaction:t%d\nx-pad:%s\n\n\x00", i, pad)
	}
	c.tryRaw(b.String())
	c.expectErrorAndClose("open transactions may hold at most 65536 bytes", websocket.StatusPolicyViolation)
}

// TestSubscribeChurnIsRateLimited: SUBSCRIBE/UNSUBSCRIBE churn with
// last-seq:0 (each a history replay) packed into one WebSocket message
// gets ERROR "rate limit exceeded" and close 1008 after a bounded number of
// frames, and the Redis work it caused is bounded accordingly.
func TestSubscribeChurnIsRateLimited(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	e.fillAs(room, 3, 100)
	c, _ := e.connect(8) // no CONNECT room: every SUBSCRIBE checks membership
	dest := fmt.Sprintf("/sub/chat/room/%d", room)
	var b strings.Builder
	for range 1000 {
		fmt.Fprintf(&b, "SUBSCRIBE\nid:s\ndestination:%s\nlast-seq:0\n\n\x00UNSUBSCRIBE\nid:s\n\n\x00", dest)
	}
	before, subsBefore := redisCalls(t, e.rdb), e.framesIn("SUBSCRIBE")
	c.tryRaw(b.String())
	c.expectErrorAndClose("rate limit exceeded", websocket.StatusPolicyViolation)
	// A burst of 100 tokens, 10 per resuming SUBSCRIBE and 1 per
	// UNSUBSCRIBE: 9 pairs, then the refused SUBSCRIBE.
	if n := e.framesIn("SUBSCRIBE") - subsBefore; n > 11 {
		t.Errorf("%d SUBSCRIBEs handled, want at most 11", n)
	}
	if n := redisCalls(t, e.rdb) - before; n > 300 {
		t.Errorf("the churn cost %d Redis commands", n)
	}
}

// TestResumeFloodIsRateLimited: 64 resuming SUBSCRIBEs in one WebSocket
// message are not all executed: those beyond the SUBSCRIBE budget are
// refused, the connection is closed, and nothing after the refusal runs.
func TestResumeFloodIsRateLimited(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	e.fillAs(room, 3, 100)
	c, _ := e.connect(8)
	var b strings.Builder
	for i := range 64 {
		fmt.Fprintf(&b, "SUBSCRIBE\nid:s%d\ndestination:/sub/chat/room/%d\nlast-seq:0\n\n\x00", i, room)
	}
	before, subsBefore := redisCalls(t, e.rdb), e.framesIn("SUBSCRIBE")
	c.tryRaw(b.String())
	c.expectErrorAndClose("rate limit exceeded", websocket.StatusPolicyViolation)
	if n := e.framesIn("SUBSCRIBE") - subsBefore; n > 11 {
		t.Errorf("%d SUBSCRIBEs handled, want at most 11", n)
	}
	if n := redisCalls(t, e.rdb) - before; n > 200 {
		t.Errorf("the flood cost %d Redis commands", n)
	}
}

// TestFrameBudget: every frame after CONNECT counts against the session's
// frame budget, here with ACK/BEGIN/ABORT churn that costs no Redis.
func TestFrameBudget(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.FrameRate, c.FrameBurst = 1, 50 })
	c, _ := e.connect(8)
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "BEGIN\ntransaction:t%d\n\n\x00ABORT\ntransaction:t%d\n\n\x00", i, i)
	}
	c.tryRaw(b.String())
	c.expectErrorAndClose("rate limit exceeded: more than 1 frames a second", websocket.StatusPolicyViolation)
	if n := e.framesIn("BEGIN") + e.framesIn("ABORT"); n != 51 {
		t.Errorf("%d frames handled, want the burst of 50 and the refused one", n)
	}
}

// TestNothingRunsAfterTheCut: once a connection is being closed from
// outside its read loop (here kicked while the loop waits on Redis for a
// SUBSCRIBE's membership check), the rest of the WebSocket message already
// read is not executed.
func TestNothingRunsAfterTheCut(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	other := e.directRoom(8, 5)
	c, connected := e.connect(8)
	session := connected.Value("session")
	body := sendBody(room, 8, "after the cut")
	// Redis holds every command for a while: the SUBSCRIBE's membership
	// check waits, with the SEND read behind it in the same message.
	if err := e.rdb.Do(context.Background(), "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	c.tryRaw(fmt.Sprintf("SUBSCRIBE\nid:a\ndestination:/sub/chat/room/%d\n\n\x00", other) +
		fmt.Sprintf("SEND\ndestination:%s\ncontent-length:%d\n\n%s\x00", gateway.SendDestination, len(body), body))
	redistest.Eventually(t, "the SUBSCRIBE is being handled", func() bool { return e.framesIn("SUBSCRIBE") == 1 })
	if n := e.gw.Kick([]string{session}, "kicked by test"); n != 1 {
		t.Fatalf("kicked %d sessions, want 1", n)
	}
	c.expectErrorAndClose("session ended: kicked by test", websocket.StatusNormalClosure)
	redistest.Eventually(t, "Redis to run commands again", func() bool {
		return e.rdb.Ping(context.Background()).Err() == nil
	})
	if n := e.rdb.ZCard(context.Background(), e.keys.RoomHistory(room)).Val(); n != 0 {
		t.Errorf("%d messages in history, want 0: the SEND after the cut ran", n)
	}
	if n := e.framesIn("SEND"); n != 0 {
		t.Errorf("%d SEND frames handled after the cut, want 0", n)
	}
}
