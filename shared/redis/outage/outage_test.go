package outage_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/outage"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// TestRealFailures: errors produced by a real go-redis client against a real
// server: a stopped server, a timeout, a loading-like reply are outages; a
// wrong-type reply and a script's own error are not.
func TestRealFailures(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t)
	key := redistest.Prefix(t) + ":k"
	if err := rdb.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, wrongType := rdb.LPush(ctx, key, "x").Result()
	_, scriptErr := rdb.Eval(ctx, "return redis.error_reply('NOTMEMBER user 3')", nil).Result()
	_, tryAgain := rdb.Eval(ctx, "return redis.error_reply('TRYAGAIN Multiple keys request during rehashing of slot')", nil).Result()
	_, clusterDown := rdb.Eval(ctx, "return redis.error_reply('CLUSTERDOWN The cluster is down')", nil).Result()
	// A server that accepts and never answers: the read times out.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	slow := redis.NewClient(&redis.Options{Addr: mute.Addr().String(), ReadTimeout: 50 * time.Millisecond,
		MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer slow.Close()
	_, timeout := slow.Get(ctx, "x").Result()

	dead, err := redistest.Start(redistest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gone := redis.NewClient(&redis.Options{Addr: dead.Addr, MaxRetries: -1})
	defer gone.Close()
	dead.Close()
	_, refused := gone.Get(ctx, "x").Result()

	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"timeout", timeout, true},
		{"TRYAGAIN", fmt.Errorf("send to room 2: %w", tryAgain), true},
		{"CLUSTERDOWN", clusterDown, true},
		{"wrong type", wrongType, false},
		{"script error", scriptErr, false},
		{"closed client", func() error { c := srv.Client(t); c.Close(); return c.Ping(ctx).Err() }(), true},
		{"nil", nil, false},
		{"plain", errors.New("TRYAGAIN in a message that is not a Redis reply"), false},
	}
	for _, tc := range cases {
		if tc.err == nil && tc.name != "nil" {
			t.Fatalf("%s: the real operation did not fail", tc.name)
		}
		if got := outage.Is(tc.err); got != tc.want {
			t.Errorf("%s: Is(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if !strings.HasPrefix(tryAgain.Error(), "TRYAGAIN") {
		t.Fatalf("script reply = %v", tryAgain)
	}
}
