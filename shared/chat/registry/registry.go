// Package registry keeps the cluster-wide session registry in Redis.
//
// Each live STOMP session is a hash (keys.Session) written at CONNECT by the
// ws node that holds it, plus entries in three views: the node's session set
// (for cleanup when a node dies), the user's session hash and, when the
// session is in a room, the room's session hash and presence counter.
//
// RegisterCapped admits a new session: claim.lua checks the user's count
// (and, on a single Redis, the room's membership) and enters the session in
// the user's hash in one step.
//
// Removal is exactly once: Remove atomically takes the session hash (take.lua);
// only the caller that took it cleans the views and announces LEAVE.
package registry

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

//go:embed take.lua
var takeLua string

//go:embed presence.lua
var presenceLua string

//go:embed claim.lua
var claimLua string

var (
	takeScript     = redis.NewScript(takeLua)
	claimScript    = redis.NewScript(claimLua)
	presenceScript = events.NewScript(presenceLua)
)

// Session is one registry entry.
type Session struct {
	ID          string `json:"sessionId"`
	UserID      int64  `json:"userId"`
	RoomID      int64  `json:"roomId,omitempty"`
	Node        string `json:"node"`
	ConnectedAt string `json:"connectedAt"`
	RemoteAddr  string `json:"remoteAddr"`
}

// Registry reads and writes sessions. It is safe for concurrent use.
type Registry struct {
	rdb  redis.UniversalClient
	keys keys.Space
}

// New returns a Registry. ENTER and LEAVE are published by presence.lua on
// the room's events channel, atomically with the presence count.
func New(rdb redis.UniversalClient, ks keys.Space) *Registry {
	return &Registry{rdb: rdb, keys: ks}
}

// Register writes s and its views. Every step is idempotent, so a retry
// (by go-redis after a lost reply, or by the node's reconciliation) changes
// nothing. When s is in a room and is the user's first session there, ENTER
// is announced (atomically with the presence count) and entered reports it.
// If the session is removed while its views are being written, Register
// undoes them, so no view outlives its session. Register has no cap: it is
// for sessions that are already live (reconciliation after a Redis loss).
//
// The session hash, the views and presence.lua go out in one pipeline; the
// check that the session still exists follows them in the same pipeline on
// a single Redis (one connection runs them in order: one round trip), and in
// a second round trip on a cluster, where a pipeline's nodes run in parallel
// and the check must wait for every view to be written.
func (r *Registry) Register(ctx context.Context, s Session) (entered bool, err error) {
	return r.register(ctx, s, Terms{}, nil)
}

// RegisterCapped is Register for a new session admitted on t: its room's
// membership (of its user, and of its receiver) and a cap on its user's
// live sessions on all nodes. The cap's check and the session's entry in
// the user's session hash are one atomic step (claim.lua), so racing
// registrations never overshoot. A refused session leaves nothing behind
// and err wraps ErrNotMember, ErrReceiverNotMember or ErrTooManySessions.
// A session already in the user's hash (a retry) is never refused.
//
// On a single Redis, capped, it costs what Register does (one round trip):
// claim.lua follows the session hash in the pipeline and checks the
// membership too, and presence.lua, after it, moves the room count only if
// the claim passed; a refusal costs a second round trip, removing the
// session hash and node-set entry written before the claim. On a cluster
// the user's and the room's keys are on different slots, so presence.lua
// waits for the claim's answer: one round trip more than Register there;
// and the membership, when t asks for it, is read before anything is
// written (with the user's session count, for an early refusal at the
// cap): one more. Uncapped, the membership is read first as well.
//
// Riders of a session in a room ride with presence.lua, in the same round
// trip (the second one on a cluster, once the claim passed), and are told
// to do nothing unless presence.lua entered the session: a refused session
// leaves no rider's write behind, and no rider's announcement precedes
// ENTER. Riders of a session in no room are not queued.
func (r *Registry) RegisterCapped(ctx context.Context, s Session, t Terms, riders ...Rider) (entered bool, err error) {
	return r.register(ctx, s, t, riders)
}

// Rider is a write of the session's room that rides in the session's
// registration (RegisterCapped) instead of costing a round trip of its
// own; readstate.Entry, the room marked read at CONNECT, is one.
type Rider interface {
	// Queue queues the rider's commands on p, a pipeline on the
	// registry's Redis, right after presence.lua. They must change nothing
	// unless the hash sessions (the room's session hash, on the room's
	// slot) holds the field session, which presence.lua writes when it
	// enters an admitted session. The registry calls Queue at most once
	// and reads no reply: the rider reads its own after RegisterCapped
	// returned, and does then what did not run (its script not loaded, or
	// presence.lua not run before it).
	Queue(ctx context.Context, p redis.Pipeliner, sessions, session string)
}

