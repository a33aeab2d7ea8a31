// Package keys names every Redis key and pub/sub channel the services use.
//
// All names start with a configurable prefix (REDIS_PREFIX, default "chat").
// Keys of one room carry the room id as a hash tag ("{42}") so that the room's
// metadata, members, history, presence and channels live on one Redis Cluster
// slot and the Lua send path can touch them in one script. Keys of one user
// carry "{u<id>}" so per-user views are one read. Session hashes carry no tag
// and spread over the cluster.
//
// docs/redis.md documents each name; keep the two in step.
package keys

import (
	"fmt"
	"strconv"
	"strings"
)

// Space builds names under one prefix. The zero value is not usable; call New.
type Space struct {
	prefix string
}

// New returns the name space for prefix. The prefix must be non-empty and
// must not contain braces (they would break the hash tags) or white space.
func New(prefix string) (Space, error) {
	if prefix == "" {
		return Space{}, fmt.Errorf("redis prefix is empty")
	}
	if strings.ContainsAny(prefix, "{} \t\r\n") {
		return Space{}, fmt.Errorf("redis prefix %q must not contain braces or white space", prefix)
	}
	return Space{prefix: prefix}, nil
}

// MustNew is New for prefixes known to be valid (tests, constants).
func MustNew(prefix string) Space {
	s, err := New(prefix)
	if err != nil {
		panic(err)
	}
	return s
}

// Prefix returns the prefix this space was built with.
func (s Space) Prefix() string { return s.prefix }

func (s Space) room(id int64, suffix string) string {
	return s.prefix + ":room:{" + strconv.FormatInt(id, 10) + "}:" + suffix
}

func (s Space) user(id int64, suffix string) string {
	return s.prefix + ":user:{u" + strconv.FormatInt(id, 10) + "}:" + suffix
}

// RoomIDs is the string counter that allocates room ids (INCR).
func (s Space) RoomIDs() string { return s.prefix + ":ids:room" }

// RoomMeta is the hash of a room: id, type, name, createdBy, createdAt,
// lastSeq (the per-room sequence), lastMessageAt (unix ms) and, with the
// archive on, archivedSeq (the highest seq PostgreSQL holds; written by
// the archiver only, only forwards; send.lua's trim guard reads it).
func (s Space) RoomMeta(id int64) string { return s.room(id, "meta") }

// RoomMembers is the set of member user ids of a room.
func (s Space) RoomMembers(id int64) string { return s.room(id, "members") }

// RoomHistory is the sorted set of a room's messages: score seq, member the
// message JSON exactly as delivered to subscribers.
func (s Space) RoomHistory(id int64) string { return s.room(id, "history") }

// RoomSendKeys is the sorted set of the idempotency keys of a room's recent
// sends (member key, score the seq it stored), so a retried send never
// stores a message twice; the last 10,000 are kept.
func (s Space) RoomSendKeys(id int64) string { return s.room(id, "sendkeys") }

// RoomSessions is the registry's per-room view: hash session id -> user id,
// for sessions that connected "into" the room (CONNECT chatRoomId).
func (s Space) RoomSessions(id int64) string { return s.room(id, "sessions") }

// RoomPresence is the hash user id -> number of that user's sessions in the
// room; a field exists only while the count is positive.
func (s Space) RoomPresence(id int64) string { return s.room(id, "presence") }

// RoomMessages is the pub/sub channel carrying a room's chat messages. Each
// payload is the message JSON, identical to the history entry.
func (s Space) RoomMessages(id int64) string { return s.room(id, "messages") }

// RoomEvents is the pub/sub channel carrying a room's non-chat events
// (ENTER, LEAVE, MEMBER_ADDED, MEMBER_REMOVED, ...), JSON with a "type".
func (s Space) RoomEvents(id int64) string { return s.room(id, "events") }

// UserRooms is the set of room ids a user is a member of.
func (s Space) UserRooms(id int64) string { return s.user(id, "rooms") }

// UserSessions is the registry's per-user view: hash session id -> room id
// ("0" when the session is in no room).
func (s Space) UserSessions(id int64) string { return s.user(id, "sessions") }

// RoomRead is the hash of a room's read positions: user id -> the highest
// seq that member has read. Positions only move forwards (readstate).
func (s Space) RoomRead(id int64) string { return s.room(id, "read") }

// RoomTyping is the string counter that rate-limits one user's TYPING
// events in a room (INCR, expiring after the rate window).
func (s Space) RoomTyping(id, user int64) string {
	return s.room(id, "typing:"+strconv.FormatInt(user, 10))
}

// RoomTypingStops is RoomTyping for "typing: false" events, which have a
// budget of their own so that stopping can never use up the next start.
func (s Space) RoomTypingStops(id, user int64) string {
	return s.room(id, "typing:"+strconv.FormatInt(user, 10)+":stop")
}

