package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
)

// createRoomRequest is the body of POST /chat-rooms.
type createRoomRequest struct {
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	MemberIDs []int64 `json:"memberIds"`
}

// createRoom creates a group room (201), or finds or creates the caller's
// direct room with one other user (201 when new, 200 when it existed).
// memberIds may list the caller too; it is always a member.
func (s *server) createRoom(c *gin.Context) {
	var req createRoomRequest
	if err := s.decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	me := caller(c)
	switch req.Type {
	case room.TypeDirect:
		others := othersThan(me, req.MemberIDs)
		if len(others) != 1 {
			s.fail(c, badRequest("a direct room needs exactly one other user in memberIds"))
			return
		}
		if req.Name != "" {
			s.fail(c, badRequest("a direct room has no name"))
			return
		}
		r, created, err := s.deps.Rooms.CreateDirect(c.Request.Context(), me, others[0])
		if err != nil {
			s.fail(c, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
			s.announceAdded(c.Request.Context(), r.ID, others[0])
		}
		c.JSON(status, roomOf(r))
	case room.TypeGroup:
		r, err := s.deps.Rooms.CreateGroup(c.Request.Context(), me, req.Name, req.MemberIDs)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.announceAdded(c.Request.Context(), r.ID, othersThan(me, r.MemberIDs)...)
		c.JSON(http.StatusCreated, roomOf(r))
	default:
		s.fail(c, badRequest(`type must be "direct" or "group"`))
	}
}

// othersThan returns the distinct ids of ids other than me, in order.
func othersThan(me int64, ids []int64) []int64 {
	var out []int64
	seen := map[int64]bool{me: true}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// getRoom answers one room the caller is a member of.
func (s *server) getRoom(c *gin.Context) {
	id, err := pathID(c, "id", "room id")
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.deps.Rooms.ViewFor(c.Request.Context(), id, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerRoom(c, r)
}

// addMemberRequest is the body of POST /chat-rooms/:id/members.
type addMemberRequest struct {
	UserID int64 `json:"userId"`
}

// membershipJSON answers a member addition.
type membershipJSON struct {
	ChatRoomID int64 `json:"chatRoomId"`
	UserID     int64 `json:"userId"`
	Added      bool  `json:"added"`
}

// addMember adds a user to a group room the caller is a member of: 201 and
// a MEMBER_ADDED event when added, 200 when the user already was a member.
func (s *server) addMember(c *gin.Context) {
	id, err := pathID(c, "id", "room id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var req addMemberRequest
	if err := s.decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	added, err := s.deps.Rooms.AddMember(ctx, id, caller(c), req.UserID)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
		// The event is a notification: the member is added whether or not
		// it reaches subscribers, so a failure is logged, not answered.
		ev := wire.Event{Type: wire.EventMemberAdded, ChatRoomID: id, UserID: req.UserID}
		if err := s.deps.Events.Room(ctx, ev); err != nil {
			s.logger(ctx).Error("announce member added", "room", id, "user", req.UserID, "err", err)
		}
		s.joined(ctx, id, req.UserID)
	}
	c.JSON(status, membershipJSON{ChatRoomID: id, UserID: req.UserID, Added: added})
}

// removeMember removes a member (oneself, or anyone when the caller created
// the group): 204, a MEMBER_REMOVED event, and a revoke broadcast so ws
// nodes end the user's subscriptions to the room. A target that is not a
// member answers 404 "not a member".
//
// The revoke matters for access control, so a failed broadcast answers 500,
// and the revoke is broadcast even when the target was no member (a no-op
// for the ws nodes): a creator who retries after that 500 gets the 404 but
// the revoke still goes out.
func (s *server) removeMember(c *gin.Context) {
	id, err := pathID(c, "id", "room id")
	if err != nil {
		s.fail(c, err)
		return
	}
	user, err := pathID(c, "userId", "user id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	removed, err := s.deps.Rooms.RemoveMember(ctx, id, caller(c), user)
	if err != nil {
		s.fail(c, err)
		return
	}
	if removed {
		ev := wire.Event{Type: wire.EventMemberRemoved, ChatRoomID: id, UserID: user}
		if err := s.deps.Events.Room(ctx, ev); err != nil {
			s.logger(ctx).Error("announce member removed", "room", id, "user", user, "err", err)
		}
		s.left(ctx, id, user)
	}
	revoke := wire.Control{Op: wire.OpRevoke, RoomID: id, UserID: user, Reason: "removed from room"}
	if err := s.deps.Events.Broadcast(ctx, revoke); err != nil {
		s.fail(c, err)
		return
	}
	if !removed {
		s.fail(c, &requestError{http.StatusNotFound, "not a member"})
		return
	}
	c.Status(http.StatusNoContent)
}
