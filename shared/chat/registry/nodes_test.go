package registry_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// leaves returns the LEAVE events as user id -> reason.
func leaves(t testing.TB, evs []wire.Event) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for _, ev := range evs {
		if ev.Type != wire.EventLeave {
			t.Errorf("unexpected event %+v", ev)
			continue
		}
		if _, dup := out[ev.UserID]; dup {
			t.Errorf("second LEAVE for user %d", ev.UserID)
		}
		out[ev.UserID] = ev.Reason
	}
	return out
}

func TestBeat(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	now := time.UnixMilli(1_800_000_000_123)
	if err := f.reg.Beat(ctx, "n1", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := f.reg.Beat(ctx, "n1", now); err != nil {
		t.Fatal(err)
	}
	got := f.rdb.ZRangeWithScores(ctx, f.keys.Nodes(), 0, -1).Val()
	if len(got) != 1 || got[0].Member != "n1" || got[0].Score != float64(now.UnixMilli()) {
		t.Errorf("nodes = %v, want n1 scored %d", got, now.UnixMilli())
	}
}

func TestReap(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ps5 := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(5))
	ps6 := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(6))
	now := time.Now()
	const ttl = 10 * time.Second
	for node, age := range map[string]time.Duration{"dead": 3 * ttl, "stale": ttl + time.Millisecond, "live": ttl - time.Second} {
		if err := f.reg.Beat(ctx, node, now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	f.register(t, "d1", 1, 5, "dead")
	f.register(t, "d2", 2, 5, "dead")
	f.register(t, "d3", 1, 0, "dead")
	f.register(t, "x1", 4, 6, "stale")
	f.register(t, "l1", 3, 5, "live")
	f.register(t, "l2", 1, 6, "live")
	f.roomEvents(t, ps5, 5)
	f.roomEvents(t, ps6, 6)

	n, err := f.reg.Reap(ctx, now, ttl)
	if err != nil || n != 4 {
		t.Fatalf("Reap = %d, %v; want 4 sessions", n, err)
	}
	if got := leaves(t, f.roomEvents(t, ps5, 5)); len(got) != 2 || got[1] != "node-lost" || got[2] != "node-lost" {
		t.Errorf("room 5 LEAVEs = %v, want users 1 and 2 with node-lost", got)
	}
	if got := leaves(t, f.roomEvents(t, ps6, 6)); len(got) != 1 || got[4] != "node-lost" {
		t.Errorf("room 6 LEAVEs = %v, want user 4 with node-lost", got)
	}
	for id, want := range map[string]bool{"d1": false, "d2": false, "d3": false, "x1": false, "l1": true, "l2": true} {
		if _, ok, err := f.reg.Get(ctx, id); err != nil || ok != want {
			t.Errorf("after Reap, session %s registered = %v (%v), want %v", id, ok, err, want)
		}
	}
	if got := f.rdb.ZRange(ctx, f.keys.Nodes(), 0, -1).Val(); !slices.Equal(got, []string{"live"}) {
		t.Errorf("nodes = %v, want [live]", got)
	}
	if n := f.rdb.Exists(ctx, f.keys.NodeSessions("dead"), f.keys.NodeSessions("stale")).Val(); n != 0 {
		t.Errorf("%d session sets of reaped nodes remain", n)
	}
	if got, _ := f.reg.UserSessions(ctx, 1); len(got) != 1 || got["l2"] != 6 {
		t.Errorf("UserSessions(1) = %v, want only l2", got)
	}
	if n, err := f.reg.Reap(ctx, now, ttl); n != 0 || err != nil {
		t.Errorf("second Reap = %d, %v", n, err)
	}
}

func TestForget(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(5))
	now := time.Now()
	for _, node := range []string{"n1", "n2"} {
		if err := f.reg.Beat(ctx, node, now); err != nil {
			t.Fatal(err)
		}
	}
	f.register(t, "a", 1, 5, "n1")
	f.register(t, "b", 1, 5, "n1")
	f.register(t, "c", 2, 0, "n1")
	f.register(t, "d", 2, 5, "n2")
	f.roomEvents(t, ps, 5)

	n, err := f.reg.Forget(ctx, "n1", "shutdown")
	if err != nil || n != 3 {
		t.Fatalf("Forget = %d, %v; want 3", n, err)
	}
	if got := leaves(t, f.roomEvents(t, ps, 5)); len(got) != 1 || got[1] != "shutdown" {
		t.Errorf("LEAVEs = %v, want only user 1 with shutdown", got)
	}
	if got := f.rdb.ZRange(ctx, f.keys.Nodes(), 0, -1).Val(); !slices.Equal(got, []string{"n2"}) {
		t.Errorf("nodes = %v, want [n2]", got)
	}
	want := sorted([]string{f.keys.Nodes(), f.keys.NodeSessions("n2"), f.keys.Session("d"),
		f.keys.UserSessions(2), f.keys.RoomSessions(5), f.keys.RoomPresence(5)})
	if got := f.keysUnder(t); !slices.Equal(got, want) {
		t.Errorf("keys after Forget = %v\nwant %v", got, want)
	}
	if n, err := f.reg.Forget(ctx, "unknown", "shutdown"); n != 0 || err != nil {
		t.Errorf("Forget(unknown) = %d, %v", n, err)
	}
}

func TestNodeSessionIDsAndCount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, "a", 1, 5, "n1")
	f.register(t, "b", 2, 0, "n1")
	f.register(t, "c", 3, 5, "n2")
	f.register(t, "a", 1, 5, "n1") // idempotent
	tests := []struct {
		node string
		want []string
	}{
		{"n1", []string{"a", "b"}},
		{"n2", []string{"c"}},
		{"n3", []string{}},
	}
	for _, tt := range tests {
		ids, err := f.reg.NodeSessionIDs(ctx, tt.node)
		if err != nil || !slices.Equal(sorted(ids), tt.want) {
			t.Errorf("NodeSessionIDs(%s) = %v, %v; want %v", tt.node, ids, err, tt.want)
		}
		if n, err := f.reg.CountNode(ctx, tt.node); err != nil || n != len(tt.want) {
			t.Errorf("CountNode(%s) = %d, %v; want %d", tt.node, n, err, len(tt.want))
		}
	}
	if got, _ := f.reg.RoomPresence(ctx, 5); got[1] != 1 {
		t.Errorf("registering a live session again changed presence: %v", got)
	}
}