// UserNotifications is the pub/sub channel of one user's personal
// notifications (STOMP /user/queue/notifications), JSON with a "type".
func (s Space) UserNotifications(id int64) string { return s.user(id, "notifications") }

// UserLastSeen is the string holding when one of the user's sessions last
// ended (unix ms), written by the registry when it removes a session.
func (s Space) UserLastSeen(id int64) string { return s.user(id, "lastseen") }

// UserOutbox is the stream of one user's offline notification records
// (one per message that arrived while the user had no live session), for
// push workers; capped per user, so one user's flood evicts only that
// user's own older records, and expiring when untouched (notify.Config).
func (s Space) UserOutbox(id int64) string { return s.user(id, "outbox") }

// NotificationsPending is the index of users with offline records: a
// sorted set, member user id, score the time (unix ms) from which a push
// worker may claim the user (notify.Outbox). It holds at most one entry
// per user, so its size is bounded by the users, not by the messages. It
// is one key (one slot) for the whole system.
func (s Space) NotificationsPending() string { return s.prefix + ":notifications:pending" }

// Direct is the string key mapping an unordered user pair to its direct
// room id; a and b may be given in any order.
func (s Space) Direct(a, b int64) string {
	if a > b {
		a, b = b, a
	}
	return s.prefix + ":direct:" + strconv.FormatInt(a, 10) + ":" + strconv.FormatInt(b, 10)
}

// Session is the registry hash of one live session: sessionId, userId,
// roomId, node, connectedAt, remoteAddr.
func (s Space) Session(sessionID string) string { return s.prefix + ":session:" + sessionID }

// Nodes is the sorted set of live ws nodes scored by their last heartbeat
// (unix ms). Nodes silent for longer than the node TTL are reaped.
func (s Space) Nodes() string { return s.prefix + ":nodes" }

// NodeSessions is the set of session ids registered by one ws node.
func (s Space) NodeSessions(node string) string { return s.prefix + ":node:" + node + ":sessions" }

// NodeEnded is the hash of one ws node's sessions that the disconnect API
// or chatctl kick ended (registry.Kick): session id -> the reason to give
// the client. It makes a kick durable when its control command is lost:
// the node closes those sockets on its next heartbeat (or as soon as its
// control channel is confirmed again), never registers them again, and
// deletes each entry once its session is gone. The key expires 10 minutes
// after its last write.
func (s Space) NodeEnded(node string) string { return s.prefix + ":node:" + node + ":ended" }

// NodeControl is the pub/sub channel on which one ws node receives control
// commands (disconnect sessions, ...), JSON.
func (s Space) NodeControl(node string) string { return s.prefix + ":node:" + node + ":control" }

// NodeProbe is the pub/sub channel on which one ws node publishes and
// receives its own timestamps to measure pub/sub lag (metrics).
func (s Space) NodeProbe(node string) string { return s.prefix + ":node:" + node + ":probe" }

// MasterCheck is the pub/sub channel on which one process's fan-out hub (a
// ws node, by its node id; an api instance, by a random id) publishes empty
// messages to itself, to check that its pub/sub connection is on the
// current master (Redis Sentinel; fanout.Config.MasterCheck).
func (s Space) MasterCheck(instance string) string { return s.prefix + ":check:" + instance }

// Control is the pub/sub channel every ws node listens to for commands that
// concern all nodes (membership revoked, ...), JSON.
func (s Space) Control() string { return s.prefix + ":control" }

// RoomOfMessages returns the room id of a RoomMessages channel name.
func (s Space) RoomOfMessages(channel string) (int64, bool) {
	rest, ok := strings.CutPrefix(channel, s.prefix+":room:{")
	if !ok {
		return 0, false
	}
	id, ok := strings.CutSuffix(rest, "}:messages")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// ChannelKind names the kind of a pub/sub channel of this space, for
// metrics: "room" (chat messages), "room_events", "user" (notifications),
// "node_control", "control", "probe", or "other".
func (s Space) ChannelKind(channel string) string {
	rest, ok := strings.CutPrefix(channel, s.prefix+":")
	switch {
	case !ok:
		return "other"
	case rest == "control":
		return "control"
	case strings.HasPrefix(rest, "room:{") && strings.HasSuffix(rest, "}:messages"):
		return "room"
	case strings.HasPrefix(rest, "room:{") && strings.HasSuffix(rest, "}:events"):
		return "room_events"
	case strings.HasPrefix(rest, "user:{") && strings.HasSuffix(rest, "}:notifications"):
		return "user"
	case strings.HasPrefix(rest, "node:") && strings.HasSuffix(rest, ":control"):
		return "node_control"
	case strings.HasPrefix(rest, "node:") && strings.HasSuffix(rest, ":probe"):
		return "probe"
	}
	return "other"
}
