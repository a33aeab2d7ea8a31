// Package typing fans out TYPING events: ephemeral, never stored, rate
// limited per member and room across every node (typing.lua keeps a
// counter with a short expiry on the room's slot).
package typing

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

//go:embed typing.lua
var typingLua string

var typingScript = events.NewScript(typingLua)

// ErrNotMember means the user is not a member of the room (or the room
// does not exist). Its text is safe to show to clients.
var ErrNotMember = errors.New("not a member of the room")

// Config configures a Store. Zero fields take the defaults.
type Config struct {
	// PerWindow is how many TYPING starts (and, separately, stops) one
	// member may announce in one room per Window; more are dropped
	// silently. Default 5.
	PerWindow int
	// Window is the rate window; default 1s.
	Window time.Duration
}

// Store announces typing. It is safe for concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	keys keys.Space
	cfg  Config
	now  func() time.Time
}

// NewStore returns a Store; zero fields of cfg take their defaults.
func NewStore(rdb redis.UniversalClient, ks keys.Space, cfg Config) *Store {
	if cfg.PerWindow <= 0 {
		cfg.PerWindow = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Second
	}
	return &Store{rdb: rdb, keys: ks, cfg: cfg, now: time.Now}
}

// Typing publishes {"type":"TYPING","chatRoomId","userId","typing","at"} on
// the room's events channel unless user exceeded the rate, in which case
// sent is false and nothing happens. Only members may type.
func (s *Store) Typing(ctx context.Context, roomID, userID int64, typing bool) (sent bool, err error) {
	if roomID <= 0 || userID <= 0 {
		return false, ErrNotMember
	}
	ev := wire.TypingEvent{Type: wire.EventTyping, ChatRoomID: roomID, UserID: userID, Typing: typing, At: wire.FormatTime(s.now())}
	counter := s.keys.RoomTyping(roomID, userID)
	if !typing {
		counter = s.keys.RoomTypingStops(roomID, userID) // stops never use up starts
	}
	ks := []string{s.keys.RoomMembers(roomID), counter, s.keys.RoomEvents(roomID)}
	n, err := typingScript.Run(ctx, s.rdb, ks, userID, s.cfg.PerWindow, s.cfg.Window.Milliseconds(), wire.Marshal(ev)).Int()
	if err != nil {
		if strings.HasPrefix(err.Error(), "NOTMEMBER") {
			return false, ErrNotMember
		}
		return false, fmt.Errorf("announce typing of user %d in room %d: %w", userID, roomID, err)
	}
	return n == 1, nil
}
