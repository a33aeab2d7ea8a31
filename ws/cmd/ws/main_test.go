package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestLoadLimits(t *testing.T) {
	cases := []struct {
		name    string
		vars    map[string]string
		want    string
		wantErr string
	}{
		{"defaults", map[string]string{},
			"pre=8192/16/4096 post=65536/64/8192 subs=64 sessions=20 connect=10/50 send=1000/2000", ""},
		{"set", map[string]string{"WS_PREAUTH_MAX_FRAME_BYTES": "4096", "WS_PREAUTH_MAX_HEADERS": "8",
			"WS_PREAUTH_MAX_HEADER_BYTES": "2048", "WS_MAX_HEADERS": "32", "WS_MAX_HEADER_BYTES": "4096",
			"WS_MAX_SUBSCRIPTIONS": "10", "WS_MAX_SESSIONS_PER_USER": "3", "WS_CONNECT_RATE": "0.5",
			"WS_CONNECT_BURST": "5", "WS_SEND_RATE": "20", "WS_SEND_BURST": "40"},
			"pre=4096/8/2048 post=65536/32/4096 subs=10 sessions=3 connect=0.5/5 send=20/40", ""},
		{"limits off", map[string]string{"WS_CONNECT_RATE": "0", "WS_SEND_RATE": "off"},
			"pre=8192/16/4096 post=65536/64/8192 subs=64 sessions=20 connect=-1/50 send=-1/2000", ""},
		{"pre-auth frame above the frame limit", map[string]string{"WS_PREAUTH_MAX_FRAME_BYTES": "70000"}, "", "WS_PREAUTH_MAX_FRAME_BYTES"},
		{"bad rate", map[string]string{"WS_SEND_RATE": "lots"}, "", "WS_SEND_RATE"},
		{"zero sessions", map[string]string{"WS_MAX_SESSIONS_PER_USER": "0"}, "", "WS_MAX_SESSIONS_PER_USER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := load(func(k string) string { return c.vars[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := s.limits
			got := fmt.Sprintf("pre=%d/%d/%d post=%d/%d/%d subs=%d sessions=%d connect=%v/%d send=%v/%d",
				l.MaxPreAuthFrameBytes, l.MaxPreAuthHeaders, l.MaxPreAuthHeaderBytes, s.maxFrame, l.MaxHeaders, l.MaxHeaderBytes,
				l.MaxSubscriptions, l.MaxSessionsPerUser, l.ConnectRate, l.ConnectBurst, l.SendRate, l.SendBurst)
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
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
