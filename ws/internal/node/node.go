// Package node runs a ws node's cluster duties: a heartbeat in Redis, the
// reaper that removes sessions of nodes that stopped heart-beating, the
// control channels through which the api and other nodes reach this node's
// sockets, the membership audit that revokes what a lost revoke command
// left open, and the check that closes sessions whose lost disconnect
// command the registry recorded.
package node

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Registry is what the node needs of the session registry.
type Registry interface {
	Beat(ctx context.Context, node string, now time.Time) error
	Reap(ctx context.Context, now time.Time, ttl time.Duration) (int, error)
	Forget(ctx context.Context, node, reason string) (int, error)
	CountNode(ctx context.Context, node string) (int, error)
	NodeSessionIDs(ctx context.Context, node string) ([]string, error)
	Register(ctx context.Context, s registry.Session) (bool, error)
	Remove(ctx context.Context, id, reason string) (registry.Session, bool, error)
	Ended(ctx context.Context, node string) (map[string]string, error)
	DropEnded(ctx context.Context, node string, ids ...string) error
}

// Sockets is what control commands act on.
type Sockets interface {
	Kick(ids []string, reason string) int
	Revoke(roomID, userID int64, reason string) int
	// Local returns the registry entries of this node's live sessions,
	// and apart the ids of those whose CONNECT is still registering them
	// (checking their membership and the session cap as it does): they may
	// be in the registry or not yet, and may still be refused, so
	// reconciliation neither writes nor removes them.
	Local() (live []registry.Session, connecting []string)
	// Watched returns the (room, user) pairs live sessions watch.
	Watched() []room.Member
}

// Members checks memberships (room.Store).
type Members interface {
	AreMembers(ctx context.Context, ms []room.Member) ([]bool, error)
}

var _ Members = (*room.Store)(nil)

// Broker subscribes the control channels.
type Broker interface {
	Subscribe(ctx context.Context, channel string, s fanout.Subscriber) error
	Unsubscribe(channel string, s fanout.Subscriber)
}

// Config configures a Node. Zero fields take the defaults in brackets.
type Config struct {
	ID string // required
	// BeatEvery is the heartbeat period [5s]; TTL is how long a silent
	// node keeps its sessions before others reap them [30s]; ReapEvery is
	// how often this node looks for dead nodes [10s].
	BeatEvery time.Duration
	TTL       time.Duration
	ReapEvery time.Duration
	Logger    *slog.Logger
	// Members checks the memberships live sessions rely on; nil turns the
	// membership audit off. With it, whenever Redis confirms the broadcast
	// control channel again after the subscription was lost (a revoke
	// published meanwhile never arrived), the node checks in one round
	// trip that the user of every live session still belongs to each room
	// the session watches, and revokes the rest; and it runs the same
	// check every Audit [30s; negative for never] as a backstop.
	Members Members
	Audit   time.Duration
}

// Node runs the duties. Run owns its goroutines.
type Node struct {
	cfg     Config
	reg     Registry
	sockets Sockets
	hub     Broker
	keys    keys.Space
	ready   chan struct{}
	once    sync.Once
	recheck chan struct{} // the control channel was confirmed again
	rekick  chan struct{} // the node's control channel was confirmed again
	revoked atomic.Uint64
	kicked  atomic.Uint64
	// delivered holds the sessions a disconnect command reached, so the
	// ended check leaves them (and its counter) alone.
	delivered sync.Map // session id -> struct{}
	// beats, dirty and auditDue belong to the Run goroutine.
	beats    int
	dirty    bool
	auditDue bool // the last audit failed; retried on the next beat
}

// New returns a Node.
func New(cfg Config, ks keys.Space, reg Registry, sockets Sockets, hub Broker) *Node {
	if cfg.BeatEvery <= 0 {
		cfg.BeatEvery = 5 * time.Second
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * time.Second
	}
	if cfg.ReapEvery <= 0 {
		cfg.ReapEvery = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Audit == 0 {
		cfg.Audit = 30 * time.Second
	}
	return &Node{cfg: cfg, reg: reg, sockets: sockets, hub: hub, keys: ks, ready: make(chan struct{}),
		recheck: make(chan struct{}, 1), rekick: make(chan struct{}, 1)}
}

// Ready is closed once the control channels are subscribed.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Run heart-beats, reaps and listens for control commands until ctx ends.
func (n *Node) Run(ctx context.Context) {
	ctl := controlSub{n: n}
	for _, ch := range []string{n.keys.NodeControl(n.cfg.ID), n.keys.Control()} {
		for ctx.Err() == nil {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := n.hub.Subscribe(sctx, ch, ctl)
			cancel()
			if err == nil {
				break
			}
			n.cfg.Logger.Warn("subscribe control channel; retrying", "channel", ch, "err", err)
			sleep(ctx, time.Second)
		}
		defer n.hub.Unsubscribe(ch, ctl)
	}
	n.once.Do(func() { close(n.ready) })
	n.beat(ctx)
	beat := time.NewTicker(n.cfg.BeatEvery)
	defer beat.Stop()
	reap := time.NewTicker(n.cfg.ReapEvery)
	defer reap.Stop()
	var audit <-chan time.Time
	if n.cfg.Members != nil && n.cfg.Audit > 0 {
		t := time.NewTicker(n.cfg.Audit)
		defer t.Stop()
		audit = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.recheck:
			n.audit(ctx, "control channel resubscribed")
		case <-n.rekick:
			kctx, cancel := context.WithTimeout(ctx, n.cfg.BeatEvery)
			if _, err := n.closeEnded(kctx); err != nil {
				n.cfg.Logger.Warn("close sessions ended elsewhere; retrying on the next beat", "err", err)
			}
			cancel()
		case <-audit:
			n.audit(ctx, "periodic audit")
		case <-beat.C:
			n.beat(ctx)
			if n.auditDue {
				n.audit(ctx, "retry")
			}
		case <-reap.C:
			rctx, cancel := context.WithTimeout(ctx, n.cfg.ReapEvery)
			removed, err := n.reg.Reap(rctx, time.Now(), n.cfg.TTL)
			cancel()
			if err != nil {
				n.cfg.Logger.Warn("reap dead nodes", "err", err)
			} else if removed > 0 {
				n.cfg.Logger.Info("reaped sessions of dead nodes", "sessions", removed)
			}
		}
	}
}

