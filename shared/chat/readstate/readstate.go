// Package readstate keeps every member's read position in each room: the
// highest seq the member has read, in the room's read hash (keys.RoomRead).
//
// Positions only move forwards, capped at the room's lastSeq, in one Lua
// step (read.lua) that also publishes a READ event on the room's events
// channel when the position moved. The unread count of a room is lastSeq
// minus the position: O(1) per room, whatever the history length.
package readstate

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

//go:embed read.lua
var readLua string

var readScript = events.NewScript(readLua)

// Sentinel errors of MarkRead. Their texts are safe to show to clients.
var (
	// ErrRoomNotFound means the room does not exist.
	ErrRoomNotFound = errors.New("room not found")
	// ErrNotMember means the user is not a member of the room.
	ErrNotMember = errors.New("not a member of the room")
	// ErrBadSeq means a negative seq.
	ErrBadSeq = errors.New("seq must be a non-negative integer")
)

// Latest, as MarkRead's seq, means the room's latest message.
const Latest int64 = math.MaxInt64

// Observer learns that a read moved a member's position; notify.Notifier
// answers with an UNREAD notification to the member's sessions.
type Observer interface {
	ReadMoved(ctx context.Context, roomID, userID, unread int64)
}

// Config configures a Store.
type Config struct {
	// Observer, when set, is told about every announced move (not about
	// Join's silent ones); default none.
	Observer Observer
}

// Store reads and moves read positions. It is safe for concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	keys keys.Space
	cfg  Config
	now  func() time.Time
}

// NewStore returns a Store.
func NewStore(rdb redis.UniversalClient, ks keys.Space, cfg Config) *Store {
	return &Store{rdb: rdb, keys: ks, cfg: cfg, now: time.Now}
}

// Result is a member's read state in a room after MarkRead.
type Result struct {
	ChatRoomID int64
	UserID     int64
	// Seq is the position: every message up to Seq is read.
	Seq int64
	// UnreadCount is the room's lastSeq minus Seq.
	UnreadCount int64
	// Moved reports whether this call moved the position.
	Moved bool
}

// MarkRead moves user's position in room forwards to seq (at most the
// room's lastSeq; Latest for exactly that) and, when it moved, publishes
// {"type":"READ",...} on the room's events channel and tells the Observer.
// A seq at or behind the position changes nothing. Only members may read.
func (s *Store) MarkRead(ctx context.Context, roomID, userID, seq int64) (Result, error) {
	if seq < 0 {
		return Result{}, ErrBadSeq
	}
	head, tail := s.announcement(roomID, userID)
	r, err := s.move(ctx, roomID, userID, seq, head, tail)
	s.observe(ctx, r, err)
	return r, err
}

// Join moves a new member's position to the room's latest message without
// announcing it, so that what was said before they joined is not unread.
func (s *Store) Join(ctx context.Context, roomID, userID int64) error {
	_, err := s.move(ctx, roomID, userID, Latest, "", "")
	return err
}

// announcement returns read.lua's READ event for user in room, cut around
// its seq (ARGV[3] and ARGV[4]).
func (s *Store) announcement(roomID, userID int64) (head, tail string) {
	ev := wire.Marshal(wire.ReadEvent{Type: wire.EventRead, ChatRoomID: roomID, UserID: userID, At: wire.FormatTime(s.now())})
	h, t, ok := bytes.Cut(ev, []byte(`"seq":0,`))
	if !ok {
		panic("readstate: READ event without seq")
	}
	return string(h) + `"seq":`, "," + string(t)
}

// observe tells the Observer about an announced move.
func (s *Store) observe(ctx context.Context, r Result, err error) {
	if err == nil && r.Moved && s.cfg.Observer != nil {
		s.cfg.Observer.ReadMoved(ctx, r.ChatRoomID, r.UserID, r.UnreadCount)
	}
}

func (s *Store) move(ctx context.Context, roomID, userID, seq int64, head, tail string) (Result, error) {
	if roomID <= 0 || userID <= 0 {
		return Result{}, ErrRoomNotFound
	}
	return s.result(roomID, userID, readScript.Run(ctx, s.rdb, s.readKeys(roomID), userID, seq, head, tail))
}

// readKeys are read.lua's KEYS[1..4], all on the room's slot.
func (s *Store) readKeys(roomID int64) []string {
	return []string{s.keys.RoomMeta(roomID), s.keys.RoomMembers(roomID), s.keys.RoomRead(roomID), s.keys.RoomEvents(roomID)}
}

// result reads read.lua's answer.
func (s *Store) result(roomID, userID int64, cmd *redis.Cmd) (Result, error) {
	vals, err := cmd.Int64Slice()
	if err != nil {
		switch msg := err.Error(); {
		case strings.HasPrefix(msg, "NOROOM"):
			return Result{}, ErrRoomNotFound
		case strings.HasPrefix(msg, "NOTMEMBER"):
			return Result{}, ErrNotMember
		}
		return Result{}, fmt.Errorf("mark room %d read for user %d: %w", roomID, userID, err)
	}
	if len(vals) != 3 || vals[1] < 0 {
		return Result{}, fmt.Errorf("mark room %d read for user %d: unexpected reply %v", roomID, userID, vals)
	}
	return Result{ChatRoomID: roomID, UserID: userID, Seq: vals[0], Moved: vals[1] == 1,
		UnreadCount: max(0, vals[2]-vals[0])}, nil
}

// Forget drops user's position in room (after they left it).
func (s *Store) Forget(ctx context.Context, roomID, userID int64) error {
	if err := s.rdb.HDel(ctx, s.keys.RoomRead(roomID), strconv.FormatInt(userID, 10)).Err(); err != nil {
		return fmt.Errorf("forget read position of user %d in room %d: %w", userID, roomID, err)
	}
	return nil
}

// Positions returns the room's read positions, user id -> seq; members
// who never read are absent.
func (s *Store) Positions(ctx context.Context, roomID int64) (map[int64]int64, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys.RoomRead(roomID)).Result()
	if err != nil {
		return nil, fmt.Errorf("load read positions of room %d: %w", roomID, err)
	}
	out := make(map[int64]int64, len(m))
	for u, v := range m {
		id, err1 := strconv.ParseInt(u, 10, 64)
		seq, err2 := strconv.ParseInt(v, 10, 64)
		if err1 == nil && err2 == nil {
			out[id] = seq
		}
	}
	return out, nil
}

// PositionsOf returns user's position in each of rooms (0 when none), read
// in one pipeline.
func (s *Store) PositionsOf(ctx context.Context, userID int64, rooms []int64) (map[int64]int64, error) {
	cmds := make([]*redis.StringCmd, len(rooms))
	uid := strconv.FormatInt(userID, 10)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range rooms {
			cmds[i] = p.HGet(ctx, s.keys.RoomRead(r), uid)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load read positions of user %d: %w", userID, err)
	}
	out := make(map[int64]int64, len(rooms))
	for i, r := range rooms {
		n, _ := cmds[i].Int64()
		out[r] = n
	}
	return out, nil
}
