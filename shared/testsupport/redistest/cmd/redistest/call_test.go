package main

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestCallOnACluster: replies come back as JSON (hashes as objects, nil as
// null, errors as errors); KEYS and PUBSUB NUMSUB see every master, PUBSUB
// SHARDNUMSUB the channel's.
func TestCallOnACluster(t *testing.T) {
	ctx := context.Background()
	c, err := redistest.StartCluster(redistest.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := start(t, "call", c.URL())
	c.Spread(t, "{a}", "{b}", "{c}")
	for _, k := range []string{"{c}k", "{a}k", "{b}k"} {
		s.ask(t, "SET", k, 1)
	}
	if got := s.ask(t, "KEYS", "*k"); !reflect.DeepEqual(got, []any{"{a}k", "{b}k", "{c}k"}) {
		t.Errorf("KEYS *k = %v, want the keys of all three masters, sorted", got)
	}
	s.ask(t, "HSET", "{a}h", "f", "v", "n", 2)
	if got := s.ask(t, "HGETALL", "{a}h"); !reflect.DeepEqual(got, map[string]any{"f": "v", "n": "2"}) {
		t.Errorf("HGETALL = %#v", got)
	}
	if got := s.ask(t, "GET", "{a}missing"); got != nil {
		t.Errorf("GET of a missing key = %v, want null", got)
	}
	if _, e := s.try(t, "HGETALL", "{a}k"); !strings.Contains(e, "WRONGTYPE") {
		t.Errorf("HGETALL of a string: error %q", e)
	}
	if _, e := s.try(t, "GET"); e == "" {
		t.Error("GET without a key: no error")
	}

	// A plain subscriber on each of two masters, a sharded one on the channel's.
	for _, m := range c.Masters[:2] {
		ps := redis.NewClient(&redis.Options{Addr: m.Addr}).Subscribe(ctx, "{a}ch")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		defer ps.Close()
	}
	ps := c.Client(t).SSubscribe(ctx, "{a}ch")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if got := s.ask(t, "PUBSUB", "NUMSUB", "{a}ch"); !reflect.DeepEqual(got, []any{"{a}ch", 2.0}) {
		t.Errorf("PUBSUB NUMSUB = %v, want 2 subscribers over the masters", got)
	}
	if got := s.ask(t, "PUBSUB", "SHARDNUMSUB", "{a}ch"); !reflect.DeepEqual(got, []any{"{a}ch", 1.0}) {
		t.Errorf("PUBSUB SHARDNUMSUB = %v, want 1", got)
	}
}

// TestCallOnOneServer: the same client for a redis:// URL; a request that
// is not a JSON array is answered with an error, and the next one works.
func TestCallOnOneServer(t *testing.T) {
	srv, err := redistest.Start(redistest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := start(t, "call", srv.URL())
	if _, err := s.in.Write([]byte("{\"not\": \"an array\"}\n")); err != nil {
		t.Fatal(err)
	}
	if !s.out.Scan() || !strings.Contains(s.out.Text(), `"error"`) {
		t.Errorf("answer to an object: %q", s.out.Text())
	}
	s.ask(t, "RPUSH", "l", "x", "y")
	if got := s.ask(t, "LRANGE", "l", 0, -1); !reflect.DeepEqual(got, []any{"x", "y"}) {
		t.Errorf("LRANGE = %v", got)
	}
	if got := s.ask(t, "ZADD", "z", 1.5, "m"); got != 1.0 {
		t.Errorf("ZADD = %v", got)
	}
	if got := s.ask(t, "ZSCORE", "z", "m"); got != 1.5 {
		t.Errorf("ZSCORE = %v (RESP3: a double)", got)
	}
}
