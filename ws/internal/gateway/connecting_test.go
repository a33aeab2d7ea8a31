package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/node"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
	"github.com/roomwire/roomwire/ws/internal/wsnode/wsnodetest"
)

// A CONNECT is checked (membership, cap) by the registration itself, so
// the node's reconciliation must leave a session whose CONNECT is still
// registering alone: writing it would let the claim take it for a retry
// and admit it. Here the registration of a non-member's CONNECT waits
// until a full reconciliation ran; the CONNECT is still refused and
// leaves nothing behind.
func TestReconcileLeavesConnectingSessionAlone(t *testing.T) {
	ks := redistest.Space(t)
	gate := &afterReconcile{claimKey: ks.UserSessions(5), done: make(chan struct{})}
	rdb := srv.Client(t)
	rdb.AddHook(gate)
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	n := wsnodetest.Start(t, rdb, ks, verifier, wsnode.Config{
		Gateway: gateway.Config{WriteTimeout: 2 * time.Second, ConnectRate: -1},
		Duties:  node.Config{BeatEvery: 20 * time.Millisecond, Audit: -1}})
	e := &env{t: t, rdb: rdb, keys: ks, rooms: n.Rooms, msgs: n.Messages, reg: n.Registry, gw: n.Gateway,
		hub: n.Hub, url: n.WS, logs: &authtest.LogBuffer{}}
	id := e.group(1, 2)

	c := e.dial()
	c.send("CONNECT", "", "Authorization", "Bearer "+e.token(5), "accept-version", "1.2", "chatRoomId", strconv.FormatInt(id, 10))
	c.expectErrorAndClose(fmt.Sprintf("not a member of room %d", id), websocket.StatusPolicyViolation)
	if !gate.waited() {
		t.Fatal("the registration did not wait for a full reconciliation")
	}
	ctx := context.Background()
	if s, err := e.reg.UserSessions(ctx, 5); err != nil || len(s) != 0 {
		t.Errorf("user 5 has sessions %v (%v)", s, err)
	}
	if p, err := e.reg.RoomPresence(ctx, id); err != nil || len(p) != 0 {
		t.Errorf("presence in room %d: %v (%v), want none", id, p, err)
	}
}

// afterReconcile holds the first pipeline that runs claim.lua on claimKey
// until the node has run a full reconciliation (its SMEMBERS of the node's
// sessions, then the next heartbeat's ZADD, which follows the whole
// reconciliation) or 5 s passed.
type afterReconcile struct {
	claimKey string
	mu       sync.Mutex
	holding  bool // a claim is held
	listed   bool // the node listed its sessions since
	done     chan struct{}
	once     sync.Once
	ok       bool
}

func (h *afterReconcile) waited() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ok
}

func (h *afterReconcile) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *afterReconcile) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.mu.Lock()
		defer h.mu.Unlock()
		switch {
		case !h.holding:
		case cmd.Name() == "smembers" && strings.HasSuffix(fmt.Sprint(cmd.Args()[1]), ":sessions"):
			h.listed = true
		case cmd.Name() == "zadd" && h.listed:
			h.ok = true
			h.once.Do(func() { close(h.done) })
		}
		return err
	}
}

func (h *afterReconcile) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if a := c.Args(); (c.Name() == "evalsha" || c.Name() == "eval") && len(a) > 3 && a[3] == h.claimKey {
				h.mu.Lock()
				first := !h.holding
				h.holding = true
				h.mu.Unlock()
				if first {
					select {
					case <-h.done:
					case <-time.After(5 * time.Second):
					}
				}
				break
			}
		}
		return next(ctx, cmds)
	}
}
