package messages_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var feedOn = messages.Config{ArchiveFeed: messages.ArchiveFeed{On: true}}

// record is one archive stream record: "type message room 4 seq 2 body {...}".
type record struct{ typ, room, seq, body string }

func (r record) String() string {
	return fmt.Sprintf("%s room %s seq %s body %.60s", r.typ, r.room, r.seq, r.body)
}

// roomRecords reads the records of room from its archive stream, in
// stream order, checking that each has exactly the contract's fields.
func roomRecords(t testing.TB, f *fixture, sharded bool, room int64) []record {
	t.Helper()
	stream := f.keys.ArchiveStreamFor(room, sharded)
	msgs, err := f.rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE %s: %v", stream, err)
	}
	var out []record
	for _, m := range msgs {
		r := record{typ: str(m.Values["type"]), room: str(m.Values["room"]), seq: str(m.Values["seq"]), body: str(m.Values["body"])}
		if want := map[string]int{"message": 4, "room": 2}[r.typ]; len(m.Values) != want {
			t.Fatalf("record %s of %s has fields %v", m.ID, stream, m.Values)
		}
		if r.room == strconv.FormatInt(room, 10) {
			out = append(out, r)
		}
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

// entryAt reads the history entry of seq.
func entryAt(t testing.TB, f *fixture, room, seq int64) string {
	t.Helper()
	vals := f.rdb.ZRangeByScore(context.Background(), f.keys.RoomHistory(room), oneSeq(seq)).Val()
	if len(vals) != 1 {
		t.Fatalf("room %d has %d entries of seq %d", room, len(vals), seq)
	}
	return vals[0]
}

// TestArchiveFeed: with the feed on, every send appends a "type message"
// record whose body is the history entry byte for byte, in the room's
// stream (one stream on a single Redis; the room's slot's stream on a
// cluster); a replayed send (a retry after a lost reply) appends none;
// edit and delete append the replacement entry.
func TestArchiveFeed(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, feedOn)
		sharded := c != nil
		if sharded {
			c.Spread(t, f.keys.RoomHistory(1), f.keys.RoomHistory(3), f.keys.RoomHistory(4))
		}
		ids := []int64{f.group(t, 1, 2), f.direct(t, 1, 2), f.direct(t, 3, 4), f.group(t, 2, 3, 4)}
		if ids[0] != 1 || ids[3] != 4 {
			t.Fatalf("room ids %v, want 1..4", ids)
		}
		want := map[int64][]record{}
		sent := func(room int64, m int64, raw []byte) {
			want[room] = append(want[room], record{"message", strconv.FormatInt(room, 10), strconv.FormatInt(m, 10), string(raw)})
		}
		for i, tc := range []struct{ room, sender, rcv int64 }{{1, 1, 2}, {3, 3, 0}, {4, 2, 0}, {4, 4, 3}, {1, 2, 0}, {3, 4, 3}} {
			m, raw := f.send(t, tc.room, tc.sender, tc.rcv, fmt.Sprintf("m%d \"quoted\" é", i))
			if e := entryAt(t, f, tc.room, m.Seq); e != string(raw) {
				t.Fatalf("history entry %s differs from the returned %s", e, raw)
			}
			sent(tc.room, m.Seq, raw)
		}

		// A lost reply: go-redis runs the script again, which finds its
		// idempotency key and appends nothing.
		flaky, tripped := losingReply(t, c, f.keys.RoomSendKeys(4))
		m, raw, err := messages.NewStore(flaky, f.keys, feedOn).Send(ctx, 4, 3, 0, "once")
		if err != nil || !tripped() || m.Seq != 3 {
			t.Fatalf("Send over a lost reply = seq %d, %v (tripped %v); want seq 3", m.Seq, err, tripped())
		}
		sent(4, m.Seq, raw)

		edited, err := f.msgs.Edit(ctx, 4, 3, 3, "once, edited")
		if err != nil {
			t.Fatal(err)
		}
		want[4] = append(want[4], record{"message", "4", "3", string(edited)})
		tomb, err := f.msgs.Delete(ctx, 4, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		want[4] = append(want[4], record{"message", "4", "1", string(tomb)})
		if entryAt(t, f, 4, 3) != string(edited) || entryAt(t, f, 4, 1) != string(tomb) {
			t.Fatalf("history does not hold the edited entry and the tombstone")
		}

		for _, room := range []int64{1, 3, 4} {
			got := roomRecords(t, f, sharded, room)
			if fmt.Sprint(got) != fmt.Sprint(want[room]) {
				t.Errorf("room %d records:\n%v\nwant\n%v", room, got, want[room])
			}
			for i := range got {
				if got[i] != want[room][i] {
					t.Errorf("room %d record %d body %q, want %q", room, i, got[i].body, want[room][i].body)
				}
			}
		}
		streams := redistest.Keys(t, rdb, f.keys.Prefix()+":archive*")
		wantStreams := 1
		if sharded {
			wantStreams = 3 // rooms 1, 3 and 4 are on three slots
		}
		if len(streams) != wantStreams {
			t.Errorf("archive streams %v, want %d", streams, wantStreams)
		}
	})
}

