// Package room stores chat rooms and their members in Redis.
//
// A room is a hash (keys.RoomMeta) plus a member set (keys.RoomMembers); each
// user has the set of their rooms (keys.UserRooms). Direct rooms are unique
// per unordered user pair (keys.Direct).
package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Room types.
const (
	TypeDirect = "direct"
	TypeGroup  = "group"
)

// Sentinel errors. Wrapped errors add detail that is safe to show to clients.
var (
	// ErrNotFound means the room does not exist, or the caller may not know
	// that it exists (callers answer the same for both).
	ErrNotFound = errors.New("room not found")
	// ErrForbidden means the caller is a member but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid means the request is malformed (bad type, name, ids).
	ErrInvalid = errors.New("invalid request")
	// ErrConflict means the request contradicts the room's state (a
	// direct room's members, a full group).
	ErrConflict = errors.New("conflict")
	// ErrTooManyRooms means a user is already in Config.MaxRoomsPerUser
	// rooms; the wrapped error names the user.
	ErrTooManyRooms = errors.New("too many rooms")
)

// Room is a room as the stores read it. It is not a wire format: the REST
// answers are DTOs that api's HTTP layer builds from it.
type Room struct {
	ID            int64
	Type          string
	Name          string
	CreatedBy     int64
	CreatedAt     string
	MemberIDs     []int64
	MemberCount   int
	LastSeq       int64
	LastMessageAt string
	// LastMessage is the room's last history entry (message JSON), if any.
	LastMessage json.RawMessage
	activity    int64
}

// Config configures a Store.
type Config struct {
	// MaxMembers bounds a group's size; default 1000. Checked atomically
	// with each add, so racing adds never overshoot.
	MaxMembers int
	// MaxNameLen bounds a group name in characters; default 100.
	MaxNameLen int
	// MaxRoomsPerUser bounds the rooms (groups and direct) a user is a
	// member of, whoever adds them; default 1000. Checked atomically with
	// each add and creation.
	MaxRoomsPerUser int
	// ArchiveFeed, when On, appends a "type room" record to the room's
	// archive stream on creation and member changes (see ArchiveFeed);
	// off by default.
	ArchiveFeed ArchiveFeed
}

// Store reads and writes rooms. It is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	keys    keys.Space
	cfg     Config
	sharded bool // a Redis Cluster: one archive stream per slot
	now     func() time.Time
}

// NewStore returns a Store; zero fields of cfg take their defaults.
func NewStore(rdb redis.UniversalClient, ks keys.Space, cfg Config) *Store {
	if cfg.MaxMembers <= 0 {
		cfg.MaxMembers = 1000
	}
	if cfg.MaxNameLen <= 0 {
		cfg.MaxNameLen = 100
	}
	if cfg.MaxRoomsPerUser <= 0 {
		cfg.MaxRoomsPerUser = 1000
	}
	if cfg.ArchiveFeed.StreamMax <= 0 {
		cfg.ArchiveFeed.StreamMax = defaultStreamMax
	}
	return &Store{rdb: rdb, keys: ks, cfg: cfg, sharded: events.Sharded(rdb), now: time.Now}
}

// IsMember reports whether user belongs to room; false for missing rooms.
func (s *Store) IsMember(ctx context.Context, roomID, userID int64) (bool, error) {
	ok, err := QueueIsMember(ctx, s.rdb, s.keys, roomID, userID).Result()
	if err != nil {
		return false, fmt.Errorf("check membership of user %d in room %d: %w", userID, roomID, err)
	}
	return ok, nil
}

// Members returns the member ids of a room, sorted.
func (s *Store) Members(ctx context.Context, roomID int64) ([]int64, error) {
	vals, err := s.rdb.SMembers(ctx, s.keys.RoomMembers(roomID)).Result()
	if err != nil {
		return nil, fmt.Errorf("load members of room %d: %w", roomID, err)
	}
	return parseIDs(vals), nil
}

// CreateDirect returns the direct room of caller and other, creating it if
// needed; created reports whether it is new. Both users are (again)
// members; ErrTooManyRooms if that takes one beyond MaxRoomsPerUser.
func (s *Store) CreateDirect(ctx context.Context, caller, other int64) (r Room, created bool, err error) {
	if caller <= 0 || other <= 0 || other == caller {
		return Room{}, false, fmt.Errorf("%w: a direct room needs exactly one other positive user id", ErrInvalid)
	}
	dk := s.keys.Direct(caller, other)
	for attempt := 0; attempt < 3; attempt++ {
		id, err := s.rdb.Get(ctx, dk).Int64()
		if err == nil {
			if err := s.join(ctx, id, TypeDirect, "", caller, []int64{caller, other}, false); err != nil {
				return Room{}, false, err
			}
			r, err := s.Get(ctx, id)
			return r, false, err
		}
		if !errors.Is(err, redis.Nil) {
			return Room{}, false, fmt.Errorf("look up direct room: %w", err)
		}
		id, err = s.rdb.Incr(ctx, s.keys.RoomIDs()).Result()
		if err != nil {
			return Room{}, false, fmt.Errorf("allocate room id: %w", err)
		}
		won, err := s.rdb.SetNX(ctx, dk, id, 0).Result()
		if err != nil {
			return Room{}, false, fmt.Errorf("claim direct room: %w", err)
		}
		if !won {
			continue // someone else created it meanwhile
		}
		// Refused (ErrTooManyRooms): the pair keeps the id; the next
		// CreateDirect writes the room as it does for a racing caller.
		if err := s.join(ctx, id, TypeDirect, "", caller, []int64{caller, other}, true); err != nil {
			return Room{}, false, err
		}
		r, err := s.Get(ctx, id)
		return r, true, err
	}
	return Room{}, false, fmt.Errorf("create direct room: too much contention")
}

