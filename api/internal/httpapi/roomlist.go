package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/room"
)

// Room list page sizes.
const (
	defaultRoomPage = 50
	maxRoomPage     = 200
)

// roomListJSON is the answer of GET /chat-rooms.
type roomListJSON struct {
	Rooms []roomUnreadJSON `json:"rooms"`
	// NextCursor continues the list; absent on its last page.
	NextCursor string `json:"nextCursor,omitempty"`
}

// listRooms answers a page of the caller's rooms, most recent activity
// first: limit (1..200, default 50) rooms, fewer when their last messages
// would pass Config.MaxResponseBytes, and nextCursor while more follow.
// Groups are listed with memberCount but without memberIds (GET
// /chat-rooms/:id has them); direct rooms carry both ids. See
// room.Store.ListPage for what paging guarantees while rooms move.
func (s *server) listRooms(c *gin.Context) {
	limit, err := queryInt(c, "limit", defaultRoomPage)
	if err != nil || limit < 1 || limit > maxRoomPage {
		s.fail(c, badRequest("limit must be an integer from 1 to "+strconv.Itoa(maxRoomPage)))
		return
	}
	after, ok := parseCursor(c.Query("cursor"))
	if !ok {
		s.fail(c, badRequest("cursor must be a nextCursor of an earlier page"))
		return
	}
	ctx := c.Request.Context()
	page, err := s.deps.Rooms.ListPage(ctx, caller(c), room.ListQuery{After: after, Limit: int(limit), MaxBytes: s.cfg.MaxResponseBytes})
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.withUnread(ctx, caller(c), page.Rooms)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, roomListJSON{Rooms: out, NextCursor: formatCursor(page.Next)})
}

// formatCursor encodes a list position as an opaque token ("" for the
// end): base64url of "<activity ms>.<room id>". Clients must not parse it.
func formatCursor(c room.Cursor) string {
	if c.IsZero() {
		return ""
	}
	raw := strconv.FormatInt(c.Activity, 10) + "." + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// parseCursor reads formatCursor's token; "" is the start of the list.
func parseCursor(v string) (room.Cursor, bool) {
	if v == "" {
		return room.Cursor{}, true
	}
	if len(v) > 64 {
		return room.Cursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return room.Cursor{}, false
	}
	a, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return room.Cursor{}, false
	}
	activity, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || activity < 0 || n <= 0 {
		return room.Cursor{}, false
	}
	return room.Cursor{Activity: activity, ID: n}, true
}
