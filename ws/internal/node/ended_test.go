package node_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/node"
)

// slowSockets record each Kick's reason; a kicked session stays live (its
// socket is closing) until close is called.
type slowSockets struct {
	sockets
	reasons map[string][]string
}

func (s *slowSockets) Kick(ids []string, reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range ids {
		if slices.ContainsFunc(s.local, func(l registry.Session) bool { return l.ID == id }) {
			s.reasons[id] = append(s.reasons[id], reason)
			n++
		}
	}
	return n
}

func (s *slowSockets) close(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.local = slices.DeleteFunc(s.local, func(l registry.Session) bool { return slices.Contains(ids, l.ID) })
}

func (s *slowSockets) kicks() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.reasons)
}

// TestEndedSessionsAreClosedNotRegistered: two live sessions are kicked
// (registry.Kick); the disconnect command for "sent" arrives, the one for
// "lost" never does. The heartbeat closes "lost" with the recorded reason,
// once, and counts it; "sent" is closed once, by its command. While their
// sockets close, full reconciles run and register neither again; once they
// are gone, their entries are dropped.
func TestEndedSessionsAreClosedNotRegistered(t *testing.T) {
	rdb := srv.Client(t)
	ks := redistest.Space(t)
	reg := registry.New(rdb, ks)
	ctx := context.Background()
	lost := registry.Session{ID: "lost", UserID: 1, RoomID: 3, Node: "n"}
	sent := registry.Session{ID: "sent", UserID: 2, RoomID: 3, Node: "n"}
	stays := registry.Session{ID: "stays", UserID: 3, RoomID: 3, Node: "n"}
	for _, s := range []registry.Session{lost, sent, stays} {
		if _, err := reg.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	socks := &slowSockets{sockets: sockets{local: []registry.Session{lost, sent, stays}}, reasons: map[string][]string{}}
	hub := fanout.New(rdb, fanout.Config{})
	n := node.New(node.Config{ID: "n", BeatEvery: 20 * time.Millisecond}, ks, reg, socks, hub)
	start(t, hub, n)

	// The command for "sent" is seen first, so no heartbeat can beat it.
	cmd := wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"sent"}, Reason: "disconnected via API"}
	if err := events.NewPublisher(rdb, ks).Node(ctx, "n", cmd); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "the command for sent", func() bool { return len(socks.kicks()["sent"]) == 1 })
	if _, _, err := reg.Kick(ctx, "sent", "api", "disconnected via API"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.Kick(ctx, "lost", "kick", "maintenance"); err != nil {
		t.Fatal(err)
	}
	redistest.Eventually(t, "lost closed by a heartbeat", func() bool { return len(socks.kicks()["lost"]) > 0 })
	// Let at least one full reconcile (every sixth beat) pass while both
	// sockets are still closing.
	since := time.Now()
	redistest.Eventually(t, "more heartbeats", func() bool {
		ms, err := rdb.ZScore(ctx, ks.Nodes(), "n").Result()
		return err == nil && time.UnixMilli(int64(ms)).After(since.Add(200*time.Millisecond))
	})
	want := map[string][]string{"sent": {"disconnected via API"}, "lost": {"maintenance"}}
	if got := socks.kicks(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("kicks = %v, want %v", got, want)
	}
	if d := n.Disconnects(); d != 1 {
		t.Errorf("Disconnects = %d, want 1", d)
	}
	if ids, err := reg.NodeSessionIDs(ctx, "n"); err != nil || !slices.Equal(ids, []string{"stays"}) {
		t.Errorf("node sessions = %v, %v; want only stays", ids, err)
	}
	if e, err := reg.Ended(ctx, "n"); err != nil || len(e) != 2 {
		t.Errorf("ended = %v, %v; want both entries while the sockets close", e, err)
	}

	socks.close("lost", "sent")
	redistest.Eventually(t, "the ended entries dropped", func() bool { return rdb.Exists(ctx, ks.NodeEnded("n")).Val() == 0 })
	if ids, err := reg.NodeSessionIDs(ctx, "n"); err != nil || !slices.Equal(ids, []string{"stays"}) {
		t.Errorf("node sessions = %v, %v; want only stays", ids, err)
	}
}
