package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestLoad(t *testing.T) {
	format := func(st settings) string {
		return fmt.Sprintf("addr=%s origins=%v max=%d history=%d dev=%v pprof=%s", st.addr, st.allowedOrigins, st.maxMessage, st.historyLen, st.devSecret, st.pprofAddr)
	}
	redistest.CheckEnv(t, load, format,
		redistest.Loads("defaults in dev mode", map[string]string{"DEV_MODE": "1"},
			"addr=:8080 origins=[] max=4096 history=100000 dev=true pprof="),
		redistest.Loads("everything set", map[string]string{"JWT_SECRET": "s", "API_ADDR": "127.0.0.1:9000",
			"API_ALLOWED_ORIGINS": "https://a.example, http://localhost:3000,", "MAX_MESSAGE_BYTES": "32768", "HISTORY_LEN": "10",
			"PPROF_ADDR": "127.0.0.1:6062"},
			"addr=127.0.0.1:9000 origins=[https://a.example http://localhost:3000] max=32768 history=10 dev=false pprof=127.0.0.1:6062"),
		redistest.Loads("dev mode with a secret", map[string]string{"DEV_MODE": "1", "JWT_SECRET": "s"},
			"addr=:8080 origins=[] max=4096 history=100000 dev=false pprof="),
		redistest.Refuses("no secret", map[string]string{}, "JWT_SECRET is required"),
		redistest.Refuses("message limit above the body limit", map[string]string{"DEV_MODE": "1", "MAX_MESSAGE_BYTES": "32769"}, "MAX_MESSAGE_BYTES must be at most 32768"),
		redistest.Refuses("zero message limit", map[string]string{"DEV_MODE": "1", "MAX_MESSAGE_BYTES": "0"}, "MAX_MESSAGE_BYTES must be an integer >= 1"),
		redistest.Refuses("bad history length", map[string]string{"DEV_MODE": "1", "HISTORY_LEN": "lots"}, "HISTORY_LEN must be an integer"),
	)
}

func TestLoadLimits(t *testing.T) {
	format := func(st settings) string {
		return fmt.Sprintf("body=%d rate=%v burst=%d ip=%v/%d %v", st.maxBody, st.ratePerUser, st.rateBurst,
			st.ratePerIP, st.rateBurstPerIP, st.bounds)
	}
	redistest.CheckEnv(t, load, format,
		redistest.Loads("defaults", map[string]string{"DEV_MODE": "1"}, "body=65536 rate=50 burst=100 ip=20/40 {262144 4 64 10 60}"),
		redistest.Loads("set", map[string]string{"DEV_MODE": "1", "API_MAX_BODY_BYTES": "8192", "API_RATE_PER_USER": "2.5", "API_RATE_BURST": "5",
			"API_RATE_PER_IP": "3", "API_RATE_BURST_PER_IP": "6",
			"API_MAX_RESPONSE_BYTES": "65536", "API_HEAVY_PER_USER": "2", "API_HEAVY_MAX": "9", "API_ROOM_CREATES_PER_MIN": "1.5",
			"API_MEMBER_ADDS_PER_MIN": "off"},
			"body=8192 rate=2.5 burst=5 ip=3/6 {65536 2 9 1.5 -1}"),
		redistest.Loads("rate off", map[string]string{"DEV_MODE": "1", "API_RATE_PER_USER": "off", "API_RATE_PER_IP": "0"}, "body=65536 rate=-1 burst=100 ip=-1/40 {262144 4 64 10 60}"),
		redistest.Refuses("bad per-address burst", map[string]string{"DEV_MODE": "1", "API_RATE_BURST_PER_IP": "0"}, "API_RATE_BURST_PER_IP"),
		redistest.Refuses("bad trusted proxy", map[string]string{"DEV_MODE": "1", "API_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "API_TRUSTED_PROXIES"),
		redistest.Refuses("tiny response bound", map[string]string{"DEV_MODE": "1", "API_MAX_RESPONSE_BYTES": "1000"}, "API_MAX_RESPONSE_BYTES"),
		redistest.Refuses("no heavy requests", map[string]string{"DEV_MODE": "1", "API_HEAVY_PER_USER": "0"}, "API_HEAVY_PER_USER"),
		redistest.Refuses("message above half the body", map[string]string{"DEV_MODE": "1", "API_MAX_BODY_BYTES": "8192", "MAX_MESSAGE_BYTES": "5000"}, "MAX_MESSAGE_BYTES must be at most 4096"),
		redistest.Refuses("negative rate", map[string]string{"DEV_MODE": "1", "API_RATE_PER_USER": "-1"}, "API_RATE_PER_USER"),
		redistest.Refuses("tiny body", map[string]string{"DEV_MODE": "1", "API_MAX_BODY_BYTES": "100"}, "API_MAX_BODY_BYTES"),
	)
}

func TestLoadRoomCaps(t *testing.T) {
	caps := map[string]func(settings) int{
		"API_MAX_ROOMS_PER_USER": func(st settings) int { return st.roomsPerUser },
		"API_MAX_GROUP_MEMBERS":  func(st settings) int { return st.groupMembers },
	}
	for name, get := range caps {
		for v, want := range map[string]int{"": 1000, "5": 5} {
			st, err := load(func(k string) string { return map[string]string{"DEV_MODE": "1", name: v}[k] })
			if err != nil || get(st) != want {
				t.Errorf("%s=%q: %d, %v; want %d", name, v, get(st), err, want)
			}
		}
		if _, err := load(func(k string) string {
			return map[string]string{"DEV_MODE": "1", name: "0"}[k]
		}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=0: %v, want an error naming it", name, err)
		}
	}
}

// TestLoadTrustedProxies: the client of a forwarded request is its peer
// unless API_TRUSTED_PROXIES holds the peer; then it is the forwarded one.
func TestLoadTrustedProxies(t *testing.T) {
	client := func(st settings) string {
		r := httptest.NewRequest("GET", "/api/v1/chat-rooms", nil)
		r.RemoteAddr = "10.1.2.3:5000"
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		return st.clientIP.ClientIP(r)
	}
	redistest.CheckEnv(t, load, client,
		redistest.Loads("by default the client is the peer", map[string]string{"DEV_MODE": "1"}, "10.1.2.3"),
		redistest.Loads("behind a trusted proxy the client is the forwarded one",
			map[string]string{"DEV_MODE": "1", "API_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, "198.51.100.1"),
	)
}

// TestHTTPServerHeaderLimit: a request with 100 KiB of headers is refused
// with 431 before it reaches the handler.
func TestHTTPServerHeaderLimit(t *testing.T) {
	redistest.CheckHeaderLimit(t, httpServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		slog.New(slog.DiscardHandler)), "/healthz")
}
