package events_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var wireTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func TestRoomEvent(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	pub := events.NewPublisher(rdb, ks)

	tests := []struct {
		name string
		ev   wire.Event
	}{
		{"enter stamped now", wire.Event{Type: wire.EventEnter, ChatRoomID: 7, UserID: 3}},
		{"leave with reason", wire.Event{Type: wire.EventLeave, ChatRoomID: 7, UserID: 3, Reason: "node-lost"}},
		{"explicit time kept", wire.Event{Type: wire.EventMemberAdded, ChatRoomID: 8, UserID: 4, At: "2026-01-02T03:04:05.678Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := redistest.Subscribe(t, rdb, ks.RoomEvents(tt.ev.ChatRoomID))
			before := time.Now().Add(-time.Millisecond)
			if err := pub.Room(ctx, tt.ev); err != nil {
				t.Fatalf("Room: %v", err)
			}
			msg := redistest.Next(t, ps)
			if msg.Channel != ks.RoomEvents(tt.ev.ChatRoomID) {
				t.Errorf("channel = %q", msg.Channel)
			}
			var got wire.Event
			if err := json.Unmarshal([]byte(msg.Payload), &got); err != nil {
				t.Fatalf("payload %q is not JSON: %v", msg.Payload, err)
			}
			if !wireTime.MatchString(got.At) {
				t.Errorf("at = %q, not the wire time layout", got.At)
			}
			want := tt.ev
			if want.At == "" {
				at, err := time.Parse(time.RFC3339, got.At)
				if err != nil || at.Before(before.Truncate(time.Millisecond)) || at.After(time.Now()) {
					t.Errorf("at = %q (%v), want now", got.At, err)
				}
				want.At = got.At
			}
			if got != want {
				t.Errorf("event = %+v, want %+v", got, want)
			}
		})
	}
}

func TestRoomEventJSON(t *testing.T) {
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	ps := redistest.Subscribe(t, rdb, ks.RoomEvents(5))
	ev := wire.Event{Type: wire.EventEnter, ChatRoomID: 5, UserID: 2, At: "2026-01-02T03:04:05.678Z"}
	if err := events.NewPublisher(rdb, ks).Room(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"ENTER","chatRoomId":5,"userId":2,"at":"2026-01-02T03:04:05.678Z"}`
	if got := redistest.Next(t, ps).Payload; got != want {
		t.Errorf("payload = %s\nwant      %s", got, want)
	}
}

func TestControl(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	pub := events.NewPublisher(rdb, ks)
	ps := redistest.Subscribe(t, rdb, ks.NodeControl("n1"), ks.NodeControl("n2"), ks.Control())

	disconnect := wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"a", "b"}, Reason: "kicked"}
	revoke := wire.Control{Op: wire.OpRevoke, RoomID: 9, UserID: 4}
	if err := pub.Node(ctx, "n2", disconnect); err != nil {
		t.Fatalf("Node: %v", err)
	}
	if err := pub.Broadcast(ctx, revoke); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	tests := []struct {
		channel, payload string
	}{
		{ks.NodeControl("n2"), `{"op":"disconnect","sessionIds":["a","b"],"reason":"kicked"}`},
		{ks.Control(), `{"op":"revoke","roomId":9,"userId":4}`},
	}
	for _, tt := range tests {
		msg := redistest.Next(t, ps)
		if msg.Channel != tt.channel || msg.Payload != tt.payload {
			t.Errorf("got %s on %q, want %s on %q", msg.Payload, msg.Channel, tt.payload, tt.channel)
		}
		var c wire.Control
		if err := json.Unmarshal([]byte(msg.Payload), &c); err != nil {
			t.Errorf("payload %q: %v", msg.Payload, err)
		}
	}
}

func TestPublishErrorsCarryContext(t *testing.T) {
	rdb := srv.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pub := events.NewPublisher(rdb, keys.MustNew(redistest.Prefix(t)))
	if err := pub.Room(ctx, wire.Event{Type: wire.EventLeave, ChatRoomID: 3}); err == nil {
		t.Error("Room with a cancelled context succeeded")
	}
	if err := pub.Node(ctx, "n1", wire.Control{Op: wire.OpDisconnect}); err == nil {
		t.Error("Node with a cancelled context succeeded")
	}
	if err := pub.Broadcast(ctx, wire.Control{Op: wire.OpRevoke}); err == nil {
		t.Error("Broadcast with a cancelled context succeeded")
	}
}
