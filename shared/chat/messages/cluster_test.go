package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestCluster runs the send path (send.lua, its idempotency key across a
// lost reply), history pages, edit and delete (change.lua) on a single
// Redis and on a 3-master cluster, in rooms 1, 3 and 4, which live on the
// three different masters there. Results must match.
func TestCluster(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, messages.Config{})
		if c != nil {
			c.Spread(t, f.keys.RoomHistory(1), f.keys.RoomHistory(3), f.keys.RoomHistory(4))
		}
		ids := []int64{f.group(t, 1, 2), f.direct(t, 1, 2), f.direct(t, 3, 4), f.group(t, 2, 3, 4)}
		if !slices.Equal(ids, []int64{1, 2, 3, 4}) {
			t.Fatalf("room ids %v, want 1..4 (the spread above assumes them)", ids)
		}
		l := redistest.Listen(t, rdb, f.keys.RoomMessages(1), f.keys.RoomMessages(3), f.keys.RoomMessages(4), f.keys.RoomEvents(4))

		// Each room has its own sequence; the published payload is the stored entry.
		for i, tc := range []struct {
			room, sender, rcv, wantRcv, wantSeq int64
		}{{1, 1, 2, 2, 1}, {3, 3, 0, 4, 1}, {4, 2, 0, 0, 1}, {4, 4, 3, 3, 2}, {1, 2, 0, 0, 2}} {
			m, raw := f.send(t, tc.room, tc.sender, tc.rcv, "m"+string(rune('a'+i)))
			if m.ChatRoomID != tc.room || m.Seq != tc.wantSeq || m.RcvID != tc.wantRcv {
				t.Errorf("send %d: %+v, want room %d seq %d rcv %d", i, m, tc.room, tc.wantSeq, tc.wantRcv)
			}
			if got := l.Next(t); got.Channel != f.keys.RoomMessages(tc.room) || got.Payload != string(raw) {
				t.Errorf("send %d published %s on %s, want %s", i, got.Payload, got.Channel, raw)
			}
		}
		if _, _, err := f.msgs.Send(ctx, 3, 1, 0, "intruder"); !errors.Is(err, messages.ErrNotMember) {
			t.Errorf("Send by a non-member: %v, want ErrNotMember", err)
		}
		if _, _, err := f.msgs.Send(ctx, 99, 1, 0, "void"); !errors.Is(err, messages.ErrRoomNotFound) {
			t.Errorf("Send to a missing room: %v, want ErrRoomNotFound", err)
		}

		// A send whose reply is lost is retried by go-redis; the idempotency
		// key keeps it one message (the script is cached on room 4's node
		// already, so the retry really runs it again).
		flaky, tripped := losingReply(t, c, f.keys.RoomSendKeys(4))
		m, _, err := messages.NewStore(flaky, f.keys, messages.Config{}).Send(ctx, 4, 3, 0, "once")
		if err != nil || !tripped() || m.Seq != 3 {
			t.Fatalf("Send over a lost reply = seq %d, %v (tripped %v); want seq 3", m.Seq, err, tripped())
		}
		l.Next(t)
		if n := rdb.ZCard(ctx, f.keys.RoomHistory(4)).Val(); n != 3 {
			t.Errorf("room 4 history holds %d after a retried send, want 3", n)
		}
		for range 3 {
			f.send(t, 4, 2, 0, "more") // seqs 4, 5, 6
			l.Next(t)
		}

		for _, tc := range []struct {
			q        messages.Query
			want     []int64
			wantMore bool
		}{
			{messages.Query{Limit: 2}, []int64{6, 5}, true},
			{messages.Query{Before: 5, Limit: 3}, []int64{4, 3, 2}, true},
			{messages.Query{After: 4}, []int64{5, 6}, false},
			{messages.Query{After: 1, Before: 4, Ascending: true}, []int64{2, 3}, false},
		} {
			p, err := f.msgs.History(ctx, 4, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]byte
			for _, raw := range p.Messages {
				got = append(got, raw)
			}
			if s := seqs(t, got); !slices.Equal(s, tc.want) || p.HasMore != tc.wantMore {
				t.Errorf("History(%+v) = %v more %v, want %v more %v", tc.q, s, p.HasMore, tc.want, tc.wantMore)
			}
		}
		since, oldest, err := f.msgs.Since(ctx, 4, 3, 10)
		if err != nil || !slices.Equal(seqs(t, since), []int64{4, 5, 6}) || oldest != 1 {
			t.Errorf("Since(room 4, 3) = %v oldest %d, %v", seqs(t, since), oldest, err)
		}

		// Edit and delete replace the entry and announce it on the events channel.
		edited, err := f.msgs.Edit(ctx, 4, 3, 3, "once, edited")
		if err != nil || !strings.Contains(string(edited), `"message":"once, edited"`) {
			t.Fatalf("Edit = %s, %v", edited, err)
		}
		tomb, err := f.msgs.Delete(ctx, 4, 4, 2)
		if err != nil || !strings.Contains(string(tomb), `"deleted":true`) {
			t.Fatalf("Delete = %s, %v", tomb, err)
		}
		for _, want := range []struct {
			typ   string
			entry []byte
		}{{wire.EventMessageEdited, edited}, {wire.EventMessageDeleted, tomb}} {
			got := l.Next(t)
			var ev wire.MessageEvent
			if err := json.Unmarshal([]byte(got.Payload), &ev); err != nil || got.Channel != f.keys.RoomEvents(4) ||
				ev.Type != want.typ || string(ev.Message) != string(want.entry) {
				t.Errorf("event %s on %s, want %s with %s", got.Payload, got.Channel, want.typ, want.entry)
			}
		}
		if _, err := f.msgs.Edit(ctx, 4, 4, 2, "back"); !errors.Is(err, messages.ErrDeleted) {
			t.Errorf("Edit of a deleted message: %v, want ErrDeleted", err)
		}
		if _, err := f.msgs.Edit(ctx, 4, 5, 3, "not mine"); !errors.Is(err, messages.ErrNotAuthor) {
			t.Errorf("Edit by another member: %v, want ErrNotAuthor", err)
		}
		p, err := f.msgs.History(ctx, 4, messages.Query{After: 2, Before: 5, Ascending: true})
		if err != nil || len(p.Messages) != 2 || string(p.Messages[0]) != string(edited) || string(p.Messages[1]) != string(tomb) {
			t.Errorf("history after edit and delete = %s, %v", p.Messages, err)
		}
		l.None(t, 20*time.Millisecond)
	})
}

// losingReply is redistest's LosingReply on whichever Redis the test runs.
func losingReply(t testing.TB, c *redistest.Cluster, marker string) (redis.UniversalClient, func() bool) {
	if c != nil {
		return c.LosingReply(t, marker)
	}
	return srv.LosingReply(t, marker)
}
