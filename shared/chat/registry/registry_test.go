package registry_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestRegisterWritesSessionAndViews(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	inRoom := f.register(t, "s1", 7, 3, "n1")
	f.register(t, "s2", 7, 0, "n1")

	k := f.keys
	hashes := []struct {
		key  string
		want map[string]string
	}{
		{k.Session("s1"), map[string]string{"sessionId": "s1", "userId": "7", "roomId": "3", "node": "n1",
			"connectedAt": "2026-01-02T03:04:05.678Z", "remoteAddr": "10.0.0.1:5s1"}},
		{k.Session("s2"), map[string]string{"sessionId": "s2", "userId": "7", "roomId": "0", "node": "n1",
			"connectedAt": "2026-01-02T03:04:05.678Z", "remoteAddr": "10.0.0.1:5s2"}},
		{k.UserSessions(7), map[string]string{"s1": "3", "s2": "0"}},
		{k.RoomSessions(3), map[string]string{"s1": "7"}},
		{k.RoomPresence(3), map[string]string{"7": "1"}},
	}
	for _, h := range hashes {
		if got := f.rdb.HGetAll(ctx, h.key).Val(); !maps.Equal(got, h.want) {
			t.Errorf("HGETALL %s = %v, want %v", h.key, got, h.want)
		}
	}
	if got := f.rdb.SMembers(ctx, k.NodeSessions("n1")).Val(); !slices.Equal(sorted(got), []string{"s1", "s2"}) {
		t.Errorf("node sessions = %v", got)
	}
	want := sorted([]string{k.Session("s1"), k.Session("s2"), k.UserSessions(7), k.RoomSessions(3), k.RoomPresence(3), k.NodeSessions("n1")})
	if got := f.keysUnder(t); !slices.Equal(got, want) {
		t.Errorf("keys = %v\nwant   %v", got, want)
	}
	if got, ok, err := f.reg.Get(ctx, "s1"); err != nil || !ok || got != inRoom {
		t.Errorf("Get(s1) = %+v, %v, %v; want %+v", got, ok, err, inRoom)
	}
	if got, ok, err := f.reg.Get(ctx, "nope"); err != nil || ok || got != (registry.Session{}) {
		t.Errorf("Get(unknown) = %+v, %v, %v", got, ok, err)
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

func TestEnterAndLeaveOncePerUserAndRoom(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(3))
	steps := []struct {
		id          string
		user, room  int64
		wantEntered bool
	}{
		{"a", 7, 3, true},
		{"b", 7, 3, false},
		{"c", 8, 3, true},
		{"d", 7, 0, false},
		{"e", 7, 4, true},
	}
	for _, s := range steps {
		entered, err := f.reg.Register(ctx, registry.Session{ID: s.id, UserID: s.user, RoomID: s.room, Node: "n1"})
		if err != nil || entered != s.wantEntered {
			t.Errorf("Register(%s) = %v, %v; want entered %v", s.id, entered, err, s.wantEntered)
		}
	}
	want := []wire.Event{{Type: wire.EventEnter, ChatRoomID: 3, UserID: 7}, {Type: wire.EventEnter, ChatRoomID: 3, UserID: 8}}
	if got := f.roomEvents(t, ps, 3); !slices.Equal(got, want) {
		t.Fatalf("events = %+v, want %+v", got, want)
	}
	if _, removed, err := f.reg.Remove(ctx, "a", "closed"); !removed || err != nil {
		t.Fatalf("Remove(a) = %v, %v", removed, err)
	}
	if got := f.roomEvents(t, ps, 3); len(got) != 0 {
		t.Errorf("removing one of two sessions published %+v", got)
	}
	if _, removed, err := f.reg.Remove(ctx, "b", "disconnect"); !removed || err != nil {
		t.Fatalf("Remove(b) = %v, %v", removed, err)
	}
	want = []wire.Event{{Type: wire.EventLeave, ChatRoomID: 3, UserID: 7, Reason: "disconnect"}}
	if got := f.roomEvents(t, ps, 3); !slices.Equal(got, want) {
		t.Errorf("events = %+v, want %+v", got, want)
	}
	if f.rdb.HExists(ctx, f.keys.RoomPresence(3), "7").Val() {
		t.Error("presence field of user 7 survives at zero")
	}
	if got, _ := f.reg.RoomPresence(ctx, 3); !maps.Equal(got, map[int64]int{8: 1}) {
		t.Errorf("RoomPresence(3) = %v", got)
	}
}

func TestRemoveExactlyOnce(t *testing.T) {
	tests := []struct {
		name         string
		room         int64
		otherSession bool // the user keeps another session in the room
		wantLeaves   int
		wantPresence map[int64]int
	}{
		{"last session in the room", 3, false, 1, map[int64]int{}},
		{"user stays in the room", 3, true, 0, map[int64]int{7: 1}},
		{"session in no room", 0, false, 0, map[int64]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(3))
			if tt.otherSession {
				f.register(t, "other", 7, tt.room, "n2")
			}
			s := f.register(t, "s1", 7, tt.room, "n1")
			f.roomEvents(t, ps, 3) // drop ENTER

			const racers = 20
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				removed int
				winner  registry.Session
				errs    []error
			)
			for range racers {
				wg.Go(func() {
					got, ok, err := f.reg.Remove(ctx, "s1", "disconnect")
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					if ok {
						removed++
						winner = got
					}
				})
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("%d Remove calls failed, first: %v", len(errs), errs[0])
			}
			if removed != 1 || winner != s {
				t.Fatalf("%d callers removed the session (winner got %+v), want exactly 1 with %+v", removed, winner, s)
			}
			leaves := 0
			for _, ev := range f.roomEvents(t, ps, 3) {
				if ev != (wire.Event{Type: wire.EventLeave, ChatRoomID: 3, UserID: 7, Reason: "disconnect"}) {
					t.Errorf("unexpected event %+v", ev)
				}
				leaves++
			}
			if leaves != tt.wantLeaves {
				t.Errorf("%d LEAVE events, want %d", leaves, tt.wantLeaves)
			}
			if got, _ := f.reg.RoomPresence(ctx, 3); !maps.Equal(got, tt.wantPresence) {
				t.Errorf("RoomPresence = %v, want %v", got, tt.wantPresence)
			}
			if !tt.otherSession && f.rdb.Exists(ctx, f.keys.RoomPresence(3)).Val() != 0 {
				t.Errorf("presence hash left behind: %v", f.rdb.HGetAll(ctx, f.keys.RoomPresence(3)).Val())
			}
			if f.rdb.Exists(ctx, f.keys.Session("s1")).Val() != 0 || f.rdb.SIsMember(ctx, f.keys.NodeSessions("n1"), "s1").Val() ||
				f.rdb.HExists(ctx, f.keys.UserSessions(7), "s1").Val() || f.rdb.HExists(ctx, f.keys.RoomSessions(3), "s1").Val() {
				t.Error("a view still names s1")
			}
		})
	}
}

