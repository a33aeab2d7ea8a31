package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestReadyzWhilePubSubIsNotConfirmed: /readyz answers 503 while Redis
// refuses to subscribe the node's channels again after its pub/sub
// connection broke (the node would miss control commands and messages),
// and 200 again once they are confirmed.
func TestReadyzWhilePubSubIsNotConfirmed(t *testing.T) {
	srv, err := redistest.Start(redistest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env := map[string]string{"WS_ADDR": addr, "REDIS_URL": srv.URL(), "REDIS_PREFIX": "readyz",
		"JWT_SECRET": strings.Repeat("s", 40), "LOG_LEVEL": "error", "WS_MEMORY_TRIM": "0"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	readyz := func() (int, string) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	waitFor := func(code int, body string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, b := readyz()
			if got == code && strings.Contains(b, body) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz = %d %q, want %d %q", got, b, code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(http.StatusOK, `"ready"`)

	admin := srv.Client(t)
	acl := func(rules ...any) {
		t.Helper()
		if err := admin.Do(ctx, append([]any{"ACL", "SETUSER", "default"}, rules...)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	acl("-subscribe")
	defer acl("+@all", "allchannels")
	if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(http.StatusServiceUnavailable, `"pubsub resubscribing"`)
	acl("+@all", "allchannels")
	waitFor(http.StatusOK, fmt.Sprintf(`"sessions":%d`, 0))
}

func TestLoadMembershipAudit(t *testing.T) {
	for _, c := range []struct {
		v    string
		want time.Duration
	}{{"", 30 * time.Second}, {"5s", 5 * time.Second}, {"0", -1}} {
		s, err := load(func(k string) string {
			if k == "WS_MEMBERSHIP_AUDIT" {
				return c.v
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := off(s.memberAudit); got != c.want {
			t.Errorf("WS_MEMBERSHIP_AUDIT=%q: audit %v, want %v", c.v, got, c.want)
		}
	}
}