func (r *Registry) register(ctx context.Context, s Session, t Terms, riders []Rider) (entered bool, err error) {
	_, ordered := r.rdb.(*redis.Client)
	capped := t.Max > 0
	members := t.members(s)
	var checked []int64 // by claim.lua, which runs before presence.lua on one connection
	if ordered && capped {
		checked = members
	} else if len(members) > 0 {
		if err := r.admit(ctx, s, t, members); err != nil {
			return false, err
		}
	}
	c := r.claim(s, t.Max, checked)
	var claim, presence *redis.Cmd
	var still *redis.IntCmd
	ride := s.RoomID > 0 && len(riders) > 0
	var riding [2]int // the riders' commands in cmds
	cmds, _ := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.keys.Session(s.ID), "sessionId", s.ID, "userId", s.UserID, "roomId", s.RoomID,
			"node", s.Node, "connectedAt", s.ConnectedAt, "remoteAddr", s.RemoteAddr)
		p.SAdd(ctx, r.keys.NodeSessions(s.Node), s.ID)
		if capped {
			claim = claimScript.EvalSha(ctx, p, c.keys, c.args...)
		} else {
			p.HSet(ctx, r.keys.UserSessions(s.UserID), s.ID, s.RoomID)
		}
		if s.RoomID > 0 && (ordered || !capped) {
			keys := r.presenceKeys(s.RoomID)
			if capped { // enter only if the claim above passed
				keys = append(keys, r.keys.UserSessions(s.UserID))
			}
			presence = presenceScript.EvalSha(ctx, p, r.rdb, keys, r.presenceArgs(s, true, "")...)
			riding[0] = p.Len()
			if ride {
				r.queueRiders(ctx, p, riders, s)
				ride = false
			}
			riding[1] = p.Len()
		}
		if ordered {
			still = p.Exists(ctx, r.keys.Session(s.ID))
		}
		return nil
	})
	for i, c := range cmds {
		if c != presence && c != claim && (i < riding[0] || i >= riding[1]) && c.Err() != nil {
			return false, fmt.Errorf("register session %s: %w", s.ID, c.Err())
		}
	}
	if capped {
		n, rerun, err := r.claimed(ctx, claim, c, s)
		if err != nil {
			return false, err
		}
		if n != 1 {
			return false, r.discard(ctx, s, c.refusal(s, n))
		}
		if rerun { // the claim was written after the pipeline's check
			still = nil
		}
	}
	if s.RoomID > 0 {
		var n int64 = -1 // not sent: a capped session on a cluster
		if presence != nil {
			n, err = presence.Int64()
		}
		switch {
		case n == -1 && err == nil, redis.HasErrorPrefix(err, "NOSCRIPT"):
			// Not sent, sent before the claim was written (-1) or not
			// loaded yet (EVAL loads it): the check must follow it.
			if ride {
				entered, err = r.enter(ctx, s, riders)
			} else {
				entered, err = r.presence(ctx, s, true, "")
			}
			if err != nil {
				return false, err
			}
			still = nil
		case err != nil:
			return false, fmt.Errorf("move presence of user %d in room %d: %w", s.UserID, s.RoomID, err)
		default:
			entered = n == 1
		}
	}
	if still == nil {
		still = r.rdb.Exists(ctx, r.keys.Session(s.ID))
		if err := still.Err(); err != nil {
			return entered, fmt.Errorf("confirm session %s: %w", s.ID, err)
		}
	}
	if still.Val() == 0 { // removed meanwhile: its remover found no views to clean
		_, err = r.views(ctx, s, false, "closed")
		return false, err
	}
	return entered, nil
}

// queueRiders queues the riders of s, to follow its presence.lua on p.
func (r *Registry) queueRiders(ctx context.Context, p redis.Pipeliner, riders []Rider, s Session) {
	for _, rd := range riders {
		rd.Queue(ctx, p, r.keys.RoomSessions(s.RoomID), s.ID)
	}
}

// enter runs presence.lua for s, which entered its room, with riders in
// the same pipeline: on a cluster all on the room's slot, one round trip.
func (r *Registry) enter(ctx context.Context, s Session, riders []Rider) (entered bool, err error) {
	var presence *redis.Cmd
	_, _ = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		presence = presenceScript.EvalSha(ctx, p, r.rdb, r.presenceKeys(s.RoomID), r.presenceArgs(s, true, "")...)
		r.queueRiders(ctx, p, riders, s)
		return nil
	})
	n, err := presence.Int64()
	if redis.HasErrorPrefix(err, "NOSCRIPT") { // not loaded yet (EVAL loads it)
		return r.presence(ctx, s, true, "")
	}
	if err != nil {
		return false, fmt.Errorf("move presence of user %d in room %d: %w", s.UserID, s.RoomID, err)
	}
	return n == 1, nil
}

