package messages_test

import (
	"context"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestSendIsNotRepeatedByARetry(t *testing.T) {
	f := newFixture(t, messages.Config{})
	room := f.group(t, 1, 2)
	flaky, tripped := srv.LosingReply(t, f.keys.RoomSendKeys(room))
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomMessages(room))
	store := messages.NewStore(flaky, f.keys, messages.Config{})

	m, _, err := store.Send(context.Background(), room, 1, 0, "once")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !tripped() {
		t.Fatal("the connection was never broken: the test did not exercise a retry")
	}
	if m.Seq != 1 {
		t.Errorf("seq = %d, want 1", m.Seq)
	}
	if n := f.rdb.ZCard(context.Background(), f.keys.RoomHistory(room)).Val(); n != 1 {
		t.Errorf("history holds %d messages after a retried send, want 1", n)
	}
	if last := f.rdb.HGet(context.Background(), f.keys.RoomMeta(room), "lastSeq").Val(); last != "1" {
		t.Errorf("lastSeq = %s, want 1", last)
	}
	// Exactly one publish: the next message seen after it is a marker.
	redistest.Next(t, ps)
	f.rdb.Publish(context.Background(), f.keys.RoomMessages(room), "marker")
	if got := redistest.Next(t, ps).Payload; got != "marker" {
		t.Errorf("a second publish followed the first: %s", got)
	}
}