// TestArchiveFeedOff: without the feed, sends, edits and deletes write no
// archive stream at all.
func TestArchiveFeedOff(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, messages.Config{HistoryLen: 2})
		id := f.group(t, 1, 2)
		before := redistest.TakeSnapshot(t, rdb, f.keys.Prefix()+":*")
		for i := range 4 {
			f.send(t, id, 1, 0, fmt.Sprint("m", i))
		}
		if _, err := f.msgs.Edit(ctx, id, 4, 1, "edited"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.msgs.Delete(ctx, id, 3, 1); err != nil {
			t.Fatal(err)
		}
		diff := before.Diff(redistest.TakeSnapshot(t, rdb, f.keys.Prefix()+":*"))
		want := []string{"changed " + f.keys.RoomMeta(id), "created " + f.keys.RoomHistory(id),
			"created " + f.keys.RoomRead(id), "created " + f.keys.RoomSendKeys(id)}
		if !slices.Equal(diff, want) {
			t.Errorf("feed off: the sends changed %q, want %q", diff, want)
		}
		if ks := redistest.Keys(t, rdb, f.keys.Prefix()+":archive*"); len(ks) != 0 {
			t.Errorf("feed off wrote %v", ks)
		}
	})
}

// TestArchiveTrimGuard: with the feed on, history keeps the messages the
// archive lacks (above archivedSeq) beyond HistoryLen, up to BacklogMax
// more; once archivedSeq moves, the next send trims to HistoryLen again.
func TestArchiveTrimGuard(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, messages.Config{HistoryLen: 3, ArchiveFeed: messages.ArchiveFeed{On: true, BacklogMax: 5}})
		id := f.group(t, 1)
		held := func(wantFirst, wantLast int64) {
			t.Helper()
			z := f.rdb.ZRangeWithScores(ctx, f.keys.RoomHistory(id), 0, -1).Val()
			if len(z) == 0 || int64(z[0].Score) != wantFirst || int64(z[len(z)-1].Score) != wantLast || int64(len(z)) != wantLast-wantFirst+1 {
				t.Fatalf("history holds %d entries %v, want %d..%d", len(z), z, wantFirst, wantLast)
			}
		}
		for range 8 {
			f.send(t, id, 1, 0, "m")
		}
		held(1, 8) // nothing archived: all kept, HistoryLen 3 + BacklogMax 5
		for range 2 {
			f.send(t, id, 1, 0, "m")
		}
		held(3, 10) // the backlog is full: the oldest unarchived go
		f.rdb.HSet(ctx, f.keys.RoomMeta(id), "archivedSeq", 6)
		f.send(t, id, 1, 0, "m")
		held(7, 11) // only what the archive holds goes
		f.rdb.HSet(ctx, f.keys.RoomMeta(id), "archivedSeq", 100)
		f.send(t, id, 1, 0, "m")
		held(10, 12) // all archived: HistoryLen as without the feed
		if n := len(roomRecords(t, f, c != nil, id)); n != 12 {
			t.Errorf("%d records for 12 sends", n)
		}
	})
}

// TestArchiveStreamMax: the stream stays near StreamMax (XADD MAXLEN ~
// trims whole nodes of 100 entries, so it may run over by about that).
func TestArchiveStreamMax(t *testing.T) {
	f := newFixture(t, messages.Config{ArchiveFeed: messages.ArchiveFeed{On: true, StreamMax: 50}})
	id := f.group(t, 1)
	for range 600 {
		f.send(t, id, 1, 0, "m")
	}
	n := f.rdb.XLen(context.Background(), f.keys.ArchiveStream()).Val()
	t.Logf("600 sends, StreamMax 50: the stream holds %d records", n)
	if n < 50 || n > 250 {
		t.Errorf("the stream holds %d records, want about 50 (50 to 250)", n)
	}
}
