package events_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestUsers(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	pub := events.NewPublisher(rdb, ks)
	ps := redistest.Subscribe(t, rdb, ks.UserNotifications(3), ks.UserNotifications(5))

	if err := pub.Users(ctx); err != nil {
		t.Fatalf("no notes: %v", err)
	}
	err := pub.Users(ctx,
		events.UserNote{UserID: 3, Note: wire.Notification{Type: wire.NoteAdded, ChatRoomID: 2}},
		events.UserNote{UserID: 5, Note: wire.Notification{Type: wire.NoteUnread, ChatRoomID: 2, UnreadCount: wire.Count(0), At: "kept"}},
	)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	for _, want := range []struct {
		channel, typ string
		at           func(string) bool
	}{
		{ks.UserNotifications(3), wire.NoteAdded, wireTime.MatchString},
		{ks.UserNotifications(5), wire.NoteUnread, func(s string) bool { return s == "kept" }},
	} {
		msg := redistest.Next(t, ps)
		var n wire.Notification
		if err := json.Unmarshal([]byte(msg.Payload), &n); err != nil {
			t.Fatal(err)
		}
		if msg.Channel != want.channel || n.Type != want.typ || n.ChatRoomID != 2 || !want.at(n.At) {
			t.Errorf("got %s on %s, want %s on %s", msg.Payload, msg.Channel, want.typ, want.channel)
		}
	}
}
