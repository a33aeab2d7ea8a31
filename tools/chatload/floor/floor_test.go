package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

// TestMain plays a child's role when the test binary is re-executed as one
// (startChild runs this very program), and starts a private Redis otherwise.
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		if err := runChild(role, os.Args[1:], os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString("floor child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	redistest.Main(m, &srv)
}

func runJSON(t *testing.T, v any, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut)
	t.Logf("floor %s: %s", strings.Join(args, " "), strings.TrimSpace(errOut.String()))
	if err == nil {
		if jerr := json.Unmarshal(out.Bytes(), v); jerr != nil {
			t.Fatalf("output %q: %v", out.String(), jerr)
		}
	}
	return err
}

func TestRelayDeliversEveryMessageToBothMembersThroughSendLua(t *testing.T) {
	for _, pubsub := range []bool{false, true} {
		t.Run(map[bool]string{false: "reply", true: "pubsub"}[pubsub], func(t *testing.T) {
			prefix := redistest.Prefix(t)
			args := []string{"relay", "-redis", srv.URL(), "-redis-pid", strconv.Itoa(srv.PID()), "-redis-prefix", prefix,
				"-pairs", "4", "-rate", "20", "-duration", "500ms"}
			if pubsub {
				args = append(args, "-pubsub")
			}
			var res relayResult
			if err := runJSON(t, &res, args...); err != nil {
				t.Fatal(err)
			}
			if res.Sent < 8 || res.Delivered != 2*res.Sent || res.PubSub != pubsub {
				t.Fatalf("sent %d delivered %d pubsub %v: want every message twice", res.Sent, res.Delivered, res.PubSub)
			}
			if res.RelayCPUUsPerDelivery <= 0 || res.RedisCPUUsPerDelivery < 0 ||
				res.CPUUsPerDelivery != res.RelayCPUUsPerDelivery+res.RedisCPUUsPerDelivery {
				t.Fatalf("CPU figures %+v", res)
			}
			// The messages went through the product's send.lua: the rooms'
			// histories hold them, numbered from 1.
			rdb := srv.Client(t)
			ks := keys.MustNew(prefix)
			rooms, err := rdb.Keys(context.Background(), strings.Replace(ks.RoomHistory(0), "{0}", "{*}", 1)).Result()
			if err != nil || len(rooms) != 4 {
				t.Fatalf("history keys %v (%v), want 4", rooms, err)
			}
			var stored int64
			for _, k := range rooms {
				stored += rdb.ZCard(context.Background(), k).Val()
			}
			if stored != res.Sent {
				t.Fatalf("%d messages stored, %d sent", stored, res.Sent)
			}
		})
	}
}

func TestRelayAnswersABadHelloWithAnError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, addr, err := startChild(ctx, "relay", "-redis", srv.URL(), "-redis-prefix", redistest.Prefix(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	for _, hello := range []string{"bogus\n", "H 1 2\n"} {
		_, err := helloLine(addr, hello)
		if err == nil || !strings.Contains(err.Error(), "bad hello") {
			t.Fatalf("hello %q: err %v, want the relay's bad hello error", hello, err)
		}
	}
}

func TestHopCountsEveryMessage(t *testing.T) {
	var res hopResult
	if err := runJSON(t, &res, "hop", "-conns", "5", "-rate", "50", "-duration", "400ms"); err != nil {
		t.Fatal(err)
	}
	if res.Messages < 5 || res.RatePerS != 250 || res.RecvCPUUsPerMsg < 0 {
		t.Fatalf("%+v", res)
	}
}

func TestConnectUpgradesEveryConnection(t *testing.T) {
	var res connectResult
	if err := runJSON(t, &res, "connect", "-conns", "60", "-parallel", "7"); err != nil {
		t.Fatal(err)
	}
	if res.Conns != 60 || res.Parallel != 7 || res.Seconds <= 0 || res.ServerCPUUsPerConnect < 0 || res.ClientCPUUsPerConnect <= 0 {
		t.Fatalf("%+v", res)
	}
}

func TestRelayRefusesARedisOffLoopback(t *testing.T) {
	var res relayResult
	err := runJSON(t, &res, "relay", "-redis", "redis://10.1.2.3:6379/0", "-pairs", "1", "-duration", "100ms")
	if err == nil || !strings.Contains(err.Error(), "-redis") {
		t.Fatalf("err %v, want a -redis error", err)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"relay"}, {"hop", "-rate", "-1"}} {
		if _, err := parse(args, new(bytes.Buffer)); err == nil {
			t.Errorf("parse(%q) accepted", args)
		}
	}
	o, err := parse([]string{"relay", "-redis", "redis://127.0.0.1:1/0"}, new(bytes.Buffer))
	if err != nil || o.rate != 1 || o.pairs != 1000 {
		t.Fatalf("relay defaults %+v %v", o, err)
	}
}
