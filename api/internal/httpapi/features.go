package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
)

// The chat features' routes: read positions and unread counts, edits and
// deletions, bulk presence, and the notifications that membership changes
// send to the users concerned.

// ReadStore moves and reads read positions; readstate.Store implements it.
// Join and Forget follow membership: a new member starts with everything
// before their arrival read, a member who left loses their position.
type ReadStore interface {
	MarkRead(ctx context.Context, roomID, userID, seq int64) (readstate.Result, error)
	Positions(ctx context.Context, roomID int64) (map[int64]int64, error)
	PositionsOf(ctx context.Context, userID int64, rooms []int64) (map[int64]int64, error)
	Join(ctx context.Context, roomID, userID int64) error
	Forget(ctx context.Context, roomID, userID int64) error
}

// MessageEditor edits and deletes messages; messages.Store implements it.
type MessageEditor interface {
	Edit(ctx context.Context, roomID, seq, user int64, text string) ([]byte, error)
	Delete(ctx context.Context, roomID, seq, user int64) ([]byte, error)
}

// PresenceReader reads users' cluster-wide presence; registry.Registry
// implements it.
type PresenceReader interface {
	Presence(ctx context.Context, userIDs []int64) ([]registry.UserPresence, error)
}

// UserNotifier tells users about membership changes; notify.Notifier
// implements it.
type UserNotifier interface {
	Added(ctx context.Context, roomID int64, users ...int64) error
	Removed(ctx context.Context, roomID, user int64) error
}

var (
	_ ReadStore      = (*readstate.Store)(nil)
	_ MessageEditor  = (*messages.Store)(nil)
	_ PresenceReader = (*registry.Registry)(nil)
	_ UserNotifier   = (*notify.Notifier)(nil)
)

// maxPresenceIDs bounds the users of one GET /presence.
const maxPresenceIDs = 200

func (s *server) featureRoutes(v1 *gin.RouterGroup) {
	v1.POST("/chat-rooms/:id/read", s.markRead)
	v1.PATCH("/chat-rooms/:id/messages/:seq", s.editMessage)
	v1.DELETE("/chat-rooms/:id/messages/:seq", s.deleteMessage)
	v1.GET("/presence", s.bulkPresence)
}

// readRequest is the body of POST /chat-rooms/:id/read.
type readRequest struct {
	Seq *int64 `json:"seq"`
}

// markRead moves the caller's read position forwards to seq (capped at the
// room's lastSeq) and answers {"chatRoomId","userId","seq","unreadCount"}
// with the position after the call. When it moved, READ is announced on
// the room's events and UNREAD sent to the caller's sessions.
func (s *server) markRead(c *gin.Context) {
	id, err := pathID(c, "id", "room id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var req readRequest
	if err := s.decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Seq == nil || *req.Seq < 0 {
		s.fail(c, badRequest("seq must be a non-negative integer"))
		return
	}
	r, err := s.deps.Reads.MarkRead(c.Request.Context(), id, caller(c), *req.Seq)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, readOf(r))
}

// editRequest is the body of PATCH /chat-rooms/:id/messages/:seq.
type editRequest struct {
	Message string `json:"message"`
}

// editMessage replaces the text of a message by its author within the
// edit window: 200 with the entry as history now holds it (with
// "editedAt"); MESSAGE_EDITED is announced on the room's events.
func (s *server) editMessage(c *gin.Context) {
	id, seq, ok := s.messageRef(c)
	if !ok {
		return
	}
	var req editRequest
	if err := s.decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	raw, err := s.deps.Edits.Edit(c.Request.Context(), id, seq, caller(c), req.Message)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", raw)
}

