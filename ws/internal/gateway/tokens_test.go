package gateway_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// TestTokenTableOverSTOMP runs the shared token table (authtest) against
// CONNECT: every good token, whatever its key, connects; every bad one gets
// ERROR "authentication failed: <reason>" and close 1008, without the token
// in the answer. The node's debug log, captured throughout, never holds a
// token or an Authorization value.
func TestTokenTableOverSTOMP(t *testing.T) {
	k := authtest.Shared()
	logs := &authtest.LogBuffer{}
	e := newEnvVerifier(t, k.Verifier(t), func(c *gateway.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	used := k.Run(t, 8, func(t *testing.T, tc authtest.Case) {
		c := e.dial()
		c.t = t
		c.send("CONNECT", "", "Authorization", "Bearer "+tc.Token, "accept-version", "1.2")
		if u := c.expect("CONNECTED").Value("user-name"); u != "8" {
			t.Fatalf("user-name %q", u)
		}
		c.send("DISCONNECT", "", "receipt", "bye")
		c.expect("RECEIPT")
		c.expectClosed()
	}, func(t *testing.T, tc authtest.Case) {
		c := e.dial()
		c.t = t
		c.send("CONNECT", "", "Authorization", "Bearer "+tc.Token, "accept-version", "1.2")
		f := c.expect("ERROR")
		msg := f.Value("message")
		if !strings.HasPrefix(msg, "authentication failed: ") || !strings.Contains(msg, tc.Reason) {
			t.Errorf("ERROR message %q, want authentication failed: ...%s", msg, tc.Reason)
		}
		c.expectClosed()
		if got := websocket.CloseStatus(c.err); got != websocket.StatusPolicyViolation {
			t.Errorf("close status %v, want 1008", got)
		}
		for _, raw := range c.rawLog {
			if authtest.Leaks(raw, tc.Token) {
				t.Errorf("the answer %q quotes the token", raw)
			}
		}
	})
	// Tokens in other places a careless server might log: the passcode,
	// the upgrade request's Authorization header, a header too long to
	// accept, a malformed frame after a token.
	tok := authtest.Sign(t, "HS256", k.Secret, "", authtest.Claims(8, nil))
	used = append(used, tok)
	c := e.dial(http2Header{"Authorization", "Bearer " + tok})
	c.send("CONNECT", "", "login", "8", "passcode", tok, "accept-version", "1.2")
	c.expect("CONNECTED")
	c.tryRaw("SUBSCRIBE\nid:" + tok + "\\x\n\n\x00")
	c.expectErrorAndClose("invalid header escape", websocket.StatusProtocolError)
	c = e.dial()
	c.tryRaw("CONNECT\nAuthorization:Bearer " + tok + strings.Repeat("A", 8<<10) + "\n\n\x00")
	c.expectErrorAndClose("header too long", websocket.StatusProtocolError)
	for _, raw := range c.rawLog {
		if authtest.Leaks(raw, tok) {
			t.Errorf("the answer %q quotes the token", raw)
		}
	}

	authtest.AssertNoTokens(t, "node", logs.String(), used, "session connected")
}

// TestClientTextWithTokenIsNotLogged: ids and destinations are the client's
// own text, which may hold a token (pasted by mistake, or to probe the
// logs). Refusing them logs a debug line without it.
func TestClientTextWithTokenIsNotLogged(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(3)
	for _, tc := range []struct{ name, frame, want string }{
		{"SEND to an unknown destination", "SEND\ndestination:/pub/" + tok + "\n\n{}\x00", "unknown destination"},
		{"SUBSCRIBE to an unknown destination", "SUBSCRIBE\nid:a\ndestination:/sub/" + tok + "\n\n\x00", "unknown destination"},
		{"UNSUBSCRIBE of an unknown id", "UNSUBSCRIBE\nid:" + tok + "\n\n\x00", "no subscription"},
		{"ACK of an unknown message", "ACK\nid:" + tok + "\n\n\x00", "unknown message"},
		{"COMMIT of an unknown transaction", "COMMIT\ntransaction:" + tok + "\n\n\x00", "unknown transaction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := e.connect(8)
			c.t = t
			c.tryRaw(tc.frame)
			c.expectErrorAndClose(tc.want, websocket.StatusProtocolError)
		})
	}
	out := e.logs.String()
	if !strings.Contains(out, "connection refused a frame") {
		t.Fatalf("the debug log saw no refusal: %q", out)
	}
	if authtest.Leaks(out, tok) {
		t.Error("the log holds the token")
	}
}
