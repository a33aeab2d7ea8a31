package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

func TestOriginCheck(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) {
		c.AllowedOrigins = []string{"https://app.example.com", "*.example.org", "https://*.example.net/"}
	})
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true}, // non-browser client
		{"https://app.example.com", true},
		{"HTTPS://App.Example.com", true},
		{"https://evil.example.com", false},
		{"http://localhost:9999", false},
		{"http://app.example.com", false}, // the configured origin's scheme is https
		{"wss://app.example.com", false},
		{"http://chat.example.org", true}, // a bare host pattern takes any scheme
		{"https://chat.example.org", true},
		{"https://chat.example.net", true},
		{"http://chat.example.net", false},
	}
	for _, tc := range cases {
		t.Run(tc.origin, func(t *testing.T) {
			opts := &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}}
			if tc.origin != "" {
				opts.HTTPHeader = map[string][]string{"Origin": {tc.origin}}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ws, resp, err := websocket.Dial(ctx, e.url, opts)
			if tc.ok {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if ws.Subprotocol() != "v12.stomp" {
					t.Errorf("subprotocol = %q", ws.Subprotocol())
				}
				ws.CloseNow()
				return
			}
			if err == nil {
				ws.CloseNow()
				t.Fatal("cross-origin upgrade was accepted")
			}
			if resp == nil || resp.StatusCode != 403 {
				t.Fatalf("response = %v, want 403", resp)
			}
		})
	}
}

func TestSubprotocolPicksHighest(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{"v10.stomp", "v11.stomp", "v12.stomp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if ws.Subprotocol() != "v12.stomp" {
		t.Fatalf("subprotocol = %q, want v12.stomp", ws.Subprotocol())
	}
}

func TestOlderVersions(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	for _, tc := range []struct{ accept, want string }{{"", "1.0"}, {"1.0,1.1", "1.1"}, {"1.1", "1.1"}} {
		t.Run(tc.want+"/"+tc.accept, func(t *testing.T) {
			c := e.dial()
			kv := []string{"login", "8", "passcode", e.token(8)}
			if tc.accept != "" {
				kv = append(kv, "accept-version", tc.accept)
			}
			c.send("CONNECT", "", kv...)
			if v := c.expect("CONNECTED").Value("version"); v != tc.want {
				t.Fatalf("version = %q, want %q", v, tc.want)
			}
			dest := fmt.Sprintf("/sub/chat/room/%d", room)
			c.send("SUBSCRIBE", "", "destination", dest, "id", "a:b", "receipt", "r")
			c.expect("RECEIPT")
			c.send("SEND", sendBody(room, 8, "v"+tc.want), "destination", gateway.SendDestination)
			m := c.expect("MESSAGE")
			if m.Value("subscription") != "a:b" {
				t.Errorf("subscription = %q (escaping per version)", m.Value("subscription"))
			}
		})
	}
}

func TestServerHeartBeats(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.HeartbeatOut = 50 * time.Millisecond })
	c := e.dial()
	c.send("CONNECT", "", "accept-version", "1.2", "Authorization", "Bearer "+e.token(8), "heart-beat", "0,50")
	f := c.expect("CONNECTED")
	if f.Value("heart-beat") != "50,10000" {
		t.Fatalf("heart-beat = %q", f.Value("heart-beat"))
	}
	// The decoder skips beats; count raw WebSocket messages instead.
	before := c.raws.Load()
	redistest.Eventually(t, "server heart-beats", func() bool { return c.raws.Load() >= before+3 })
}

func TestClientSilenceEndsSession(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.HeartbeatIn = 100 * time.Millisecond })
	c := e.dial()
	c.send("CONNECT", "", "accept-version", "1.2", "Authorization", "Bearer "+e.token(8), "heart-beat", "100,0")
	sid := c.expect("CONNECTED").Value("session")
	c.expectClosed() // 2 x 100ms + 1s grace without a beat
	redistest.Eventually(t, "session removed", func() bool {
		return e.rdb.Exists(context.Background(), e.keys.Session(sid)).Val() == 0
	})
}

func TestConnectTimeout(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.ConnectTimeout = 200 * time.Millisecond })
	c := e.dial()
	c.raw("CONN") // slowloris: never finishes CONNECT
	c.expectClosed()
}

func TestShutdownTellsClientsToReconnect(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	c, connected := e.connect(8, "chatRoomId", strconv.FormatInt(room, 10))
	sid := connected.Value("session")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.gw.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), "reconnect") {
		t.Errorf("message = %q", f.Value("message"))
	}
	c.expectClosed()
	if code := websocket.CloseStatus(c.err); code != websocket.StatusServiceRestart {
		t.Errorf("close status = %v (%v), want 1012", code, c.err)
	}
	if e.rdb.Exists(context.Background(), e.keys.Session(sid)).Val() != 0 {
		t.Error("session still registered after shutdown")
	}
	_, _, err := websocket.Dial(ctx, e.url, nil)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dial during shutdown: %v, want refusal", err)
	}
}
