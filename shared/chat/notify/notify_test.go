package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

type fixture struct {
	rdb   redis.UniversalClient
	keys  keys.Space
	rooms *room.Store
	msgs  *messages.Store
	reads *readstate.Store
	reg   *registry.Registry
	note  *notify.Notifier
}

func newFixture(t testing.TB, cfg notify.Config) *fixture {
	t.Helper()
	return fixtureOn(t, srv.Client(t), cfg)
}

// fixtureOn is newFixture on any Redis: a single server or a cluster.
func fixtureOn(t testing.TB, rdb redis.UniversalClient, cfg notify.Config) *fixture {
	t.Helper()
	ks := redistest.Space(t)
	cfg.Logger = slog.New(slog.DiscardHandler)
	n := notify.New(rdb, ks, events.NewPublisher(rdb, ks), cfg)
	return &fixture{rdb: rdb, keys: ks, rooms: room.NewStore(rdb, ks, room.Config{}), reg: registry.New(rdb, ks), note: n,
		msgs:  messages.NewStore(rdb, ks, messages.Config{Observer: n}),
		reads: readstate.NewStore(rdb, ks, readstate.Config{Observer: n})}
}

func (f *fixture) session(t testing.TB, id string, user, roomID int64) {
	t.Helper()
	if _, err := f.reg.Register(context.Background(), registry.Session{ID: id, UserID: user, RoomID: roomID, Node: "n1"}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) send(t testing.TB, roomID, sender int64, text string) wire.Message {
	t.Helper()
	m, _, err := f.msgs.Send(context.Background(), roomID, sender, 0, text)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// inbox collects the notifications of some users.
type inbox struct {
	ps   *redis.PubSub
	keys keys.Space
}

func (f *fixture) inbox(t testing.TB, users ...int64) *inbox {
	t.Helper()
	var chans []string
	for _, u := range users {
		chans = append(chans, f.keys.UserNotifications(u))
	}
	ps := f.rdb.Subscribe(context.Background(), chans...)
	t.Cleanup(func() { ps.Close() })
	for range chans {
		if _, err := ps.ReceiveTimeout(context.Background(), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return &inbox{ps: ps, keys: f.keys}
}

// drain returns "user: json" lines received within d.
func (in *inbox) drain(t testing.TB, d time.Duration) map[string][]wire.Notification {
	t.Helper()
	out := map[string][]wire.Notification{}
	deadline := time.Now().Add(d)
	for {
		msg, err := in.ps.ReceiveTimeout(context.Background(), time.Until(deadline))
		if err != nil {
			return out
		}
		if m, ok := msg.(*redis.Message); ok {
			var n wire.Notification
			if err := json.Unmarshal([]byte(m.Payload), &n); err != nil {
				t.Fatal(err)
			}
			if n.At == "" {
				t.Errorf("notification without at: %s", m.Payload)
			}
			out[m.Channel] = append(out[m.Channel], n)
		}
	}
}

func TestMessageNotifiesAbsentMembersAndQueuesOffline(t *testing.T) {
	t.Run("in the caller", func(t *testing.T) { testMessageNotifies(t, false) })
	// With Start, Send only queues the step; the worker runs it.
	t.Run("on the worker", func(t *testing.T) { testMessageNotifies(t, true) })
}

func testMessageNotifies(t *testing.T, worker bool) {
	ctx := context.Background()
	f := newFixture(t, notify.Config{PreviewRunes: 5})
	if worker {
		wctx, stop := context.WithCancel(ctx)
		wait := f.note.Start(wctx)
		t.Cleanup(func() { stop(); wait() })
	}
	r, err := f.rooms.CreateGroup(ctx, 8, "g", []int64{3, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	id := r.ID
	f.send(t, id, 3, "one")
	f.send(t, id, 3, "two")
	// The steps of "one" and "two" ran once their outbox records (for 5,
	// 6 and 8, all offline) are in; a push worker then handles them.
	out := notify.NewOutbox(f.rdb, f.keys)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if f.rdb.XLen(ctx, f.keys.UserOutbox(8)).Val() == 2 && f.rdb.ZCard(ctx, f.keys.NotificationsPending()).Val() == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the post-send steps of the first messages never ran")
		}
	}
	claims, err := out.Claim(ctx, 10, time.Minute)
	if err != nil || len(claims) != 3 {
		t.Fatalf("Claim = %v, %v; want users 5, 6 and 8", claims, err)
	}
	for _, c := range claims {
		recs, err := out.Records(ctx, c.UserID)
		if err != nil || len(recs) != 2 {
			t.Fatalf("Records(%d) = %v, %v; want 2", c.UserID, recs, err)
		}
		if err := out.Done(ctx, c, recs[1].ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.reads.MarkRead(ctx, id, 5, 1); err != nil {
		t.Fatal(err)
	}
	f.session(t, "s3", 3, id) // viewing the room
	f.session(t, "s5", 5, 0)  // online, elsewhere
	f.session(t, "s8", 8, 0)  // the sender, online elsewhere too
	// 6 has no session at all.
	in := f.inbox(t, 3, 5, 6, 8)

	m := f.send(t, id, 8, "héllo wörld")
	got := in.drain(t, 300*time.Millisecond)
	want := map[string][]wire.Notification{
		f.keys.UserNotifications(5): {{Type: wire.NoteMessage, ChatRoomID: id, Seq: 3, SendID: 8, Preview: "héllo…", UnreadCount: wire.Count(2)}},
		f.keys.UserNotifications(8): {{Type: wire.NoteUnread, ChatRoomID: id, UnreadCount: wire.Count(0)}},
	}
	if fmt.Sprint(strip(got)) != fmt.Sprint(strip(want)) {
		t.Fatalf("notifications\n got %s\nwant %s", show(got), show(want))
	}

	// The outbox holds one record, for 6.
	claims, err = out.Claim(ctx, 10, time.Minute)
	if err != nil || len(claims) != 1 || claims[0].UserID != 6 {
		t.Fatalf("Claim = %v, %v; want user 6", claims, err)
	}
	recs, err := out.Records(ctx, 6)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Records(6) = %+v, %v; want one record", recs, err)
	}
	wantRec := notify.Record{ID: recs[0].ID, UserID: 6, ChatRoomID: id, Seq: 3, SendID: 8, Preview: "héllo…", SentAt: m.SentAt, UnreadCount: 3}
	if recs[0] != wantRec {
		t.Fatalf("record %+v, want %+v", recs[0], wantRec)
	}
	if err := out.Done(ctx, claims[0], recs[0].ID); err != nil {
		t.Fatal(err)
	}

	// The sender's position moved to their message, silently.
	if pos, _ := f.reads.Positions(ctx, id); pos[8] != 3 {
		t.Errorf("sender position %d, want 3", pos[8])
	}
	// Sending again with nothing unread for the sender: no UNREAD for 8.
	f.send(t, id, 8, "again")
	got = in.drain(t, 300*time.Millisecond)
	if len(got[f.keys.UserNotifications(8)]) != 0 || len(got[f.keys.UserNotifications(5)]) != 1 ||
		*got[f.keys.UserNotifications(5)][0].UnreadCount != 3 {
		t.Fatalf("second message: %s", show(got))
	}
}

func TestHugeRoomsAreSkipped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, notify.Config{MaxRecipients: 2})
	r, err := f.rooms.CreateGroup(ctx, 8, "big", []int64{3, 5})
	if err != nil {
		t.Fatal(err)
	}
	f.session(t, "s3", 3, 0)
	in := f.inbox(t, 3)
	f.send(t, r.ID, 8, "hi all")
	if got := in.drain(t, 200*time.Millisecond); len(got) != 0 {
		t.Fatalf("a room over MaxRecipients notified: %s", show(got))
	}
	if n := f.rdb.Exists(ctx, f.keys.UserOutbox(5), f.keys.NotificationsPending()).Val(); n != 0 {
		t.Fatalf("a room over MaxRecipients wrote the outbox")
	}
}

func TestMembershipAndUnreadNotes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, notify.Config{})
	r, err := f.rooms.CreateGroup(ctx, 8, "g", []int64{3})
	if err != nil {
		t.Fatal(err)
	}
	f.send(t, r.ID, 8, "a")
	f.send(t, r.ID, 8, "b")
	in := f.inbox(t, 3, 5)
	if err := f.note.Added(ctx, r.ID, 3, 5); err != nil {
		t.Fatal(err)
	}
	if err := f.note.Removed(ctx, r.ID, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reads.MarkRead(ctx, r.ID, 3, 1); err != nil {
		t.Fatal(err)
	}
	got := in.drain(t, 300*time.Millisecond)
	want := map[string][]wire.Notification{
		f.keys.UserNotifications(3): {{Type: wire.NoteAdded, ChatRoomID: r.ID}, {Type: wire.NoteUnread, ChatRoomID: r.ID, UnreadCount: wire.Count(1)}},
		f.keys.UserNotifications(5): {{Type: wire.NoteAdded, ChatRoomID: r.ID}, {Type: wire.NoteRemoved, ChatRoomID: r.ID}},
	}
	if fmt.Sprint(strip(got)) != fmt.Sprint(strip(want)) {
		t.Fatalf("notifications\n got %s\nwant %s", show(got), show(want))
	}
}

func TestPreview(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"longer text", 6, "longer…"},
		{"ünïcödé", 3, "ünï…"},
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := notify.Preview(tt.in, tt.n); got != tt.want {
			t.Errorf("Preview(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// strip drops the timestamps and renders unread counts, for comparison.
func strip(m map[string][]wire.Notification) map[string][]string {
	out := map[string][]string{}
	for ch, ns := range m {
		for _, n := range ns {
			n.At = ""
			u := "-"
			if n.UnreadCount != nil {
				u = fmt.Sprint(*n.UnreadCount)
			}
			n.UnreadCount = nil
			out[ch] = append(out[ch], fmt.Sprintf("%+v unread=%s", n, u))
		}
	}
	return out
}

func show(m map[string][]wire.Notification) string { return fmt.Sprint(strip(m)) }