// Remove ends session id: it takes the session hash and cleans its views.
// Only the first caller for a session gets removed == true; LEAVE (with
// reason) is announced when this was the user's last session in the room.
func (r *Registry) Remove(ctx context.Context, id, reason string) (s Session, removed bool, err error) {
	vals, err := takeScript.Run(ctx, r.rdb, []string{r.keys.Session(id)}).StringSlice()
	if err != nil {
		return Session{}, false, fmt.Errorf("take session %s: %w", id, err)
	}
	if len(vals) == 0 {
		return Session{}, false, nil
	}
	s = fromPairs(vals)
	_, err = r.views(ctx, s, false, reason)
	return s, true, err
}

// End is Remove for the owner of s, who knows the entry: it also cleans the
// views when another path (or a retried take whose reply was lost) took the
// hash first. The views' cleanup is idempotent, so LEAVE still fires once.
func (r *Registry) End(ctx context.Context, s Session, reason string) (removed bool, err error) {
	vals, err := takeScript.Run(ctx, r.rdb, []string{r.keys.Session(s.ID)}).StringSlice()
	if err != nil {
		return false, fmt.Errorf("take session %s: %w", s.ID, err)
	}
	_, err = r.views(ctx, s, false, reason)
	return len(vals) > 0, err
}

// views adds or removes s in the node, user and room views and moves the
// room presence count, announcing ENTER or LEAVE on a transition.
func (r *Registry) views(ctx context.Context, s Session, add bool, reason string) (transition bool, err error) {
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if add {
			r.addViews(ctx, p, s)
		} else {
			r.dropViews(ctx, p, s)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("update views of session %s: %w", s.ID, err)
	}
	return r.presence(ctx, s, add, reason)
}

func (r *Registry) addViews(ctx context.Context, p redis.Pipeliner, s Session) {
	p.SAdd(ctx, r.keys.NodeSessions(s.Node), s.ID)
	p.HSet(ctx, r.keys.UserSessions(s.UserID), s.ID, s.RoomID)
}

func (r *Registry) dropViews(ctx context.Context, p redis.Pipeliner, s Session) {
	p.SRem(ctx, r.keys.NodeSessions(s.Node), s.ID)
	p.HDel(ctx, r.keys.UserSessions(s.UserID), s.ID)
	// When this was the user's last session, this is "last seen".
	p.Set(ctx, r.keys.UserLastSeen(s.UserID), time.Now().UnixMilli(), 0)
}

// presence runs presence.lua for s (nothing when s is in no room).
func (r *Registry) presence(ctx context.Context, s Session, add bool, reason string) (transition bool, err error) {
	if s.RoomID <= 0 {
		return false, nil
	}
	n, err := presenceScript.Run(ctx, r.rdb, r.presenceKeys(s.RoomID), r.presenceArgs(s, add, reason)...).Int()
	if err != nil {
		return false, fmt.Errorf("move presence of user %d in room %d: %w", s.UserID, s.RoomID, err)
	}
	return n == 1, nil
}

func (r *Registry) presenceKeys(roomID int64) []string {
	return []string{r.keys.RoomSessions(roomID), r.keys.RoomPresence(roomID), r.keys.RoomEvents(roomID)}
}

func (r *Registry) presenceArgs(s Session, add bool, reason string) []any {
	ev, op := wire.Event{Type: wire.EventEnter, ChatRoomID: s.RoomID, UserID: s.UserID}, "add"
	if !add {
		ev, op = wire.Event{Type: wire.EventLeave, ChatRoomID: s.RoomID, UserID: s.UserID, Reason: reason}, "remove"
	}
	ev.At = wire.FormatTime(time.Now())
	return []any{s.ID, s.UserID, op, wire.Marshal(ev)}
}

// Get returns one session, or ok == false when it is not registered.
func (r *Registry) Get(ctx context.Context, id string) (s Session, ok bool, err error) {
	m, err := r.rdb.HGetAll(ctx, r.keys.Session(id)).Result()
	if err != nil {
		return Session{}, false, fmt.Errorf("load session %s: %w", id, err)
	}
	if len(m) == 0 {
		return Session{}, false, nil
	}
	pairs := make([]string, 0, 2*len(m))
	for k, v := range m {
		pairs = append(pairs, k, v)
	}
	return fromPairs(pairs), true, nil
}

