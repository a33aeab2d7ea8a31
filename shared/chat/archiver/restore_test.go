package archiver_test

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/archiver"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// After Redis lost everything, Restore brings back the rooms, their
// members, each room's recent history and the id counter from the archive:
// rooms list, history pages, a direct room's pair, the next seq and new
// room ids continue where they were.
func TestRestoreBringsRoomsMembersAndHistoryBack(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, _ *redistest.Cluster) {
		ctx := context.Background()
		f := newFixture(t, rdb, fixtureConfig{historyLen: 100})
		group, err := f.rooms.CreateGroup(ctx, 1, "team", []int64{2, 3})
		if err != nil {
			t.Fatal(err)
		}
		direct, _, err := f.rooms.CreateDirect(ctx, 1, 5)
		if err != nil {
			t.Fatal(err)
		}
		groupMsgs := f.send(t, group.ID, 2, 30)
		directMsgs := f.send(t, direct.ID, 5, 5)
		archivetest.Drain(t, f.arc)

		for _, k := range redistest.Keys(t, rdb, f.keys.Prefix()+":*") {
			if err := rdb.Del(ctx, k).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.rooms.Get(ctx, group.ID); err == nil {
			t.Fatal("the room is still there after deleting every key")
		}

		res, err := archiver.Restore(ctx, rdb, f.keys, f.store, 10)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rooms != 2 || res.Messages != 15 {
			t.Fatalf("restored %+v, want 2 rooms and 10 + 5 messages", res)
		}
		g, err := f.rooms.Get(ctx, group.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.Name != "team" || g.Type != "group" || g.CreatedBy != 1 || !slices.Equal(g.MemberIDs, []int64{1, 2, 3}) || g.LastSeq != 30 {
			t.Fatalf("restored group %+v", g)
		}
		if n := rdb.ZCard(ctx, f.keys.RoomHistory(group.ID)).Val(); n != 10 {
			t.Fatalf("restored history holds %d messages, want the newest 10", n)
		}
		p, err := f.msgs.History(ctx, group.ID, messages.Query{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(p.Messages))
		for i, m := range p.Messages {
			got[len(got)-1-i] = string(m)
		}
		if !slices.Equal(got, groupMsgs) {
			t.Fatalf("history after restore has %d messages, want all 30 (the older ones from the archive)", len(got))
		}
		rooms, err := f.rooms.ListForUser(ctx, 1)
		if err != nil || len(rooms) != 2 {
			t.Fatalf("user 1's rooms after restore: %d, %v; want 2", len(rooms), err)
		}
		again, created, err := f.rooms.CreateDirect(ctx, 5, 1)
		if err != nil || created || again.ID != direct.ID || string(again.LastMessage) != directMsgs[4] {
			t.Fatalf("direct room after restore: id %d (want %d), created %v, last %s, %v", again.ID, direct.ID, created, again.LastMessage, err)
		}
		m, _, err := f.msgs.Send(ctx, group.ID, 3, 0, "after the restore")
		if err != nil || m.Seq != 31 {
			t.Fatalf("send after restore: seq %d, %v; want 31", m.Seq, err)
		}
		fresh, err := f.rooms.CreateGroup(ctx, 2, "new", nil)
		if err != nil || fresh.ID <= max(group.ID, direct.ID) {
			t.Fatalf("new room after restore got id %d (%v), want one above %d", fresh.ID, err, max(group.ID, direct.ID))
		}
		read, err := rdb.HGet(ctx, f.keys.RoomRead(group.ID), "2").Int64()
		if err != nil || read != 30 {
			t.Fatalf("user 2's read position after restore: %d, %v; want 30", read, err)
		}
	})
}
