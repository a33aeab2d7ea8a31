package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
	"github.com/roomwire/roomwire/ws/internal/wsnode/wsnodetest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

var secret = []byte("metrics-test-secret")

// node is a ws node as cmd/ws assembles it, serving on a loopback port.
type node struct {
	url   string
	rooms *room.Store
}

func newNode(t *testing.T) *node {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	n := wsnodetest.Start(t, srv.Client(t), redistest.Space(t), verifier, wsnode.Config{
		Gateway: gateway.Config{ConnectRate: -1}, ProbeEvery: 50 * time.Millisecond})
	return &node{url: n.URL, rooms: n.Rooms}
}

// stompClient is a bare STOMP client: frames out as text, frames in
// collected as raw text.
type stompClient struct {
	t  *testing.T
	ws *websocket.Conn
	in strings.Builder
}

func (n *node) dial(t *testing.T) *stompClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http")+"/ws",
		&websocket.DialOptions{Subprotocols: []string{"v12.stomp"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &stompClient{t: t, ws: ws}
}

func (c *stompClient) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame+"\x00")); err != nil {
		c.t.Fatal(err)
	}
}

// await reads until everything received so far contains want n times.
func (c *stompClient) await(want string, n int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for strings.Count(c.in.String(), want) < n {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %d × %q: %v (got %q)", n, want, err, c.in.String())
		}
		c.in.Write(b)
	}
}

// scrape returns every sample of /metrics by its series ("name{labels}").
func (n *node) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	return redistest.Scrape(t, n.url+"/metrics")
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	n := newNode(t)
	r, _, err := n.rooms.CreateDirect(context.Background(), 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Mint(secret, 8, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	before := n.scrape(t)
	for _, s := range []string{"roomwire_ws_connections_open", "roomwire_ws_sessions_open", "roomwire_ws_subscriptions_open",
		`roomwire_ws_frames_in_total{command="SEND"}`, "roomwire_ws_messages_delivered_total", "roomwire_ws_messages_published_total",
		"roomwire_ws_fanout_latency_seconds_count"} {
		if v, ok := before[s]; !ok || v != 0 {
			t.Errorf("before any traffic %s = %v (present %v), want 0", s, v, ok)
		}
	}

	c := n.dial(t)
	c.send("CONNECT\naccept-version:1.2\nAuthorization:Bearer " + tok + fmt.Sprintf("\nchatRoomId:%d\n\n", r.ID))
	c.await("CONNECTED", 1)
	c.send(fmt.Sprintf("SUBSCRIBE\nid:s1\ndestination:/sub/chat/room/%d\nreceipt:r1\n\n", r.ID))
	c.await("RECEIPT", 1)
	c.send(fmt.Sprintf("SEND\ndestination:/pub/send-message\nreceipt:r2\ncontent-type:application/json\n\n{\"chatRoomId\":%d,\"message\":\"hi\"}", r.ID))
	c.await("RECEIPT", 2)
	c.await("MESSAGE\n", 1)

	bad := n.dial(t)
	bad.send("SEND\ndestination:/pub/send-message\n\nbefore connect")
	bad.await("ERROR", 1)
	bad.ws.CloseNow() // no close handshake to wait for

	var got map[string]float64
	redistest.Eventually(t, "the probe and the bad connection's end", func() bool {
		got = n.scrape(t)
		return got["roomwire_ws_pubsub_lag_seconds_count"] >= 1 && got["roomwire_ws_redis_roundtrip_seconds_count"] >= 1 &&
			got["roomwire_ws_connections_open"] == 1
	})
	want := map[string]float64{
		"roomwire_ws_connections_open":                           1,
		"roomwire_ws_sessions_open":                              1,
		"roomwire_ws_subscriptions_open":                         1,
		`roomwire_ws_frames_in_total{command="CONNECT"}`:         1,
		`roomwire_ws_frames_in_total{command="SUBSCRIBE"}`:       1,
		`roomwire_ws_frames_in_total{command="SEND"}`:            2, // one refused before CONNECT
		`roomwire_ws_frames_out_total{command="CONNECTED"}`:      1,
		`roomwire_ws_frames_out_total{command="RECEIPT"}`:        2,
		`roomwire_ws_frames_out_total{command="MESSAGE"}`:        1,
		`roomwire_ws_frames_out_total{command="ERROR"}`:          1,
		`roomwire_ws_error_disconnects_total{reason="protocol"}`: 1,
		`roomwire_ws_error_disconnects_total{reason="auth"}`:     0,
		"roomwire_ws_messages_delivered_total":                   1,
		"roomwire_ws_messages_published_total":                   1, // the refused SEND published nothing
		"roomwire_ws_fanout_latency_seconds_count":               1,
		"roomwire_ws_slow_consumer_disconnects_total":            0,
		"roomwire_ws_catchups_total":                             0,
		"roomwire_ws_redis_duplicates_dropped_total":             0,
		"roomwire_ws_redis_pubsub_connections":                   1, // a single Redis
		"roomwire_ws_redis_channels_moved_total":                 0,
		"roomwire_ws_redis_master_switches_total":                0,
		`roomwire_ws_redis_messages_by_kind_total{kind="room"}`:  1, // the chat message
	}
	for s, v := range want {
		if got[s] != v {
			t.Errorf("%s = %v, want %v", s, got[s], v)
		}
	}
	// The room's channel, the probe's and the node's two control channels.
	if got["roomwire_ws_redis_channels_subscribed"] != 4 {
		t.Errorf("channels subscribed = %v, want 4", got["roomwire_ws_redis_channels_subscribed"])
	}
	if got[`roomwire_ws_redis_messages_by_kind_total{kind="probe"}`] < 1 {
		t.Errorf("probe messages by kind = %v, want ≥ 1", got[`roomwire_ws_redis_messages_by_kind_total{kind="probe"}`])
	}
	// The chat message and at least one probe came from Redis.
	if got["roomwire_ws_redis_messages_received_total"] < 2 {
		t.Errorf("messages received = %v, want ≥ 2", got["roomwire_ws_redis_messages_received_total"])
	}
	if got["roomwire_ws_fanout_latency_seconds_sum"] <= 0 || got["roomwire_ws_fanout_latency_seconds_sum"] > 5 {
		t.Errorf("fan-out latency sum = %v s, want a small positive time", got["roomwire_ws_fanout_latency_seconds_sum"])
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("the Go runtime collector is missing")
	}
	for s := range got {
		if strings.Contains(s, "room=") || strings.Contains(s, "user=") || strings.Contains(s, "session=") {
			t.Errorf("series %s has a high-cardinality label", s)
		}
	}

	c.ws.CloseNow()
	redistest.Eventually(t, "the closed session's gauges to fall", func() bool {
		got = n.scrape(t)
		return got["roomwire_ws_connections_open"] == 0 && got["roomwire_ws_sessions_open"] == 0 &&
			got["roomwire_ws_subscriptions_open"] == 0 && got["roomwire_ws_redis_channels_subscribed"] == 3
	})
}
