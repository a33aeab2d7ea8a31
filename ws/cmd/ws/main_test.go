package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestLoadLimits(t *testing.T) {
	format := func(s settings) string {
		l := s.limits
		return fmt.Sprintf("pre=%d/%d/%d post=%d/%d/%d subs=%d sessions=%d connect=%v/%d send=%v/%d",
			l.MaxPreAuthFrameBytes, l.MaxPreAuthHeaders, l.MaxPreAuthHeaderBytes, s.maxFrame, l.MaxHeaders, l.MaxHeaderBytes,
			l.MaxSubscriptions, l.MaxSessionsPerUser, l.ConnectRate, l.ConnectBurst, l.SendRate, l.SendBurst)
	}
	redistest.CheckEnv(t, load, format,
		redistest.Loads("defaults", map[string]string{},
			"pre=8192/16/4096 post=65536/64/8192 subs=64 sessions=20 connect=10/50 send=1000/2000"),
		redistest.Loads("set", map[string]string{"WS_PREAUTH_MAX_FRAME_BYTES": "4096", "WS_PREAUTH_MAX_HEADERS": "8",
			"WS_PREAUTH_MAX_HEADER_BYTES": "2048", "WS_MAX_HEADERS": "32", "WS_MAX_HEADER_BYTES": "4096",
			"WS_MAX_SUBSCRIPTIONS": "10", "WS_MAX_SESSIONS_PER_USER": "3", "WS_CONNECT_RATE": "0.5",
			"WS_CONNECT_BURST": "5", "WS_SEND_RATE": "20", "WS_SEND_BURST": "40"},
			"pre=4096/8/2048 post=65536/32/4096 subs=10 sessions=3 connect=0.5/5 send=20/40"),
		redistest.Loads("limits off", map[string]string{"WS_CONNECT_RATE": "0", "WS_SEND_RATE": "off"},
			"pre=8192/16/4096 post=65536/64/8192 subs=64 sessions=20 connect=-1/50 send=-1/2000"),
		redistest.Refuses("pre-auth frame above the frame limit", map[string]string{"WS_PREAUTH_MAX_FRAME_BYTES": "70000"}, "WS_PREAUTH_MAX_FRAME_BYTES"),
		redistest.Refuses("bad rate", map[string]string{"WS_SEND_RATE": "lots"}, "WS_SEND_RATE"),
		redistest.Refuses("zero sessions", map[string]string{"WS_MAX_SESSIONS_PER_USER": "0"}, "WS_MAX_SESSIONS_PER_USER"),
	)
}

func TestLoadMaxReplay(t *testing.T) {
	for _, c := range []struct {
		v       string
		want    int
		wantErr bool
	}{{"", 1000, false}, {"5000", 5000, false}, {"0", 0, true}, {"many", 0, true}} {
		s, err := load(func(k string) string {
			if k == "WS_MAX_REPLAY" {
				return c.v
			}
			return ""
		})
		if c.wantErr {
			if err == nil || !strings.Contains(err.Error(), "WS_MAX_REPLAY") {
				t.Errorf("WS_MAX_REPLAY=%q: err %v, want one naming it", c.v, err)
			}
			continue
		}
		if err != nil || s.limits.MaxReplay != c.want {
			t.Errorf("WS_MAX_REPLAY=%q: %d, %v; want %d", c.v, s.limits.MaxReplay, err, c.want)
		}
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	client := func(s settings) string {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.RemoteAddr = "10.1.2.3:5000"
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		return s.limits.ClientIP.ClientIP(r)
	}
	redistest.CheckEnv(t, load, client,
		redistest.Loads("by default the client is the peer", map[string]string{}, "10.1.2.3"),
		redistest.Loads("behind a trusted proxy the client is the forwarded one",
			map[string]string{"WS_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, "198.51.100.1"),
		redistest.Refuses("a name is no proxy", map[string]string{"WS_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "WS_TRUSTED_PROXIES"),
	)
}

// TestHTTPServerHeaderLimit: an upgrade request with 100 KiB of headers
// is refused with 431 before it reaches the gateway.
func TestHTTPServerHeaderLimit(t *testing.T) {
	redistest.CheckHeaderLimit(t, httpServer("127.0.0.1:0", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), "/ws")
}

// The per-session frame budgets and transaction bounds.
func TestLoadSessionBudgets(t *testing.T) {
	format := func(s settings) string {
		l := s.limits
		return fmt.Sprintf("frames=%v/%d subscribe=%v/%d tx=%d/%d/%d acks=%d", l.FrameRate, l.FrameBurst,
			l.SubscribeRate, l.SubscribeBurst, l.MaxTransactions, l.MaxTxFrames, l.MaxTxBytes, l.MaxPendingAcks)
	}
	redistest.CheckEnv(t, load, format,
		redistest.Loads("defaults", map[string]string{}, "frames=2000/4000 subscribe=20/100 tx=16/128/262144 acks=1024"),
		redistest.Loads("set", map[string]string{"WS_FRAME_RATE": "50", "WS_FRAME_BURST": "60", "WS_SUBSCRIBE_RATE": "2",
			"WS_SUBSCRIBE_BURST": "10", "WS_MAX_TRANSACTIONS": "2", "WS_MAX_TX_FRAMES": "8", "WS_MAX_TX_BYTES": "65536", "WS_MAX_PENDING_ACKS": "7"},
			"frames=50/60 subscribe=2/10 tx=2/8/65536 acks=7"),
		redistest.Loads("off", map[string]string{"WS_FRAME_RATE": "off", "WS_SUBSCRIBE_RATE": "0"},
			"frames=-1/4000 subscribe=-1/100 tx=16/128/262144 acks=1024"),
		redistest.Refuses("bad frame rate", map[string]string{"WS_FRAME_RATE": "-3"}, "WS_FRAME_RATE"),
		redistest.Refuses("tiny tx bytes", map[string]string{"WS_MAX_TX_BYTES": "10"}, "WS_MAX_TX_BYTES"),
		redistest.Refuses("zero tx frames", map[string]string{"WS_MAX_TX_FRAMES": "0"}, "WS_MAX_TX_FRAMES"),
		redistest.Refuses("zero pending acks", map[string]string{"WS_MAX_PENDING_ACKS": "0"}, "WS_MAX_PENDING_ACKS"),
	)
}
