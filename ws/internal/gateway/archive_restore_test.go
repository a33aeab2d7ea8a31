package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/archiver"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// Issue #16: "Flushing Redis and running chatctl restore brings rooms,
// members and recent history back, and the seed flow works again". A
// group and a direct room with messages, archived; every key of the
// deployment deleted under a running ws node; archiver.Restore (what
// chatctl restore runs) with the newest 50 messages per room. Then the
// seed flow on the node: CONNECT into the room (chatRoomId, sendId),
// SUBSCRIBE to its topic, SEND, and the message comes back with the seq
// after the last archived one; a resume from 0 returns every old message
// (Redis's restored window, then the archive below it) and the new one; and
// the new message is archived again.
func TestSeedFlowWorksAfterRedisIsRestoredFromTheArchive(t *testing.T) {
	ctx := context.Background()
	s := newArchiveSetup(t)
	e := s.node(t, "node-restore", 0)
	group, err := s.rooms.CreateGroup(ctx, 8, "team", []int64{3, 4})
	if err != nil {
		t.Fatal(err)
	}
	direct, _, err := s.rooms.CreateDirect(ctx, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	const groupN, directN, recent = 250, 5, 50
	groupSent := s.fill(t, e.msgs, group.ID, 3, groupN)
	directSent := s.fill(t, e.msgs, direct.ID, 8, directN)
	archivetest.Drain(t, s.arc)

	wiped := redistest.Keys(t, s.rdb, s.keys.Prefix()+":*")
	for _, k := range wiped {
		if err := s.rdb.Del(ctx, k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.rooms.Get(ctx, group.ID); err == nil {
		t.Fatalf("room %d still exists after deleting the %d keys of the deployment", group.ID, len(wiped))
	}
	res, err := archiver.Restore(ctx, s.rdb, s.keys, s.sink, recent)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rooms != 2 || res.Messages != recent+directN {
		t.Fatalf("restored %+v, want 2 rooms and %d + %d messages", res, recent, directN)
	}

	// The seed flow, in each room, as a member other than the room's
	// creator.
	for _, tc := range []struct {
		name       string
		roomID     int64
		user, rcv  int64
		sent       [][]byte
		wantOldest int64 // the oldest seq Redis holds after the restore
	}{
		{"group", group.ID, 4, 0, groupSent, groupN - recent + 1},
		{"direct", direct.ID, 3, 8, directSent, 1},
	} {
		last := len(tc.sent) - 1
		if w := s.window(t, tc.roomID); w.Oldest != tc.wantOldest || w.Newest != int64(last) {
			t.Fatalf("%s: Redis holds seq %d..%d after the restore, want %d..%d", tc.name, w.Oldest, w.Newest, tc.wantOldest, last)
		}
		id := strconv.FormatInt(tc.roomID, 10)
		user := strconv.FormatInt(tc.user, 10)
		connect := []string{"chatRoomId", id, "sendId", user}
		if tc.rcv != 0 {
			connect = append(connect, "rcvId", strconv.FormatInt(tc.rcv, 10))
		}
		c, _ := e.connect(tc.user, connect...)
		c.send("SUBSCRIBE", "", "id", "live", "destination", "/sub/chat/room/"+id, "receipt", "sub")
		if r := c.expect("RECEIPT"); r.Value("receipt-id") != "sub" {
			t.Fatalf("%s: SUBSCRIBE answered %v", tc.name, r.Headers)
		}
		text := "after the restore in " + tc.name
		c.send("SEND", fmt.Sprintf(`{"chatRoomId":%s,"sendId":%s,"message":%q}`, id, user, text),
			"destination", "/pub/send-message", "receipt", "sent")
		var got map[string]any
		for receipt := false; got == nil || !receipt; {
			switch f := c.next(); {
			case f.Command == "RECEIPT" && f.Value("receipt-id") == "sent":
				receipt = true
			case f.Command == "MESSAGE" && f.Value("subscription") == "live" && got == nil:
				got = msgOf(t, f)
			default:
				t.Fatalf("%s: got %s %v %q after SEND", tc.name, f.Command, f.Headers, f.Body)
			}
		}
		if got["seq"] != float64(last+1) || got["message"] != text || got["sendId"] != float64(tc.user) {
			t.Fatalf("%s: the message came back as %v, want seq %d (after the archive's last), %q from %d", tc.name, got, last+1, text, tc.user)
		}
		if tc.rcv != 0 && got["rcvId"] != float64(tc.rcv) {
			t.Fatalf("%s: rcvId %v, want %d", tc.name, got["rcvId"], tc.rcv)
		}

		r := resumeFrom(t, c, "resume", tc.roomID, 0, last+1)
		if len(r.notices) != 0 {
			t.Fatalf("%s: notice %v %s: the archive and Redis hold every message", tc.name, r.notices[0].Headers, r.notices[0].Body)
		}
		assertSeqs(t, r.seqs, 1, last+1)
		assertBodies(t, r, tc.sent, 1, last)
		c.noFrame(100 * time.Millisecond)
	}

	// Archiving goes on after the restore (the stream and its consumer
	// group were deleted with the rest).
	archivetest.Drain(t, s.arc)
	for _, tc := range []struct {
		roomID int64
		want   int64
	}{{group.ID, groupN + 1}, {direct.ID, directN + 1}} {
		if n, err := s.sink.MaxSeq(ctx, tc.roomID); err != nil || n != tc.want {
			t.Fatalf("room %d: the archive's last seq is %d (%v) after the restore, want %d", tc.roomID, n, err, tc.want)
		}
	}
}
