package messages_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/wire"
)

// TestSendReadsThePostSendState checks the room-side half of the post-send
// step that send.lua does in the send's own round trip: the sender's read
// position before and after, the members away from the room (no presence
// field) with their read positions, and no list for rooms over MaxAway (4).
func TestSendReadsThePostSendState(t *testing.T) {
	ctx := context.Background()
	log := &sentLog{}
	f := newFixture(t, messages.Config{Observer: log})
	room := f.group(t, 8, 3, 4, 5)
	big := f.group(t, 8, 3, 4, 5, 6)
	for _, id := range []int64{room, big} {
		// 3 is in the room, 4 and 5 are not (presence.lua deletes a
		// user's field when their count drops to 0).
		f.rdb.HSet(ctx, f.keys.RoomPresence(id), "3", 1)
	}
	f.rdb.HSet(ctx, f.keys.RoomRead(room), "5", 0)

	f.send(t, room, 8, 0, "one")
	f.rdb.HSet(ctx, f.keys.RoomRead(room), "4", 1)
	f.send(t, room, 3, 0, "two")
	f.send(t, room, 8, 0, "three")
	f.send(t, big, 8, 0, "big")

	want := []messages.PostSend{
		{SenderRead: 0, Away: []messages.Member{{UserID: 4, Read: 0}, {UserID: 5, Read: 0}}},
		{SenderRead: 0, Away: []messages.Member{{UserID: 4, Read: 1}, {UserID: 5, Read: 0}, {UserID: 8, Read: 1}}},
		{SenderRead: 1, Away: []messages.Member{{UserID: 4, Read: 1}, {UserID: 5, Read: 0}}},
		{SenderRead: 0, TooLarge: true},
	}
	if len(log.posts) != len(want) {
		t.Fatalf("observer saw %d sends, want %d", len(log.posts), len(want))
	}
	for i, p := range log.posts {
		sortAway(p.Away)
		if !reflect.DeepEqual(p, want[i]) {
			t.Errorf("send %d (%q): post-send %+v, want %+v", i+1, log.msgs[i].Message, p, want[i])
		}
	}
	// Sending moved each sender's read position to their message.
	pos := f.rdb.HGetAll(ctx, f.keys.RoomRead(room)).Val()
	if want := map[string]string{"8": "3", "3": "2", "4": "1", "5": "0"}; !reflect.DeepEqual(pos, want) {
		t.Errorf("read positions %v, want %v", pos, want)
	}
	if got := f.rdb.HGet(ctx, f.keys.RoomRead(big), "8").Val(); got != "1" {
		t.Errorf("sender's read position in the large room = %q, want 1", got)
	}
}

// TestRetriedSendStillReportsThePostSendState: when the first reply was
// lost and go-redis ran the script again, the replay returns the stored
// message together with the post-send state, so the observer runs once
// (the sender's read position is the one the first run moved).
func TestRetriedSendStillReportsThePostSendState(t *testing.T) {
	log := &sentLog{}
	f := newFixture(t, messages.Config{})
	room := f.group(t, 1, 2)
	flaky, tripped := srv.LosingReply(t, f.keys.RoomSendKeys(room))
	store := messages.NewStore(flaky, f.keys, messages.Config{Observer: log})
	m, _, err := store.Send(context.Background(), room, 1, 0, "once")
	if err != nil || !tripped() {
		t.Fatalf("Send = %v, retried %v; want a retried send", err, tripped())
	}
	want := messages.PostSend{SenderRead: 1, Away: []messages.Member{{UserID: 2}}}
	if len(log.posts) != 1 || !reflect.DeepEqual(log.posts[0], want) || log.msgs[0] != m {
		t.Fatalf("observer saw %+v %+v, want once %+v %+v", log.msgs, log.posts, m, want)
	}
}

func sortAway(a []messages.Member) {
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			if a[j].UserID < a[i].UserID {
				a[i], a[j] = a[j], a[i]
			}
		}
	}
}

// TestSentMessageMatchesItsJSON: Send builds the returned message from
// the values send.lua used instead of decoding its JSON; both must agree,
// whatever the room kind, receiver and text.
func TestSentMessageMatchesItsJSON(t *testing.T) {
	f := newFixture(t, messages.Config{})
	direct, group := f.direct(t, 8, 3), f.group(t, 8, 3, 4)
	for _, tc := range []struct {
		room, sender, rcv int64
		text              string
	}{
		{direct, 8, 0, "hi"},                // rcvId filled with the other member
		{direct, 3, 8, "안녕하세요"},             // rcvId given
		{group, 4, 0, `quote " \ <b>&</b>`}, // no rcvId; escapes
		{group, 8, 3, "line\nbreak\u2028"},
	} {
		m, raw := f.send(t, tc.room, tc.sender, tc.rcv, tc.text)
		var decoded wire.Message
		if err := json.Unmarshal(raw, &decoded); err != nil {
			t.Fatal(err)
		}
		if m != decoded {
			t.Errorf("Send returned %+v, its JSON says %+v", m, decoded)
		}
	}
}

// TestSendToAPairReadsThePostSendState covers send.lua's short path for a
// send naming its receiver in a room of two (one membership check for
// both, one presence lookup): the receiver is away exactly when they have
// no presence field, with their read position; a receiver that is the
// sender, or a room of more, takes the general path.
func TestSendToAPairReadsThePostSendState(t *testing.T) {
	ctx := context.Background()
	log := &sentLog{}
	f := newFixture(t, messages.Config{Observer: log})
	direct := f.direct(t, 1, 2)
	group := f.group(t, 1, 2, 3)
	f.rdb.HSet(ctx, f.keys.RoomRead(direct), "2", 0)

	f.send(t, direct, 1, 2, "2 is away")
	f.rdb.HSet(ctx, f.keys.RoomPresence(direct), "2", 1)
	f.send(t, direct, 1, 2, "2 is here")
	f.rdb.HSet(ctx, f.keys.RoomPresence(direct), "1", 1)
	f.rdb.HDel(ctx, f.keys.RoomPresence(direct), "2")
	f.rdb.HSet(ctx, f.keys.RoomRead(direct), "2", 1)
	f.send(t, direct, 2, 1, "from 2, 1 is here")
	f.send(t, direct, 1, 2, "2 left, read 1")
	f.send(t, group, 1, 1, "to myself")
	f.send(t, group, 1, 2, "to 2 of three")

	want := []messages.PostSend{
		{SenderRead: 0, Away: []messages.Member{{UserID: 2, Read: 0}}},
		{SenderRead: 1},
		{SenderRead: 1},
		{SenderRead: 2, Away: []messages.Member{{UserID: 2, Read: 3}}},
		{SenderRead: 0, Away: []messages.Member{{UserID: 2}, {UserID: 3}}},
		{SenderRead: 1, Away: []messages.Member{{UserID: 2}, {UserID: 3}}},
	}
	if len(log.posts) != len(want) {
		t.Fatalf("observer saw %d sends, want %d", len(log.posts), len(want))
	}
	for i, p := range log.posts {
		sortAway(p.Away)
		if !reflect.DeepEqual(p, want[i]) {
			t.Errorf("send %d (%q): post-send %+v, want %+v", i+1, log.msgs[i].Message, p, want[i])
		}
	}
	if pos := f.rdb.HGetAll(ctx, f.keys.RoomRead(direct)).Val(); !reflect.DeepEqual(pos, map[string]string{"1": "4", "2": "3"}) {
		t.Errorf("read positions %v, want 1 at 4 and 2 at 3", pos)
	}
}
