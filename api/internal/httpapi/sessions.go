package httpapi

import (
	"maps"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

// disconnectRequest is the body of POST /chat-room/disconnect, in the seed
// client's shape. rcvId is accepted and ignored.
type disconnectRequest struct {
	SendID     *int64 `json:"sendId"`
	RcvID      int64  `json:"rcvId"`
	ChatRoomID int64  `json:"chatRoomId"`
}

// disconnectReason is what a client disconnected by the API is told.
const disconnectReason = "disconnected via API"

// disconnect ends the caller's live sessions that are in room chatRoomId
// and answers {"disconnected": N}.
//
// Each session is first taken out of the registry (LEAVE reason "api"),
// which makes the end happen once: only the taker counts it, and the user's
// last session in the room announces LEAVE. Then each owning ws node is
// told, over its control channel, to close the sockets. The take also
// records the session for its node (registry.Kick), so the node closes it
// even if that command is lost. No membership is needed: the caller only
// ever ends their own sessions.
func (s *server) disconnect(c *gin.Context) {
	var req disconnectRequest
	if err := s.decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	me := caller(c)
	if req.SendID != nil && *req.SendID != me {
		s.fail(c, &requestError{http.StatusForbidden, "sendId does not match the authenticated user"})
		return
	}
	if req.ChatRoomID <= 0 {
		s.fail(c, badRequest("chatRoomId must be a positive integer"))
		return
	}
	ctx := c.Request.Context()
	sessions, err := s.deps.Sessions.UserSessions(ctx, me)
	if err != nil {
		s.fail(c, err)
		return
	}
	byNode := map[string][]string{}
	n := 0
	var removeErr error
	for _, sid := range slices.Sorted(maps.Keys(sessions)) {
		if sessions[sid] != req.ChatRoomID {
			continue
		}
		// Remove hands back the session it took, node included, so the
		// node is learnt atomically with the removal.
		// Remove may fail after taking the session; it is then gone all
		// the same and its socket must still be closed.
		sess, removed, err := s.deps.Sessions.Kick(ctx, sid, "api", disconnectReason)
		if removed {
			n++
			byNode[sess.Node] = append(byNode[sess.Node], sid)
		}
		if err != nil {
			removeErr = err
			break // but still close what is already out of the registry
		}
	}
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		cmd := wire.Control{Op: wire.OpDisconnect, SessionIDs: byNode[node], Reason: disconnectReason}
		if err := s.deps.Events.Node(ctx, node, cmd); err != nil {
			s.fail(c, err)
			return
		}
	}
	if removeErr != nil {
		s.fail(c, removeErr)
		return
	}
	c.JSON(http.StatusOK, gin.H{"disconnected": n})
}

// presenceJSON is one online member in GET /chat-rooms/:id/presence.
type presenceJSON struct {
	UserID int64 `json:"userId"`
	// Sessions counts the user's live sessions anywhere.
	Sessions int `json:"sessions"`
	// InRoom reports a live session that connected into this room.
	InRoom bool `json:"inRoom"`
}

// presence answers the room's members that have a live session, sorted by
// user id, to a member.
func (s *server) presence(c *gin.Context) {
	id, err := pathID(c, "id", "room id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	r, err := s.deps.Rooms.ViewFor(ctx, id, caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.deps.Sessions.SessionCounts(ctx, r.MemberIDs)
	if err != nil {
		s.fail(c, err)
		return
	}
	inRoom, err := s.deps.Sessions.RoomPresence(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	online := []presenceJSON{}
	for _, u := range slices.Sorted(slices.Values(r.MemberIDs)) {
		if counts[u] > 0 || inRoom[u] > 0 {
			online = append(online, presenceJSON{UserID: u, Sessions: max(counts[u], inRoom[u]), InRoom: inRoom[u] > 0})
		}
	}
	c.JSON(http.StatusOK, gin.H{"chatRoomId": id, "online": online})
}
