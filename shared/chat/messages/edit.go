package messages

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
)

//go:embed change.lua
var changeLua string

var changeScript = events.NewScript(changeLua)

// Sentinel errors of Edit and Delete. Their texts are safe to show to clients.
var (
	// ErrMessageNotFound means no message with that seq is in history.
	ErrMessageNotFound = errors.New("message not found")
	// ErrNotAuthor means the caller did not send the message.
	ErrNotAuthor = errors.New("only the author may change a message")
	// ErrEditWindowPassed means the message is older than the edit window.
	ErrEditWindowPassed = errors.New("the message can no longer be changed")
	// ErrDeleted means the message was deleted.
	ErrDeleted = errors.New("the message was deleted")
)

// stored is a history entry as read back: a message, edited or not, or a
// tombstone.
type stored struct {
	wire.Message
	Deleted bool `json:"deleted"`
}

// Edit replaces the text of message seq of room, sent by user within the
// edit window, and announces MESSAGE_EDITED with the new entry on the
// room's events channel. History keeps the message's id, seq and sentAt and
// gains "editedAt". It returns the new entry's JSON.
func (s *Store) Edit(ctx context.Context, roomID, seq, user int64, text string) ([]byte, error) {
	if err := s.Validate(text); err != nil {
		return nil, err
	}
	return s.change(ctx, roomID, seq, user, wire.EventMessageEdited, func(m wire.Message, at string) any {
		m.Message, m.EditedAt = text, at
		return m
	})
}

// Delete replaces message seq of room, sent by user within the edit
// window, with a tombstone (no text) and announces MESSAGE_DELETED with it
// on the room's events channel. It returns the tombstone's JSON.
func (s *Store) Delete(ctx context.Context, roomID, seq, user int64) ([]byte, error) {
	return s.change(ctx, roomID, seq, user, wire.EventMessageDeleted, func(m wire.Message, at string) any {
		return wire.Tombstone{ID: m.ID, ChatRoomID: m.ChatRoomID, Seq: m.Seq, SendID: m.SendID, RcvID: m.RcvID,
			Deleted: true, SentAt: m.SentAt, DeletedAt: at}
	})
}

// change reads entry seq, checks author, window and state, and swaps in
// replace's result with change.lua, reading again when a concurrent change
// won the race.
func (s *Store) change(ctx context.Context, roomID, seq, user int64, event string, replace func(wire.Message, string) any) ([]byte, error) {
	if roomID <= 0 || user <= 0 {
		return nil, ErrRoomNotFound
	}
	if seq <= 0 {
		return nil, ErrMessageNotFound
	}
	score := strconv.FormatInt(seq, 10)
	for attempt := 0; attempt < 5; attempt++ {
		vals, err := s.rdb.ZRangeByScore(ctx, s.keys.RoomHistory(roomID), &redis.ZRangeBy{Min: score, Max: score}).Result()
		if err != nil {
			return nil, fmt.Errorf("read message %d of room %d: %w", seq, roomID, err)
		}
		if len(vals) == 0 {
			return nil, ErrMessageNotFound
		}
		var old stored
		if err := json.Unmarshal([]byte(vals[0]), &old); err != nil {
			return nil, fmt.Errorf("decode message %d of room %d: %w", seq, roomID, err)
		}
		switch sentAt, err := time.Parse(time.RFC3339, old.SentAt); {
		case old.SendID != user:
			return nil, ErrNotAuthor
		case old.Deleted:
			return nil, ErrDeleted
		case err != nil:
			return nil, fmt.Errorf("message %d of room %d: sentAt %q: %w", seq, roomID, old.SentAt, err)
		case s.now().Sub(sentAt) > s.cfg.EditWindow:
			return nil, fmt.Errorf("%w: the edit window is %s", ErrEditWindowPassed, s.cfg.EditWindow)
		}
		at := wire.FormatTime(s.now())
		entry := wire.Marshal(replace(old.Message, at))
		ev := wire.Marshal(wire.MessageEvent{Type: event, ChatRoomID: roomID, UserID: user, Seq: seq, At: at, Message: entry})
		ks := []string{s.keys.RoomMembers(roomID), s.keys.RoomHistory(roomID), s.keys.RoomEvents(roomID)}
		args := []any{user, seq, vals[0], entry, ev}
		if s.cfg.ArchiveFeed.On {
			ks = append(ks, s.keys.ArchiveStreamFor(roomID, s.sharded))
			args = append(args, roomID, s.cfg.ArchiveFeed.StreamMax)
		}
		n, err := changeScript.Run(ctx, s.rdb, ks, args...).Int()
		switch {
		case err != nil && strings.HasPrefix(err.Error(), "NOTMEMBER"):
			return nil, ErrNotMember
		case err != nil:
			return nil, fmt.Errorf("change message %d of room %d: %w", seq, roomID, err)
		case n == 1:
			return entry, nil
		case n == 0:
			return nil, ErrMessageNotFound
		}
	}
	return nil, fmt.Errorf("change message %d of room %d: too much contention", seq, roomID)
}
