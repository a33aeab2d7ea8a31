package gateway_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestConnectionLogsCarryIDs: the upgrade's X-Request-ID (kept when sane,
// else generated) is echoed in the 101 answer, and every line logged about
// the connection carries it with remote; from CONNECT on, with the session
// id too. (node is on every line of cmd/ws's logger.)
func TestConnectionLogsCarryIDs(t *testing.T) {
	for _, tc := range []struct{ name, sent, want string }{
		{"sane id is kept", "abc-123", "^abc-123$"},
		{"bad id is replaced", "abc 123\"", "^[0-9a-f]{16}$"},
		{"absent id is generated", "", "^[0-9a-f]{16}$"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			opts := &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}}
			if tc.sent != "" {
				opts.HTTPHeader = map[string][]string{"X-Request-Id": {tc.sent}}
			}
			ws, res, err := websocket.Dial(ctx, e.url, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			id := res.Header.Get("X-Request-ID")
			if !regexp.MustCompile(tc.want).MatchString(id) {
				t.Fatalf("X-Request-ID %q, want %s", id, tc.want)
			}
			connect := "CONNECT\naccept-version:1.2\nAuthorization:Bearer " + e.token(8) + "\n\n\x00"
			if err := ws.Write(ctx, websocket.MessageText, []byte(connect)); err != nil {
				t.Fatal(err)
			}
			_, b, err := ws.Read(ctx)
			if err != nil || !strings.HasPrefix(string(b), "CONNECTED\n") {
				t.Fatalf("CONNECT answered %q, %v", b, err)
			}
			session := regexp.MustCompile(`\nsession:([^\n]+)\n`).FindStringSubmatch(string(b))
			if session == nil {
				t.Fatalf("CONNECTED without a session header: %q", b)
			}
			ws.Close(websocket.StatusNormalClosure, "")
			redistest.Eventually(t, "the session's end to be logged", func() bool { return strings.Contains(e.logs.String(), `msg="session ended"`) })

			// The node's own lines (heart-beats, registry) are not about this
			// connection; every line about it carries its ids.
			var about []string
			for line := range strings.Lines(e.logs.String()) {
				if strings.Contains(line, "session connected") || strings.Contains(line, "session ended") {
					about = append(about, line)
				}
			}
			if len(about) != 2 {
				t.Fatalf("want the connect and end lines, got:\n%s", e.logs.String())
			}
			for _, line := range about {
				for _, attr := range []string{"request_id=" + id, "session=" + session[1], "remote=127.0.0.1 "} { // the client address (clientip), no port
					if !strings.Contains(line, attr) {
						t.Errorf("line lacks %s: %s", attr, line)
					}
				}
			}
			if tc.sent != "" && !strings.Contains(id, tc.sent) && strings.Contains(e.logs.String(), tc.sent) {
				t.Errorf("the refused id %q was logged", tc.sent)
			}
		})
	}
}