// UserSessions returns the user's live sessions as session id -> room id.
func (r *Registry) UserSessions(ctx context.Context, userID int64) (map[string]int64, error) {
	m, err := r.rdb.HGetAll(ctx, r.keys.UserSessions(userID)).Result()
	if err != nil {
		return nil, fmt.Errorf("load sessions of user %d: %w", userID, err)
	}
	out := make(map[string]int64, len(m))
	for sid, room := range m {
		out[sid], _ = strconv.ParseInt(room, 10, 64)
	}
	return out, nil
}

// RoomPresence returns user id -> number of sessions in the room.
func (r *Registry) RoomPresence(ctx context.Context, roomID int64) (map[int64]int, error) {
	m, err := r.rdb.HGetAll(ctx, r.keys.RoomPresence(roomID)).Result()
	if err != nil {
		return nil, fmt.Errorf("load presence of room %d: %w", roomID, err)
	}
	out := make(map[int64]int, len(m))
	for uid, n := range m {
		id, err1 := strconv.ParseInt(uid, 10, 64)
		c, err2 := strconv.Atoi(n)
		if err1 == nil && err2 == nil && c > 0 {
			out[id] = c
		}
	}
	return out, nil
}

// SessionCounts returns, for each user, how many live sessions they have.
func (r *Registry) SessionCounts(ctx context.Context, userIDs []int64) (map[int64]int, error) {
	cmds := make([]*redis.IntCmd, len(userIDs))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range userIDs {
			cmds[i] = p.HLen(ctx, r.keys.UserSessions(u))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count sessions: %w", err)
	}
	out := make(map[int64]int, len(userIDs))
	for i, u := range userIDs {
		out[u] = int(cmds[i].Val())
	}
	return out, nil
}

// Beat records that node is alive now.
func (r *Registry) Beat(ctx context.Context, node string, now time.Time) error {
	if err := r.rdb.ZAdd(ctx, r.keys.Nodes(), redis.Z{Score: float64(now.UnixMilli()), Member: node}).Err(); err != nil {
		return fmt.Errorf("heartbeat of node %s: %w", node, err)
	}
	return nil
}

// Reap removes every session of nodes whose last heartbeat is older than
// ttl (announcing LEAVE with reason "node-lost") and forgets those nodes.
// It returns the number of sessions removed. Any node may call it; races
// between reapers are harmless.
func (r *Registry) Reap(ctx context.Context, now time.Time, ttl time.Duration) (int, error) {
	dead, err := r.rdb.ZRangeByScore(ctx, r.keys.Nodes(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.Add(-ttl).UnixMilli(), 10)}).Result()
	if err != nil {
		return 0, fmt.Errorf("find dead nodes: %w", err)
	}
	n := 0
	for _, node := range dead {
		removed, err := r.Forget(ctx, node, "node-lost")
		n += removed
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Forget removes every session of node and the node itself, for a node that
// died or is shutting down. It returns the number of sessions it removed.
func (r *Registry) Forget(ctx context.Context, node, reason string) (int, error) {
	ids, err := r.rdb.SMembers(ctx, r.keys.NodeSessions(node)).Result()
	if err != nil {
		return 0, fmt.Errorf("list sessions of node %s: %w", node, err)
	}
	n := 0
	for _, id := range ids {
		_, removed, err := r.Remove(ctx, id, reason)
		if err != nil {
			return n, err
		}
		if removed {
			n++
		}
	}
	if err := r.rdb.ZRem(ctx, r.keys.Nodes(), node).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return n, fmt.Errorf("forget node %s: %w", node, err)
	}
	r.rdb.Del(ctx, r.keys.NodeSessions(node))
	return n, nil
}

func fromPairs(vals []string) Session {
	var s Session
	for i := 0; i+1 < len(vals); i += 2 {
		v := vals[i+1]
		switch vals[i] {
		case "sessionId":
			s.ID = v
		case "userId":
			s.UserID, _ = strconv.ParseInt(v, 10, 64)
		case "roomId":
			s.RoomID, _ = strconv.ParseInt(v, 10, 64)
		case "node":
			s.Node = v
		case "connectedAt":
			s.ConnectedAt = v
		case "remoteAddr":
			s.RemoteAddr = v
		}
	}
	return s
}

// NodeSessionIDs returns the ids of the sessions registered by node.
func (r *Registry) NodeSessionIDs(ctx context.Context, node string) ([]string, error) {
	ids, err := r.rdb.SMembers(ctx, r.keys.NodeSessions(node)).Result()
	if err != nil {
		return nil, fmt.Errorf("list sessions of node %s: %w", node, err)
	}
	return ids, nil
}

// CountNode returns how many sessions node has registered.
func (r *Registry) CountNode(ctx context.Context, node string) (int, error) {
	n, err := r.rdb.SCard(ctx, r.keys.NodeSessions(node)).Result()
	if err != nil {
		return 0, fmt.Errorf("count sessions of node %s: %w", node, err)
	}
	return int(n), nil
}