// CreateGroup creates a group room named name with caller and memberIDs;
// ErrTooManyRooms if one of them is in MaxRoomsPerUser rooms already.
func (s *Store) CreateGroup(ctx context.Context, caller int64, name string, memberIDs []int64) (Room, error) {
	if caller <= 0 {
		return Room{}, fmt.Errorf("%w: the creator must be a positive user id", ErrInvalid)
	}
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > s.cfg.MaxNameLen {
		return Room{}, fmt.Errorf("%w: name must be 1 to %d characters", ErrInvalid, s.cfg.MaxNameLen)
	}
	members := []int64{caller}
	seen := map[int64]bool{caller: true}
	for _, m := range memberIDs {
		if m <= 0 {
			return Room{}, fmt.Errorf("%w: member ids must be positive integers", ErrInvalid)
		}
		if !seen[m] {
			seen[m] = true
			members = append(members, m)
		}
	}
	if len(members) > s.cfg.MaxMembers {
		return Room{}, fmt.Errorf("%w: a group has at most %d members", ErrInvalid, s.cfg.MaxMembers)
	}
	id, err := s.rdb.Incr(ctx, s.keys.RoomIDs()).Result()
	if err != nil {
		return Room{}, fmt.Errorf("allocate room id: %w", err)
	}
	if err := s.join(ctx, id, TypeGroup, name, caller, members, true); err != nil {
		return Room{}, err
	}
	return s.Get(ctx, id)
}

// join claims room id in each member's room set (claim), then stores the
// room's meta (fields not yet set) and members (writeRoom). It creates a
// room (fresh: the caller allocated id), or makes a direct room's pair
// members again; a group's member cap is checked by the caller (a new room
// holds nobody else).
func (s *Store) join(ctx context.Context, id int64, typ, name string, by int64, members []int64, fresh bool) error {
	if _, err := s.claim(ctx, id, members); err != nil {
		return err
	}
	fields := []any{"id", id, "type", typ, "createdBy", by, "createdAt", wire.FormatTime(s.now()), "lastSeq", 0}
	if name != "" {
		fields = append(fields, "name", name)
	}
	if err := s.writeRoom(ctx, id, fields, members, fresh); err != nil {
		return fmt.Errorf("write room %d: %w", id, err)
	}
	return nil
}

// Get loads a room with its members and last message.
func (s *Store) Get(ctx context.Context, id int64) (Room, error) {
	rooms, err := s.load(ctx, []int64{id})
	if err != nil {
		return Room{}, err
	}
	if len(rooms) == 0 {
		return Room{}, ErrNotFound
	}
	return rooms[0], nil
}

// ListForUser returns the user's rooms, most recent activity first.
func (s *Store) ListForUser(ctx context.Context, userID int64) ([]Room, error) {
	vals, err := s.rdb.SMembers(ctx, s.keys.UserRooms(userID)).Result()
	if err != nil {
		return nil, fmt.Errorf("list rooms of user %d: %w", userID, err)
	}
	rooms, err := s.load(ctx, parseIDs(vals))
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rooms, func(i, j int) bool {
		if rooms[i].activity != rooms[j].activity {
			return rooms[i].activity > rooms[j].activity
		}
		return rooms[i].ID > rooms[j].ID
	})
	return rooms, nil
}

