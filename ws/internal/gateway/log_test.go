package gateway

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/redis/keys"
)

// A connection's logger is made only when something is logged: debug lines
// (one per CONNECT and per session end) do not make it while debug is off.
func TestConnectionLoggerIsMadeOnFirstUse(t *testing.T) {
	for _, tt := range []struct {
		level slog.Level
		made  bool
	}{{slog.LevelInfo, false}, {slog.LevelDebug, true}} {
		var out bytes.Buffer
		srv := New(Config{NodeID: "log", Logger: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: tt.level}))},
			Deps{Keys: keys.MustNew("log")})
		c := newConn(srv, "127.0.0.1")
		c.peer, c.reqID, c.id = "127.0.0.1:5000", "req-1", "sess-1"
		c.debug("session connected", "user", 7)
		if (c.lg != nil) != tt.made {
			t.Fatalf("level %v: logger made = %v, want %v", tt.level, c.lg != nil, tt.made)
		}
		c.log().Warn("register session")
		for _, want := range []string{"remote=127.0.0.1:5000", "request_id=req-1", "session=sess-1", "register session"} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("level %v: log %q lacks %q", tt.level, out.String(), want)
			}
		}
	}
}