func (n *Node) beat(ctx context.Context) {
	bctx, cancel := context.WithTimeout(ctx, n.cfg.BeatEvery)
	defer cancel()
	if err := n.reg.Beat(bctx, n.cfg.ID, time.Now()); err != nil {
		n.cfg.Logger.Warn("node heartbeat", "err", err)
		n.dirty = true
		return
	}
	full := n.dirty || n.beats%fullReconcileEvery == 0
	n.beats++
	if err := n.reconcile(bctx, full); err != nil {
		n.cfg.Logger.Warn("reconcile registry", "err", err)
		n.dirty = true
		return
	}
	n.dirty = false
}

// fullReconcileEvery is how many beats pass between full comparisons of the
// registry with the live sessions (other beats compare counts only).
const fullReconcileEvery = 6

// reconcile makes the registry hold exactly this node's live sessions. It
// repairs what a Redis outage broke: entries lost when Redis came back
// empty are written again, entries of sessions that ended while Redis was
// unreachable are removed (announcing LEAVE). Sessions that others ended
// (registry.Kick) are closed, never written again. Unless full, it only
// compares counts (one SCARD) and reads the ended hash (one HGETALL).
func (n *Node) reconcile(ctx context.Context, full bool) error {
	if !full {
		count, err := n.reg.CountNode(ctx, n.cfg.ID)
		if err != nil {
			return err
		}
		live, connecting := n.sockets.Local()
		full = count != len(live)+len(connecting)
	}
	// Registry first, then the ended hash, then the live sessions: a
	// session registers only after it is live, so one registered meanwhile
	// is never taken for a ghost; and a kick records the session in the
	// ended hash before taking it from the node's set, so one missing from
	// the set because it was kicked is in the hash.
	var ids []string
	if full {
		var err error
		if ids, err = n.reg.NodeSessionIDs(ctx, n.cfg.ID); err != nil {
			return err
		}
	}
	ended, err := n.closeEnded(ctx)
	if err != nil || !full {
		return err
	}
	local, connecting := n.sockets.Local()
	registered := make(map[string]bool, len(ids))
	for _, id := range ids {
		registered[id] = true
	}
	for _, id := range connecting { // their registration writes or refuses them
		delete(registered, id)
	}
	added, removed := 0, 0
	for _, s := range local {
		if _, gone := ended[s.ID]; !registered[s.ID] && !gone {
			if _, err := n.reg.Register(ctx, s); err != nil {
				return err
			}
			added++
		}
		delete(registered, s.ID)
	}
	for id := range registered {
		if _, _, err := n.reg.Remove(ctx, id, "closed"); err != nil {
			return err
		}
		removed++
	}
	if added+removed > 0 {
		n.cfg.Logger.Info("registry reconciled", "registered", added, "removed", removed)
	}
	return nil
}

// Leave removes this node and every session it still has from the
// registry, for a clean shutdown.
func (n *Node) Leave(ctx context.Context) {
	if removed, err := n.reg.Forget(ctx, n.cfg.ID, "shutdown"); err != nil {
		n.cfg.Logger.Warn("leave registry", "err", err)
	} else if removed > 0 {
		n.cfg.Logger.Info("removed remaining sessions", "sessions", removed)
	}
}

type controlSub struct{ n *Node }

// Resubscribed runs when the hub confirms a control channel again after
// losing it. A revoke published meanwhile was missed, so the node audits
// memberships; a disconnect was missed, so it closes the sessions its ended
// hash lists (both on its Run goroutine).
func (s controlSub) Resubscribed(channel string) {
	var work chan struct{}
	switch channel {
	case s.n.keys.Control():
		work = s.n.recheck
	case s.n.keys.NodeControl(s.n.cfg.ID):
		work = s.n.rekick
	default:
		return
	}
	select {
	case work <- struct{}{}:
	default:
	}
}

// Deliver runs a control command; called from the hub goroutine, so it only
// enqueues work on connections.
func (s controlSub) Deliver(m *fanout.Msg) {
	var c wire.Control
	if err := json.Unmarshal(m.Payload, &c); err != nil {
		s.n.cfg.Logger.Warn("bad control message", "channel", m.Channel, "err", err)
		return
	}
	switch c.Op {
	case wire.OpDisconnect:
		for _, id := range c.SessionIDs {
			s.n.delivered.Store(id, struct{}{})
		}
		k := s.n.sockets.Kick(c.SessionIDs, or(c.Reason, "disconnected"))
		s.n.cfg.Logger.Debug("control disconnect", "requested", len(c.SessionIDs), "found", k)
	case wire.OpRevoke:
		k := s.n.sockets.Revoke(c.RoomID, c.UserID, or(c.Reason, "membership revoked"))
		s.n.cfg.Logger.Debug("control revoke", "room", c.RoomID, "user", c.UserID, "sessions", k)
	default:
		s.n.cfg.Logger.Warn("unknown control op", "op", c.Op)
	}
}

func or(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
