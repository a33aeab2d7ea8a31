package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// rawBinary sends bytes as one binary WebSocket message.
func (c *client) rawBinary(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// tryRaw sends bytes as one text message and ignores a failed write: the
// server may hang up in the middle of a hostile input.
func (c *client) tryRaw(s string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, []byte(s))
}

// dribble writes s one byte per WebSocket message, every gap, in the
// background, and stops at the first write error (the server hung up).
func (c *client) dribble(s string, gap time.Duration) {
	go func() {
		for i := range len(s) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := c.ws.Write(ctx, websocket.MessageText, []byte{s[i]})
			cancel()
			if err != nil {
				return
			}
			select {
			case <-c.done:
				return
			case <-time.After(gap):
			}
		}
	}()
}

// expectErrorAndClose asserts an ERROR frame whose message contains want
// (deliveries and receipts before it are skipped), then the close of the
// connection with code.
func (c *client) expectErrorAndClose(want string, code websocket.StatusCode) {
	c.t.Helper()
	f := c.next()
	for f.Command == "MESSAGE" || f.Command == "RECEIPT" {
		f = c.next()
	}
	if f.Command != "ERROR" {
		c.t.Fatalf("got %s %v %q, want ERROR", f.Command, f.Headers, f.Body)
	}
	msg, ok := f.Get("message")
	if !ok || !strings.Contains(msg, want) {
		c.t.Fatalf("ERROR message %q (present %v), want it to contain %q", msg, ok, want)
	}
	c.expectClosed()
	if got := websocket.CloseStatus(c.err); got != code {
		c.t.Errorf("close status %v (%v), want %v", got, c.err, code)
	}
}

// receipt waits for the RECEIPT of id, skipping deliveries before it.
func (c *client) receipt(id string) {
	c.t.Helper()
	for {
		f := c.next()
		switch f.Command {
		case "MESSAGE":
			continue
		case "RECEIPT":
			if f.Value("receipt-id") == id {
				return
			}
		}
		c.t.Fatalf("got %s %v %q, want RECEIPT %s", f.Command, f.Headers, f.Body, id)
	}
}

// hostileCase is one malformed or abusive input: run sends it over a fresh
// raw connection; want is part of the ERROR message and code the close code.
// ok cases must be served normally instead.
type hostileCase struct {
	name string
	run  func(t *testing.T, e *env, c *client)
	want string
	code websocket.StatusCode
	ok   bool
}

const (
	protocolError = websocket.StatusProtocolError
	policy        = websocket.StatusPolicyViolation
	connectTO     = 1500 * time.Millisecond
)

