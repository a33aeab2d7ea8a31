package wsconn_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

func dial(t *testing.T, url string, protos ...string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: protos})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(-1)
	return ws
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

// Messages of every header size, text and binary, whole and fragmented,
// come back whole from coder/websocket's client.
func TestEchoCoderClient(t *testing.T) {
	url, _ := server(t, nil)
	ws := dial(t, url)
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 300 << 10} {
		msg := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
			if err := ws.Write(ctx(t), typ, msg); err != nil {
				t.Fatal(err)
			}
			typ2, got, err := ws.Read(ctx(t))
			if err != nil || typ2 != websocket.MessageText || !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes: got %d bytes, type %v, err %v", n, len(got), typ2, err)
			}
		}
	}
	// Fragmented: coder/websocket writes one frame per Write.
	w, err := ws.Writer(ctx(t), websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"one ", "", "two ", strings.Repeat("x", 1000)} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ws.Read(ctx(t)); err != nil || string(got) != "one two "+strings.Repeat("x", 1000) {
		t.Fatalf("fragmented message: %q, %v", got, err)
	}
}

// A client's ping is answered with a pong.
func TestPingPong(t *testing.T) {
	url, _ := server(t, nil)
	ws := dial(t, url)
	ws.CloseRead(context.Background()) // reads control frames in the background
	if err := ws.Ping(ctx(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

// Close sends the code and reason; the handshake completes and the read
// loop ends without an error.
func TestServerClose(t *testing.T) {
	url, conns := server(t, nil)
	ws := dial(t, url)
	e := <-conns
	done := make(chan error, 1)
	go func() { done <- e.c.Close(wsconn.StatusPolicyViolation, strings.Repeat("é", 100)) }()
	_, _, err := ws.Read(ctx(t))
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || len(ce.Reason) > 123 || !strings.HasSuffix(ce.Reason, "...") {
		t.Fatalf("client read: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-e.ends; err != nil {
		t.Fatalf("read loop ended with %v", err)
	}
	if err := e.c.WriteText(make([]byte, wsconn.HeaderRoom+1)); !errors.Is(err, wsconn.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// The client's close is answered with the same code (coder/websocket's
// Close waits for it) and ends the read loop.
func TestClientClose(t *testing.T) {
	url, conns := server(t, nil)
	ws := dial(t, url)
	e := <-conns
	if err := ws.Close(websocket.StatusGoingAway, "bye"); err != nil {
		t.Fatalf("client close handshake: %v", err)
	}
	if err := <-e.ends; err != nil {
		t.Fatalf("read loop ended with %v", err)
	}
}

// A message over the read limit fails the connection with 1009.
func TestReadLimit(t *testing.T) {
	url, _ := server(t, &wsconn.Options{ReadLimit: 1000})
	ws := dial(t, url)
	if err := ws.Write(ctx(t), websocket.MessageText, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ws.Read(ctx(t)); err != nil || len(got) != 1000 {
		t.Fatalf("message at the limit: %d bytes, %v", len(got), err)
	}
	_ = ws.Write(ctx(t), websocket.MessageText, make([]byte, 1001))
	if _, _, err := ws.Read(ctx(t)); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("client read: %v, want close 1009", err)
	}
}

// The highest subprotocol of ours the client offers is selected.
func TestSubprotocol(t *testing.T) {
	url, _ := server(t, &wsconn.Options{Subprotocols: []string{"v12.stomp", "v11.stomp", "v10.stomp"}})
	if got := dial(t, url, "v10.stomp", "v11.stomp", "v12.stomp").Subprotocol(); got != "v12.stomp" {
		t.Fatalf("subprotocol %q", got)
	}
	if got := dial(t, url, "v10.stomp").Subprotocol(); got != "v10.stomp" {
		t.Fatalf("subprotocol %q", got)
	}
	if got := dial(t, url, "mqtt").Subprotocol(); got != "" {
		t.Fatalf("subprotocol %q", got)
	}
}

// Bad upgrades get the HTTP errors of RFC 6455 §4.2.2; foreign origins 403.
func TestHandshakeRefusals(t *testing.T) {
	url, _ := server(t, &wsconn.Options{OriginPatterns: []string{"https://app.example.com"}})
	httpURL := "http" + strings.TrimPrefix(url, "ws")
	good := func(r *http.Request) {
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Sec-WebSocket-Version", "13")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	}
	for _, tc := range []struct {
		name   string
		change func(r *http.Request)
		want   int
	}{
		{"no upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, http.StatusUpgradeRequired},
		{"no connection upgrade", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, http.StatusUpgradeRequired},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, http.StatusBadRequest},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, http.StatusBadRequest},
		{"short key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "c2hvcnQ=") }, http.StatusBadRequest},
		{"POST", func(r *http.Request) { r.Method = http.MethodPost }, http.StatusMethodNotAllowed},
		{"foreign origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example.com") }, http.StatusForbidden},
		{"wrong scheme", func(r *http.Request) { r.Header.Set("Origin", "http://app.example.com") }, http.StatusForbidden},
		{"allowed origin", func(r *http.Request) { r.Header.Set("Origin", "https://app.example.com") }, http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, httpURL, nil)
			good(r)
			tc.change(r)
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusBadRequest && tc.name == "version 8" && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatal("no Sec-WebSocket-Version: 13 in the refusal")
			}
		})
	}
}
