package node_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/node"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

type sockets struct {
	mu      sync.Mutex
	kicked  []string
	revoked [][2]int64
	local   []registry.Session
	// connecting: ids of sessions whose CONNECT is registering them
	connecting []string
	watched    []room.Member
}

func (s *sockets) Kick(ids []string, _ string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kicked = append(s.kicked, ids...)
	return len(ids)
}

func (s *sockets) Revoke(room, user int64, _ string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, [2]int64{room, user})
	return 1
}

func (s *sockets) Local() ([]registry.Session, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]registry.Session(nil), s.local...), append([]string(nil), s.connecting...)
}

func (s *sockets) Watched() []room.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]room.Member(nil), s.watched...)
}

func (s *sockets) snapshot() ([]string, [][2]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.kicked...), append([][2]int64(nil), s.revoked...)
}

// start runs hub and n until the test ends and returns once n is ready
// (its control channels subscribed).
func start(t *testing.T, hub *fanout.Hub, n *node.Node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = hub.Run(ctx) })
	wg.Go(func() { n.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	<-n.Ready()
}

func TestReapsDeadNodeAndServesControl(t *testing.T) {
	rdb := srv.Client(t)
	ks := redistest.Space(t)
	reg := registry.New(rdb, ks)
	ctx := context.Background()

	// A node that died 40s ago left two sessions in room 7.
	ps := rdb.Subscribe(ctx, ks.RoomEvents(7))
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.Beat(ctx, "dead", time.Now().Add(-40*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []registry.Session{{ID: "s1", UserID: 1, RoomID: 7, Node: "dead"}, {ID: "s2", UserID: 2, RoomID: 7, Node: "dead"}} {
		if _, err := reg.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	hub := fanout.New(rdb, fanout.Config{})
	socks := &sockets{}
	n := node.New(node.Config{ID: "alive", TTL: 30 * time.Second, ReapEvery: 50 * time.Millisecond, BeatEvery: 50 * time.Millisecond}, ks, reg, socks, hub)
	start(t, hub, n)

	redistest.Eventually(t, "dead node's sessions reaped", func() bool {
		return rdb.Exists(ctx, ks.Session("s1"), ks.Session("s2")).Val() == 0 &&
			rdb.ZScore(ctx, ks.Nodes(), "dead").Err() != nil
	})
	leaves := 0
	for leaves < 2 {
		select {
		case m := <-ps.Channel():
			var ev wire.Event
			if err := json.Unmarshal([]byte(m.Payload), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type == wire.EventLeave {
				if ev.Reason != "node-lost" {
					t.Errorf("reason = %q", ev.Reason)
				}
				leaves++
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("saw %d LEAVE events, want 2", leaves)
		}
	}
	if _, err := rdb.ZScore(ctx, ks.Nodes(), "alive").Result(); err != nil {
		t.Errorf("live node has no heartbeat: %v", err)
	}

	// Control: per-node disconnect and broadcast revoke.
	pub := events.NewPublisher(rdb, ks)
	_ = pub.Node(ctx, "alive", wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"x", "y"}})
	_ = pub.Node(ctx, "other", wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"not-mine"}})
	_ = pub.Broadcast(ctx, wire.Control{Op: wire.OpRevoke, RoomID: 7, UserID: 2})
	redistest.Eventually(t, "control commands", func() bool {
		k, r := socks.snapshot()
		return len(k) == 2 && len(r) == 1
	})
	k, r := socks.snapshot()
	if k[0] != "x" || k[1] != "y" || r[0] != [2]int64{7, 2} {
		t.Errorf("kicked %v, revoked %v", k, r)
	}
}

func TestReconcileRepairsRegistryAfterOutage(t *testing.T) {
	rdb := srv.Client(t)
	ks := redistest.Space(t)
	reg := registry.New(rdb, ks)
	ctx := context.Background()
	l1 := registry.Session{ID: "l1", UserID: 1, RoomID: 3, Node: "n"}
	l2 := registry.Session{ID: "l2", UserID: 2, RoomID: 3, Node: "n"}    // lost when Redis restarted empty
	ghost := registry.Session{ID: "g1", UserID: 4, RoomID: 3, Node: "n"} // ended while Redis was down
	// Two CONNECTs still registering, one already in Redis: their
	// registration writes or refuses them, reconciliation leaves them be.
	c1 := registry.Session{ID: "c1", UserID: 5, RoomID: 3, Node: "n"}
	for _, s := range []registry.Session{l1, ghost, c1} {
		if _, err := reg.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	socks := &sockets{local: []registry.Session{l1, l2}, connecting: []string{"c1", "c2"}}
	hub := fanout.New(rdb, fanout.Config{})
	n := node.New(node.Config{ID: "n", BeatEvery: 20 * time.Millisecond}, ks, reg, socks, hub)
	start(t, hub, n)
	redistest.Eventually(t, "registry reconciled", func() bool {
		ids, _ := reg.NodeSessionIDs(ctx, "n")
		return len(ids) == 3 && rdb.Exists(ctx, ks.Session("l2")).Val() == 1 && rdb.Exists(ctx, ks.Session("g1")).Val() == 0
	})
	if ids, _ := reg.NodeSessionIDs(ctx, "n"); !slices.Contains(ids, "c1") || slices.Contains(ids, "c2") {
		t.Errorf("node n lists %v; want the connecting c1 kept, c2 not written", ids)
	}
	// The ghost's presence goes in a second step (presence.lua after the
	// session's removal, on the room's slot): wait for it too.
	var pres map[int64]int
	redistest.Eventually(t, "presence reconciled", func() bool {
		p, err := reg.RoomPresence(ctx, 3)
		pres = p
		return err == nil && len(p) == 3
	})
	if pres[1] != 1 || pres[2] != 1 || pres[5] != 1 {
		t.Errorf("presence = %v, want users 1, 2 and 5 once each", pres)
	}
}