// TestHostileSTOMP is the catalogue of malformed and abusive STOMP: each
// case gets ERROR (with a message) and the close of its own connection
// only, while a healthy client in the same room keeps receiving every
// message sent throughout, by STOMP between cases and by the send path in
// the background. (Rate and session limits are in limits_test.go.)
func TestHostileSTOMP(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) {
		c.ConnectTimeout = connectTO
		c.MaxSubscriptions = 4
	})
	room := e.directRoom(8, 3)
	dest := fmt.Sprintf("/sub/chat/room/%d", room)
	healthy, _ := e.connect(8)
	healthy.send("SUBSCRIBE", "", "id", "h", "destination", dest, "receipt", "h")
	healthy.expect("RECEIPT")
	sender, _ := e.connect(3)

	// Background traffic straight into the send path while the table runs.
	stop := make(chan struct{})
	var bg sync.WaitGroup
	var bgSent int
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			if _, _, err := e.msgs.Send(context.Background(), room, 3, 8, fmt.Sprint("background ", bgSent)); err == nil {
				bgSent++
			}
		}
	}()

	connected := func(c *client, version string) {
		t.Helper()
		c.send("CONNECT", "", "Authorization", "Bearer "+e.token(8), "accept-version", version)
		c.expect("CONNECTED")
	}
	send := func(body string) string {
		return fmt.Sprintf("SEND\ndestination:%s\ncontent-length:%d\n\n%s\x00", gateway.SendDestination, len(body), body)
	}
	msg := sendBody(room, 8, "hostile")
	connectFrame := "CONNECT\naccept-version:1.2\nAuthorization:Bearer " + e.token(8) + "\n\n\x00"
	cases := []hostileCase{
		{name: "bad command", want: "unknown command", code: protocolError,
			run: func(t *testing.T, e *env, c *client) { c.tryRaw("HELLO\n\n\x00") }},
		{name: "lower-case command", want: "unknown command", code: protocolError,
			run: func(t *testing.T, e *env, c *client) { c.tryRaw(strings.ToLower(connectFrame)) }},
		{name: "missing NUL before CONNECT", want: "timed out waiting for CONNECT", code: policy,
			run: func(t *testing.T, e *env, c *client) { c.tryRaw(strings.TrimSuffix(connectFrame, "\x00")) }},
		{name: "missing NUL after CONNECT", want: "frame too large", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw("SEND\ndestination:" + gateway.SendDestination + "\n\n" + msg)
				for range 5 { // the body never ends: bounded by the frame limit
					c.tryRaw(strings.Repeat("x", 16<<10))
				}
			}},
		{name: "NUL inside a header", want: "malformed header", code: protocolError,
			run: func(t *testing.T, e *env, c *client) { c.tryRaw("CONNECT\naccept-version:1.2\nhost:a\x00b\n\n\x00") }},
		{name: "content-length shorter than the body", want: "content-length does not match", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(strings.Replace(send(msg), fmt.Sprint("content-length:", len(msg)), "content-length:5", 1))
			}},
		{name: "content-length longer than the body", want: "content-length does not match", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(strings.Replace(send(msg), fmt.Sprint("content-length:", len(msg)), "content-length:4000", 1))
				c.tryRaw(strings.Repeat("y", 4000)) // what the lie swallows
			}},
		{name: "content-length beyond the frame limit", want: "frame too large", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(strings.Replace(send(msg), fmt.Sprint("content-length:", len(msg)), "content-length:99999999999999999999", 1))
			}},
		{name: "content-length not a number", want: "invalid content-length", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(strings.Replace(send(msg), fmt.Sprint("content-length:", len(msg)), "content-length:-1", 1))
			}},
		{name: "invalid escape, 1.2", want: "invalid header escape", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw("SUBSCRIBE\nid:a\\tb\ndestination:" + dest + "\n\n\x00")
			}},
		{name: "lone trailing backslash, 1.2", want: "invalid header escape", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw("SUBSCRIBE\nid:ab\\\ndestination:" + dest + "\n\n\x00")
			}},
		{name: "\\r escape is 1.2 only, 1.1", want: "invalid header escape", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.1")
				c.tryRaw("SUBSCRIBE\nid:a\\rb\ndestination:" + dest + "\n\n\x00")
			}},
		{name: "1.0 has no escapes: backslashes are data", ok: true,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.0")
				c.raw("SUBSCRIBE\nid:a\\qb\ndestination:" + dest + "\nreceipt:r\n\n\x00")
				c.receipt("r")
			}},
		{name: "header without colon", want: "malformed header", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw("SUBSCRIBE\nid\ndestination:" + dest + "\n\n\x00")
			}},
		{name: "10,000 headers before CONNECT", want: "too many headers", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				c.tryRaw("CONNECT\n" + strings.Repeat("h:v\n", 10000) + "\n\x00")
			}},
		{name: "10,000 headers after CONNECT", want: "too many headers", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw("SUBSCRIBE\n" + strings.Repeat("h:v\n", 10000) + "\n\x00")
			}},
		{name: "huge header line before CONNECT", want: "header too long", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				c.tryRaw("CONNECT\nAuthorization:Bearer " + strings.Repeat("A", 100<<10) + "\n\n\x00")
			}},
		{name: "huge header line after CONNECT", want: "header too long", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw("SUBSCRIBE\nid:" + strings.Repeat("i", 20<<10) + "\n\n\x00")
			}},
		{name: "frames split at every byte", ok: true,
			run: func(t *testing.T, e *env, c *client) {
				body := sendBody(room, 8, "split")
				all := connectFrame + "SUBSCRIBE\nid:s\ndestination:" + dest + "\nreceipt:r\n\n\x00" +
					fmt.Sprintf("SEND\ndestination:%s\n\n%s\x00", gateway.SendDestination, body)
				for i := range len(all) {
					c.raw(all[i : i+1])
				}
				c.expect("CONNECTED")
				c.receipt("r")
				for msgOf(t, c.expect("MESSAGE"))["message"] != "split" { // background traffic first
				}
			}},
		{name: "invalid UTF-8 in a header", want: "malformed header", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw("SUBSCRIBE\nid:\xff\xfe\ndestination:" + dest + "\n\n\x00")
			}},
		{name: "binary garbage", want: "unknown command", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				c.rawBinary(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x7f}, 100))
			}},
		{name: "lone surrogate escape in a SEND body", want: "bad request: body must be UTF-8", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(send(`{"chatRoomId":` + fmt.Sprint(room) + `,"message":"a\ud800b"}`))
			}},
		{name: "low surrogate first in a SEND body", want: "bad request: body must be UTF-8", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(send(`{"chatRoomId":` + fmt.Sprint(room) + `,"message":"\udc00\ud800"}`))
			}},
		{name: "invalid UTF-8 in an escaped SEND body", want: "bad request: body must be UTF-8", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.rawBinary([]byte(send(`{"chatRoomId":` + fmt.Sprint(room) + `,"message":"\"quoted\" ` + "\xff\xfe" + `"}`)))
			}},
		{name: "zero-width characters only", want: "message is empty", code: policy,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(send(`{"chatRoomId":` + fmt.Sprint(room) + `,"message":"\u200b\u200c\u200d\u2060\ufeff"}`))
			}},
		{name: "zero-width characters only, unescaped", want: "message is empty", code: policy,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(send(`{"chatRoomId":` + fmt.Sprint(room) + `,"message":" ` + "\u200b\u3164" + ` "}`))
			}},
		{name: "WebSocket message of exactly 1 MiB", ok: true,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.raw(strings.Repeat("\n", 1<<20-len("DISCONNECT\nreceipt:r\n\n\x00")) + "DISCONNECT\nreceipt:r\n\n\x00")
				c.receipt("r")
				c.expectClosed()
			}},
		{name: "WebSocket message over 1 MiB of heart-beats", want: "malformed frame: message too large", code: websocket.StatusMessageTooBig,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(strings.Repeat("\n", 1<<20+1))
			}},
		{name: "WebSocket message over 1 MiB of whole frames", want: "malformed frame: message too large", code: websocket.StatusMessageTooBig,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				pad := "\nx-pad:" + strings.Repeat("p", 4000) + "\n\n\x00"
				pair := "BEGIN\ntransaction:t" + pad + "ABORT\ntransaction:t" + pad
				c.tryRaw(strings.Repeat(pair, (1<<20)/len(pair)+1))
			}},
		{name: "SEND before CONNECT", want: "expected CONNECT", code: protocolError,
			run: func(t *testing.T, e *env, c *client) { c.tryRaw(send(msg)) }},
		{name: "body on CONNECT", want: "must not have a body", code: protocolError,
			run: func(t *testing.T, e *env, c *client) { c.tryRaw("CONNECT\naccept-version:1.2\n\nhello\x00") }},
		{name: "second CONNECT", want: "already connected", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.tryRaw(connectFrame)
			}},
		{name: "SUBSCRIBE without id", want: "needs an id", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.send("SUBSCRIBE", "", "destination", dest)
			}},
		{name: "duplicate subscription id", want: "already in use", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.send("SUBSCRIBE", "", "id", "x", "destination", dest, "receipt", "r")
				c.receipt("r")
				c.send("SUBSCRIBE", "", "id", "x", "destination", dest+"/events")
			}},
		{name: "subscriptions over the limit", want: "at most 4 subscriptions", code: policy,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				for i := range 5 {
					c.send("SUBSCRIBE", "", "id", fmt.Sprint(i), "destination", dest)
				}
			}},
		{name: "UNSUBSCRIBE of an unknown id", want: "no subscription", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.send("UNSUBSCRIBE", "", "id", "never")
			}},
		{name: "ACK of an unknown id", want: "unknown message", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.send("ACK", "", "id", "sub:1-1")
			}},
		{name: "COMMIT of an unknown transaction", want: "unknown transaction", code: protocolError,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				c.send("COMMIT", "", "transaction", "tx-never")
			}},
		{name: "transactions holding over 256 KiB", want: "limit exceeded: open transactions may hold at most", code: policy,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				body := strings.Repeat("x", 60<<10)
				frame := fmt.Sprintf("SEND\ndestination:%s\ntransaction:t\ncontent-length:%d\n\n%s\x00", gateway.SendDestination, len(body), body)
				c.tryRaw("BEGIN\ntransaction:t\n\n\x00")
				for range 8 {
					c.tryRaw(frame)
				}
			}},
		{name: "SUBSCRIBE/UNSUBSCRIBE churn with last-seq:0", want: "rate limit exceeded", code: policy,
			run: func(t *testing.T, e *env, c *client) {
				connected(c, "1.2")
				pair := "SUBSCRIBE\nid:s\ndestination:" + dest + "\nlast-seq:0\n\n\x00UNSUBSCRIBE\nid:s\n\n\x00"
				c.tryRaw(strings.Repeat(pair, 200))
			}},
		{name: "slowloris: CONNECT dribbled past the timeout", want: "timed out waiting for CONNECT", code: policy,
			run: func(t *testing.T, e *env, c *client) { c.dribble(connectFrame, connectTO/5) }},
		{name: "CONNECT never sent", want: "timed out waiting for CONNECT", code: policy,
			run: func(t *testing.T, e *env, c *client) {}},
	}
	stompSent := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial()
			c.t = t // fail this case, not the whole table
			tc.run(t, e, c)
			if !tc.ok {
				c.expectErrorAndClose(tc.want, tc.code)
			}
		})
		// The healthy pair keeps working after every case.
		sender.send("SEND", sendBody(room, 3, "after "+tc.name), "destination", gateway.SendDestination, "receipt", "after")
		sender.expect("RECEIPT")
		stompSent++
	}
	close(stop)
	bg.Wait()

	// The healthy subscriber got every message, in order, once (the split
	// case added one of user 8's own).
	var got []string
	deadline := time.After(15 * time.Second)
	for {
		last, err := e.rdb.HGet(context.Background(), e.keys.RoomMeta(room), "lastSeq").Int()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == last {
			break
		}
		select {
		case f := <-healthy.frames:
			if f.Command != "MESSAGE" {
				t.Fatalf("healthy client got %s %v", f.Command, f.Headers)
			}
			m := msgOf(t, f)
			if int(m["seq"].(float64)) != len(got)+1 {
				t.Fatalf("healthy client got seq %v after %d messages", m["seq"], len(got))
			}
			got = append(got, m["message"].(string))
		case <-deadline:
			t.Fatalf("healthy client has %d of %d messages", len(got), last)
		}
	}
	counts := map[string]int{}
	for _, m := range got {
		counts[strings.SplitN(m, " ", 2)[0]]++
	}
	if counts["after"] != stompSent || counts["background"] != bgSent {
		t.Fatalf("healthy client got %v; want %d 'after' and %d 'background'", counts, stompSent, bgSent)
	}
	select {
	case <-healthy.closed:
		t.Fatalf("healthy client was disconnected: %v", healthy.err)
	default:
	}
}