func TestRemoveUnknown(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if s, removed, err := f.reg.Remove(ctx, "ghost", "disconnect"); removed || err != nil || s != (registry.Session{}) {
		t.Errorf("Remove(unknown) = %+v, %v, %v", s, removed, err)
	}
	f.register(t, "s1", 7, 3, "n1")
	if _, removed, _ := f.reg.Remove(ctx, "s1", "x"); !removed {
		t.Error("first Remove did not remove")
	}
	if _, removed, err := f.reg.Remove(ctx, "s1", "x"); removed || err != nil {
		t.Errorf("second Remove = %v, %v", removed, err)
	}
	if got := f.keysUnder(t); len(got) != 0 {
		t.Errorf("keys left after the only session ended: %v", got)
	}
}

func TestQueries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, "s1", 1, 10, "n1")
	f.register(t, "s2", 1, 10, "n2")
	f.register(t, "s3", 1, 11, "n1")
	f.register(t, "s4", 1, 0, "n1")
	f.register(t, "s5", 2, 10, "n2")

	presence := map[int64]map[int64]int{10: {1: 2, 2: 1}, 11: {1: 1}, 12: {}}
	for roomID, want := range presence {
		if got, err := f.reg.RoomPresence(ctx, roomID); err != nil || !maps.Equal(got, want) {
			t.Errorf("RoomPresence(%d) = %v, %v; want %v", roomID, got, err, want)
		}
	}
	sessions := map[int64]map[string]int64{1: {"s1": 10, "s2": 10, "s3": 11, "s4": 0}, 2: {"s5": 10}, 3: {}}
	for user, want := range sessions {
		if got, err := f.reg.UserSessions(ctx, user); err != nil || !maps.Equal(got, want) {
			t.Errorf("UserSessions(%d) = %v, %v; want %v", user, got, err, want)
		}
	}
	if got, err := f.reg.SessionCounts(ctx, []int64{1, 2, 3}); err != nil || !maps.Equal(got, map[int64]int{1: 4, 2: 1, 3: 0}) {
		t.Errorf("SessionCounts = %v, %v", got, err)
	}
	if got, err := f.reg.SessionCounts(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("SessionCounts(nil) = %v, %v", got, err)
	}
}