// deleteMessage replaces a message by a tombstone, by its author within
// the edit window: 200 with the tombstone; MESSAGE_DELETED is announced.
func (s *server) deleteMessage(c *gin.Context) {
	id, seq, ok := s.messageRef(c)
	if !ok {
		return
	}
	raw, err := s.deps.Edits.Delete(c.Request.Context(), id, seq, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", raw)
}

// messageRef parses :id and :seq and checks that the caller is a member;
// it answers the problem itself when ok is false.
func (s *server) messageRef(c *gin.Context) (roomID, seq int64, ok bool) {
	roomID, err := pathID(c, "id", "room id")
	if err == nil {
		seq, err = pathID(c, "seq", "message seq")
	}
	if err == nil {
		_, err = s.deps.Rooms.ViewFor(c.Request.Context(), roomID, caller(c))
	}
	if err != nil {
		s.fail(c, err)
		return 0, 0, false
	}
	return roomID, seq, true
}

// userPresenceJSON is one user in GET /presence.
type userPresenceJSON struct {
	UserID   int64 `json:"userId"`
	Online   bool  `json:"online"`
	Sessions int   `json:"sessions"`
	// LastSeen is now for an online user, else when their last session
	// ended; absent when no session of theirs ever ended.
	LastSeen string `json:"lastSeen,omitempty"`
}

// bulkPresence answers GET /presence?userIds=1,2,3 (comma-separated and/or
// repeated; 1 to 200 distinct ids) with {"users":[…]} in the order asked.
// Any authenticated user may ask about any user.
func (s *server) bulkPresence(c *gin.Context) {
	var ids []int64
	seen := map[int64]bool{}
	for _, v := range c.QueryArray("userIds") {
		for _, part := range strings.Split(v, ",") {
			id, ok := wire.ParseID(strings.TrimSpace(part))
			if !ok {
				s.fail(c, badRequest("userIds must be positive integers separated by commas"))
				return
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 || len(ids) > maxPresenceIDs {
		s.fail(c, badRequest("userIds must name 1 to "+strconv.Itoa(maxPresenceIDs)+" users"))
		return
	}
	ps, err := s.deps.Presence.Presence(c.Request.Context(), ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := wire.FormatTime(time.Now())
	users := make([]userPresenceJSON, len(ps))
	for i, p := range ps {
		users[i] = userPresenceJSON{UserID: p.UserID, Online: p.Sessions > 0, Sessions: p.Sessions}
		switch {
		case p.Sessions > 0:
			users[i].LastSeen = now
		case !p.LastSeen.IsZero():
			users[i].LastSeen = wire.FormatTime(p.LastSeen)
		}
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
}

// withUnread adds the caller's unread count to each room, reading every
// position in one pipeline.
func (s *server) withUnread(ctx context.Context, user int64, rooms []room.Room) ([]roomUnreadJSON, error) {
	ids := make([]int64, len(rooms))
	for i, r := range rooms {
		ids[i] = r.ID
	}
	pos, err := s.deps.Reads.PositionsOf(ctx, user, ids)
	if err != nil {
		return nil, err
	}
	out := make([]roomUnreadJSON, len(rooms))
	for i, r := range rooms {
		out[i] = roomUnreadJSON{roomJSON: roomOf(r), UnreadCount: max(0, r.LastSeq-pos[r.ID])}
	}
	return out, nil
}

// answerRoom answers one room with the caller's unread count.
func (s *server) answerRoom(c *gin.Context, r room.Room) {
	out, err := s.withUnread(c.Request.Context(), caller(c), []room.Room{r})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

// answerHistory answers a history page with the members' read positions
// (readBy: user id -> seq): a message with seq S has been read by every
// user whose position is at least S. Long polls answer without them.
func (s *server) answerHistory(c *gin.Context, roomID int64, page messages.Page) {
	pos, err := s.deps.Reads.Positions(c.Request.Context(), roomID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if pos == nil {
		pos = map[int64]int64{}
	}
	writePage(c, page, pos)
}

// announceAdded tells users they are in a new room (ADDED). Like the room
// events, it is a notification: a failure is logged, not answered.
func (s *server) announceAdded(ctx context.Context, roomID int64, users ...int64) {
	if len(users) == 0 {
		return
	}
	if err := s.deps.Notes.Added(ctx, roomID, users...); err != nil {
		s.logger(ctx).Error("notify added members", "room", roomID, "err", err)
	}
}

// joined starts a new member's read position at the room's latest message
// and tells them (ADDED).
func (s *server) joined(ctx context.Context, roomID, user int64) {
	if err := s.deps.Reads.Join(ctx, roomID, user); err != nil {
		s.logger(ctx).Error("start read position of new member", "room", roomID, "user", user, "err", err)
	}
	s.announceAdded(ctx, roomID, user)
}

// left drops a former member's read position and tells them (REMOVED).
func (s *server) left(ctx context.Context, roomID, user int64) {
	if err := s.deps.Reads.Forget(ctx, roomID, user); err != nil {
		s.logger(ctx).Error("forget read position of former member", "room", roomID, "user", user, "err", err)
	}
	if err := s.deps.Notes.Removed(ctx, roomID, user); err != nil {
		s.logger(ctx).Error("notify removed member", "room", roomID, "user", user, "err", err)
	}
}
