package gateway_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/node"
)

// TestDisconnectWithLostCommandStillClosesSocket: the disconnect API takes
// a session from the registry but its control command never reaches the
// node (not published here). The node's next heartbeat finds the session
// in its ended hash and closes it with the API's reason, and its registry
// reconcile does not register the live session again meanwhile.
func TestDisconnectWithLostCommandStillClosesSocket(t *testing.T) {
	e, _ := newAuditedEnv(t, node.Config{BeatEvery: 50 * time.Millisecond, Audit: -1})
	ctx := context.Background()
	room := e.directRoom(8, 3)
	c, connected := e.connect(8, "chatRoomId", strconv.FormatInt(room, 10))
	sid := connected.Value("session")
	if _, removed, err := e.reg.Kick(ctx, sid, "api", "disconnected via API"); err != nil || !removed {
		t.Fatalf("Kick = %v, %v", removed, err)
	}
	if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), "disconnected via API") {
		t.Errorf("message = %q", f.Value("message"))
	}
	c.expectClosed()
	redistest.Eventually(t, "session forgotten locally and its ended entry dropped", func() bool {
		return e.gw.Sessions() == 0 && e.rdb.Exists(ctx, e.keys.NodeEnded("node-"+e.keys.Prefix())).Val() == 0
	})
	ids, err := e.reg.NodeSessionIDs(ctx, "node-"+e.keys.Prefix())
	if err != nil || slices.Contains(ids, sid) || e.rdb.Exists(ctx, e.keys.Session(sid)).Val() != 0 {
		t.Errorf("session %s registered again (node sessions %v, %v)", sid, ids, err)
	}
}

// TestDisconnectLostDuringPubSubOutageClosesOnResubscribe: chatctl kick
// runs while the node's pub/sub connection is down and Redis refuses to
// subscribe it again, so the disconnect command is lost. When the node's
// control channel is confirmed again, the node closes the socket with the
// operator's reason at once; its heartbeat (an hour here) plays no part.
func TestDisconnectLostDuringPubSubOutageClosesOnResubscribe(t *testing.T) {
	e, hub := newAuditedEnv(t, node.Config{BeatEvery: time.Hour, TTL: 2 * time.Hour, Audit: -1})
	ctx := context.Background()
	c, connected := e.connect(8)
	sid := connected.Value("session")

	allow := refuseSubscribes(t, hub)
	// What chatctl kick does.
	s, removed, err := e.reg.Kick(ctx, sid, "kick", "maintenance")
	if err != nil || !removed {
		t.Fatalf("Kick = %v, %v", removed, err)
	}
	cmd := wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{sid}, Reason: "maintenance"}
	if err := events.NewPublisher(srv.Client(t), e.keys).Node(ctx, s.Node, cmd); err != nil {
		t.Fatal(err)
	}
	allow()

	if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), "maintenance") {
		t.Errorf("message = %q", f.Value("message"))
	}
	c.expectClosed()
}
