package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

func TestSendRateLimit(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.SendRate, c.SendBurst = 1, 5 })
	room := e.directRoom(8, 3)
	watcher, _ := e.connect(3)
	watcher.send("SUBSCRIBE", "", "id", "w", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "receipt", "r")
	watcher.expect("RECEIPT")
	c, _ := e.connect(8)
	var flood strings.Builder
	for i := range 12 {
		body := sendBody(room, 8, fmt.Sprint("flood ", i))
		fmt.Fprintf(&flood, "SEND\ndestination:%s\ncontent-length:%d\n\n%s\x00", gateway.SendDestination, len(body), body)
	}
	c.tryRaw(flood.String())
	c.expectErrorAndClose("rate limit exceeded", websocket.StatusPolicyViolation)
	if n := e.rdb.ZCard(context.Background(), e.keys.RoomHistory(room)).Val(); n != 5 {
		t.Fatalf("%d messages stored, want the burst of 5", n)
	}
	// Other sessions are not affected.
	watcher.send("SEND", sendBody(room, 3, "still fine"), "destination", gateway.SendDestination, "receipt", "ok")
	for {
		if f := watcher.next(); f.Command == "RECEIPT" {
			break
		}
	}
}

func TestSessionsPerUser(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.MaxSessionsPerUser = 3 })
	var open []*client
	for range 3 {
		c, _ := e.connect(8)
		open = append(open, c)
	}
	c := e.dial()
	c.send("CONNECT", "", "Authorization", "Bearer "+e.token(8), "accept-version", "1.2")
	c.expectErrorAndClose("at most 3 concurrent sessions per user", websocket.StatusPolicyViolation)
	e.connect(3) // another user is not counted
	open[0].send("DISCONNECT", "", "receipt", "bye")
	open[0].expect("RECEIPT")
	redistest.Eventually(t, "a session slot freed", func() bool {
		return e.rdb.HLen(context.Background(), e.keys.UserSessions(8)).Val() == 2
	})
	e.connect(8)
}

func TestConnectRatePerIP(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.ConnectRate, c.ConnectBurst = 0.5, 3 })
	for range 3 {
		e.dial()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, res, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}})
	if err == nil {
		ws.CloseNow()
		t.Fatal("upgrade beyond the burst was accepted")
	}
	if res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("response %v, want 429", res)
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
		t.Fatalf("Retry-After %q, want 1-2 seconds", res.Header.Get("Retry-After"))
	}
}

// TestTokenExpiryEndsSession: when the CONNECT token's exp passes, the
// session gets ERROR "token expired" and is closed and unregistered; a
// session with a longer token is untouched.
func TestTokenExpiryEndsSession(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	short, err := auth.Mint(secret, 8, "", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	c.send("CONNECT", "", "Authorization", "Bearer "+short, "accept-version", "1.2", "chatRoomId", strconv.FormatInt(room, 10))
	sid := c.expect("CONNECTED").Value("session")
	long, _ := e.connect(3)
	f := c.expect("ERROR") // within expect's 5s: exp is at most 2s ahead
	if f.Value("message") != "token expired" {
		t.Fatalf("ERROR message %q, want \"token expired\"", f.Value("message"))
	}
	c.expectClosed()
	if got := websocket.CloseStatus(c.err); got != websocket.StatusPolicyViolation {
		t.Errorf("close status %v, want 1008", got)
	}
	redistest.Eventually(t, "expired session unregistered", func() bool {
		return e.rdb.Exists(context.Background(), e.keys.Session(sid)).Val() == 0
	})
	long.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "receipt", "r")
	long.expect("RECEIPT")
}

// TestLimitsBeforeAuthAreSmaller: header count, header length and frame
// size are much tighter before CONNECT succeeds than after.
func TestLimitsBeforeAuthAreSmaller(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	headers := func(n, size int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "x-%d:%s\n", i, strings.Repeat("v", size))
		}
		return b.String()
	}
	connect := func(extra string) string {
		return "CONNECT\naccept-version:1.2\nAuthorization:Bearer " + e.token(8) + "\n" + extra + "\n\x00"
	}
	for _, tc := range []struct{ name, frame, want string }{
		{"17 headers", connect(headers(15, 1)), "too many headers"},
		{"5 KiB header", connect(headers(1, 5<<10)), "header too long"},
		{"9 KiB frame", connect(headers(3, 3<<10)), "frame too large"},
	} {
		t.Run("before/"+tc.name, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.tryRaw(tc.frame)
			c.expectErrorAndClose(tc.want, websocket.StatusProtocolError)
		})
	}
	t.Run("after", func(t *testing.T) {
		c, _ := e.connect(8)
		dest := fmt.Sprintf("/sub/chat/room/%d", room)
		c.raw("SUBSCRIBE\nid:a\ndestination:" + dest + "\nreceipt:a\n" + headers(40, 1) + "\n\x00")
		c.expect("RECEIPT")
		c.raw("SUBSCRIBE\nid:b\ndestination:" + dest + "/events\nreceipt:b\n" + headers(3, 5<<10) + "\n\x00")
		c.expect("RECEIPT")
	})
}

// TestVanishedPeerEndsSessionAtOnce: a TCP connection that just ends (no
// DISCONNECT, no close handshake) ends its session without waiting for the
// heart-beat timeout (21s here); the read loop neither spins nor waits.
func TestVanishedPeerEndsSessionAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	c, connected := e.connect(8, "chatRoomId", strconv.FormatInt(room, 10))
	sid := connected.Value("session")
	c.raw("SUBSCRIBE\nid:a\ndestination:/sub/chat/room/" + strconv.FormatInt(room, 10) + "\n\n") // half a frame
	c.ws.CloseNow()
	redistest.Eventually(t, "session removed", func() bool {
		return e.rdb.Exists(context.Background(), e.keys.Session(sid)).Val() == 0
	})
}

// TestHugeHeartBeatIsCapped: a client asking to beat once every 24 days
// (heart-beat:2147483647,...) is held to IdleTimeout/2, so its silent
// socket is closed and its session ends after about IdleTimeout.
func TestHugeHeartBeatIsCapped(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.IdleTimeout, c.HeartbeatIn = time.Second, 200*time.Millisecond })
	c := e.dial()
	c.send("CONNECT", "", "Authorization", "Bearer "+e.token(8), "accept-version", "1.2", "heart-beat", "2147483647,2147483647")
	sid := c.expect("CONNECTED").Value("session")
	c.expectClosed() // within 5s: 2 x 500ms + 1s (and a read loop relay)
	redistest.Eventually(t, "silent session removed", func() bool {
		return e.rdb.Exists(context.Background(), e.keys.Session(sid)).Val() == 0
	})
}
