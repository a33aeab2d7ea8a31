package gateway_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// maskedText encodes payload as one masked client text frame (< 64 KiB).
func maskedText(payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	b := []byte{0x81}
	if n := len(payload); n < 126 {
		b = append(b, 0x80|byte(n))
	} else {
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// A client may send its first frame in the same packet as the upgrade
// request: those bytes, buffered by net/http, must reach the STOMP reader.
func TestFrameRightBehindUpgrade(t *testing.T) {
	e := newEnv(t, nil)
	nc, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(e.url, "ws://"), "/ws"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	connect := "CONNECT\naccept-version:1.2\nAuthorization:Bearer " + e.token(8) + "\n\n\x00"
	req := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), maskedText([]byte(connect))...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatalf("no frame after the upgrade: %v", err)
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var l [2]byte
		_, _ = io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	if h[0] != 0x81 || !strings.HasPrefix(string(payload), "CONNECTED\n") {
		t.Fatalf("first frame %#x %q, want a text frame with CONNECTED", h[0], payload)
	}
}

// A session idle for longer than the read loop keeps its goroutine (2 s,
// after which it moves to a fresh one) still reads, answers and receives.
func TestIdleSessionKeepsWorking(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 2.5 s")
	}
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	a, _ := e.connect(8)
	b, _ := e.connect(3)
	b.send("SUBSCRIBE", "", "id", "s", "destination", "/sub/chat/room/"+strconv.FormatInt(room, 10), "receipt", "r0")
	b.expect("RECEIPT")
	time.Sleep(2500 * time.Millisecond) // longer than the read loop's relay delay
	a.send("SEND", sendBody(room, 8, "after a pause"), "destination", gateway.SendDestination, "receipt", "r1")
	a.expect("RECEIPT")
	if m := msgOf(t, b.expect("MESSAGE")); m["message"] != "after a pause" {
		t.Fatalf("message = %v", m)
	}
	time.Sleep(2500 * time.Millisecond)
	b.send("UNSUBSCRIBE", "", "id", "s", "receipt", "r2")
	b.expect("RECEIPT")
}

// Heart-beats come from one node-wide loop: no more often than negotiated.
func TestServerHeartBeatsNotTooOften(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.HeartbeatOut = 100 * time.Millisecond })
	c := e.dial()
	c.send("CONNECT", "", "accept-version", "1.2", "Authorization", "Bearer "+e.token(8), "heart-beat", "0,100")
	c.expect("CONNECTED")
	before := c.raws.Load()
	time.Sleep(time.Second)
	// Beats go out between 90 and 100 ms after the last write.
	if n := c.raws.Load() - before; n > 12 {
		t.Fatalf("%d heart-beats in 1 s at a 100 ms interval", n)
	}
	redistest.Eventually(t, "server heart-beats", func() bool { return c.raws.Load() >= before+3 })
}
