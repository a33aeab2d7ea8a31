package gateway_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/infra/clientip"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// upgrade tries one WebSocket upgrade with an X-Forwarded-For header and
// returns the HTTP status (101 when it was accepted).
func (e *env) upgrade(xff string) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, res, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{"v12.stomp"},
		HTTPHeader: http.Header{"X-Forwarded-For": {xff}}})
	if err == nil {
		ws.CloseNow()
		return http.StatusSwitchingProtocols
	}
	if res == nil {
		e.t.Fatalf("dial: %v", err)
	}
	return res.StatusCode
}

// TestConnectRatePerClientBehindProxy: behind a trusted proxy (here the
// test itself, on 127.0.0.1) each X-Forwarded-For client has its own
// upgrade bucket, so one client using up its bucket leaves another's
// upgrades alone; the session is registered with the client's address.
func TestConnectRatePerClientBehindProxy(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) {
		c.ConnectRate, c.ConnectBurst = 0.1, 2
		c.ClientIP = clientip.New(clientip.Config{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	})
	for i := range 2 {
		if got := e.upgrade("198.51.100.1"); got != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade %d of client 1: %d, want 101", i+1, got)
		}
	}
	if got := e.upgrade("198.51.100.1"); got != http.StatusTooManyRequests {
		t.Fatalf("client 1 beyond its burst: %d, want 429", got)
	}
	// A client cannot escape its bucket by prepending made-up hops: the
	// proxy's list is read from the right.
	if got := e.upgrade("203.0.113.9, 198.51.100.1"); got != http.StatusTooManyRequests {
		t.Fatalf("client 1 with a spoofed left entry: %d, want 429", got)
	}
	c := e.dial(http2Header{"X-Forwarded-For", "198.51.100.2"})
	c.send("CONNECT", "", "Authorization", "Bearer "+e.token(8), "accept-version", "1.2")
	sid := c.expect("CONNECTED").Value("session")
	s, ok, err := e.reg.Get(context.Background(), sid)
	if err != nil || !ok {
		t.Fatalf("session %s: ok=%v err=%v", sid, ok, err)
	}
	if s.RemoteAddr != "198.51.100.2" {
		t.Fatalf("registered remoteAddr %q, want the forwarded client 198.51.100.2", s.RemoteAddr)
	}
	redistest.Eventually(t, "the connection's log lines name the client", func() bool {
		return strings.Contains(e.logs.String(), "remote=198.51.100.2")
	})
}

// TestForwardedForIgnoredWithoutTrustedProxy: by default X-Forwarded-For
// is not believed, so a client cannot pick a fresh bucket per upgrade.
func TestForwardedForIgnoredWithoutTrustedProxy(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.ConnectRate, c.ConnectBurst = 0.1, 2 })
	for i, xff := range []string{"198.51.100.1", "198.51.100.2"} {
		if got := e.upgrade(xff); got != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade %d: %d, want 101", i+1, got)
		}
	}
	if got := e.upgrade("198.51.100.3"); got != http.StatusTooManyRequests {
		t.Fatalf("a new X-Forwarded-For from an untrusted peer: %d, want 429 (the peer's bucket)", got)
	}
}
