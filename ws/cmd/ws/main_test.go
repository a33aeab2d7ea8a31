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

// The per-session frame budgets and transaction bounds.
func TestLoadSessionBudgets(t *testing.T) {
	cases := []struct {
		name    string
		vars    map[string]string
		want    string
		wantErr string
	}{
		{"defaults", map[string]string{}, "frames=2000/4000 subscribe=20/100 tx=16/128/262144", ""},
		{"set", map[string]string{"WS_FRAME_RATE": "50", "WS_FRAME_BURST": "60", "WS_SUBSCRIBE_RATE": "2",
			"WS_SUBSCRIBE_BURST": "10", "WS_MAX_TRANSACTIONS": "2", "WS_MAX_TX_FRAMES": "8", "WS_MAX_TX_BYTES": "65536"},
			"frames=50/60 subscribe=2/10 tx=2/8/65536", ""},
		{"off", map[string]string{"WS_FRAME_RATE": "off", "WS_SUBSCRIBE_RATE": "0"},
			"frames=-1/4000 subscribe=-1/100 tx=16/128/262144", ""},
		{"bad frame rate", map[string]string{"WS_FRAME_RATE": "-3"}, "", "WS_FRAME_RATE"},
		{"tiny tx bytes", map[string]string{"WS_MAX_TX_BYTES": "10"}, "", "WS_MAX_TX_BYTES"},
		{"zero tx frames", map[string]string{"WS_MAX_TX_FRAMES": "0"}, "", "WS_MAX_TX_FRAMES"},
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
			got := fmt.Sprintf("frames=%v/%d subscribe=%v/%d tx=%d/%d/%d", l.FrameRate, l.FrameBurst,
				l.SubscribeRate, l.SubscribeBurst, l.MaxTransactions, l.MaxTxFrames, l.MaxTxBytes)
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