// load reads rooms in one pipeline; missing rooms are skipped.
func (s *Store) load(ctx context.Context, ids []int64) ([]Room, error) {
	type cmds struct {
		meta    *redis.MapStringStringCmd
		members *redis.StringSliceCmd
		last    *redis.StringSliceCmd
	}
	cs := make([]cmds, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cs[i] = cmds{
				meta:    p.HGetAll(ctx, s.keys.RoomMeta(id)),
				members: p.SMembers(ctx, s.keys.RoomMembers(id)),
				last:    p.ZRange(ctx, s.keys.RoomHistory(id), -1, -1),
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load rooms: %w", err)
	}
	out := make([]Room, 0, len(ids))
	for i, id := range ids {
		m := cs[i].meta.Val()
		if len(m) == 0 {
			continue
		}
		r := Room{ID: id, Type: m["type"], Name: m["name"], CreatedAt: m["createdAt"], MemberIDs: parseIDs(cs[i].members.Val())}
		r.MemberCount = len(r.MemberIDs)
		r.CreatedBy, _ = strconv.ParseInt(m["createdBy"], 10, 64)
		r.LastSeq, _ = strconv.ParseInt(m["lastSeq"], 10, 64)
		if ms, err := strconv.ParseInt(m["lastMessageAt"], 10, 64); err == nil && ms > 0 {
			r.activity = ms
			r.LastMessageAt = wire.FormatTime(time.UnixMilli(ms))
		} else if t, err := time.Parse(time.RFC3339, r.CreatedAt); err == nil {
			r.activity = t.UnixMilli()
		}
		if last := cs[i].last.Val(); len(last) == 1 {
			r.LastMessage = json.RawMessage(last[0])
		}
		out = append(out, r)
	}
	return out, nil
}

// AddMember adds user to a group room on behalf of actor, who must be a
// member. Adding an existing member is not an error; added reports news.
// The room's MaxMembers and the user's MaxRoomsPerUser are each checked
// atomically with the add on its slot (join.lua): the user's side first,
// taken back if the room's side refuses (full: ErrConflict; actor left
// meanwhile: ErrNotFound).
func (s *Store) AddMember(ctx context.Context, roomID, actor, user int64) (added bool, err error) {
	if user <= 0 {
		return false, fmt.Errorf("%w: userId must be a positive integer", ErrInvalid)
	}
	r, err := s.memberView(ctx, roomID, actor)
	if err != nil {
		return false, err
	}
	if r.Type != TypeGroup {
		return false, fmt.Errorf("%w: members of a direct room cannot change", ErrConflict)
	}
	for _, m := range r.MemberIDs {
		if m == user {
			return false, nil
		}
	}
	if len(r.MemberIDs) >= s.cfg.MaxMembers {
		return false, fmt.Errorf("%w: the room has its maximum of %d members", ErrConflict, s.cfg.MaxMembers)
	}
	claimed, err := s.claim(ctx, roomID, []int64{user})
	if err != nil {
		return false, err
	}
	res, err := s.joins(ctx, []joinCall{{set: s.keys.RoomMembers(roomID), member: user, max: s.cfg.MaxMembers, actor: actor,
		record: s.archiveStream(roomID), roomID: roomID}})
	if err != nil { // the add may have happened: the claim stays
		return false, fmt.Errorf("add user %d to room %d: %w", user, roomID, err)
	}
	switch res[0] {
	case joinFull:
		err = fmt.Errorf("%w: the room has its maximum of %d members", ErrConflict, s.cfg.MaxMembers)
	case joinMissingActor:
		err = ErrNotFound
	}
	if err != nil {
		s.unclaim(ctx, roomID, claimed)
		return false, err
	}
	return res[0] == joinAdded, nil
}

// RemoveMember removes user from a room on behalf of actor. Anyone may
// leave; in a group the creator may also remove others. removed reports
// whether user was a member.
func (s *Store) RemoveMember(ctx context.Context, roomID, actor, user int64) (removed bool, err error) {
	r, err := s.memberView(ctx, roomID, actor)
	if err != nil {
		return false, err
	}
	if actor != user && (r.Type != TypeGroup || r.CreatedBy != actor) {
		return false, fmt.Errorf("%w: only the group's creator may remove other members", ErrForbidden)
	}
	var n *redis.IntCmd
	if s.cfg.ArchiveFeed.On {
		// The room's side and its record in one MULTI/EXEC on its slot,
		// then the user's side (another slot on a cluster).
		_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			n = p.SRem(ctx, s.keys.RoomMembers(roomID), user)
			s.record(ctx, p, roomID)
			return nil
		})
		if err == nil {
			err = s.rdb.SRem(ctx, s.keys.UserRooms(user), roomID).Err()
		}
	} else {
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			n = p.SRem(ctx, s.keys.RoomMembers(roomID), user)
			p.SRem(ctx, s.keys.UserRooms(user), roomID)
			return nil
		})
	}
	if err != nil {
		return false, fmt.Errorf("remove user %d from room %d: %w", user, roomID, err)
	}
	return n.Val() == 1, nil
}

// memberView loads the room for actor, answering ErrNotFound when the room
// is missing or actor is not a member (so ids cannot be probed).
func (s *Store) memberView(ctx context.Context, roomID, actor int64) (Room, error) {
	r, err := s.Get(ctx, roomID)
	if err != nil {
		return Room{}, err
	}
	for _, m := range r.MemberIDs {
		if m == actor {
			return r, nil
		}
	}
	return Room{}, ErrNotFound
}

// ViewFor returns the room if user is a member, ErrNotFound otherwise.
func (s *Store) ViewFor(ctx context.Context, roomID, user int64) (Room, error) {
	return s.memberView(ctx, roomID, user)
}

func parseIDs(vals []string) []int64 {
	ids := make([]int64, 0, len(vals))
	for _, v := range vals {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
