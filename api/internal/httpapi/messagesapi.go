package httpapi

import (
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// History page sizes.
const (
	defaultHistoryLimit = 50
	maxHistoryLimit     = 500
)

// history answers a page of a room's messages to a member.
//
// Query: before (only seq < before), after (only seq > after), limit
// (1..500, default 50), order (asc or desc). Without order the page is
// newest first, except that a query with only after set is oldest first
// (the page right after a known seq). before=0 and after=0 mean unbounded.
// With wait (and after), it long-polls: see longPoll.
func (s *server) history(c *gin.Context) {
	id, err := pathID(c, "id", "room id")
	if err != nil {
		s.fail(c, err)
		return
	}
	q, err := historyQuery(c, s.cfg.MaxResponseBytes)
	if err != nil {
		s.fail(c, err)
		return
	}
	wait, err := waitParam(c, s.cfg.MaxWait)
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, hasAfter := c.GetQuery("after"); wait > 0 && (!hasAfter || q.Before > 0 || c.Query("order") == "desc") {
		s.fail(c, badRequest("wait needs after (and no before or order): it waits for messages after a seq"))
		return
	}
	ctx := c.Request.Context()
	if _, err := s.deps.Rooms.ViewFor(ctx, id, caller(c)); err != nil {
		s.fail(c, err)
		return
	}
	if wait > 0 {
		q.Ascending = true
		s.longPoll(c, id, q, wait)
		return
	}
	page, err := s.deps.Messages.History(ctx, id, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerHistory(c, id, page)
}

// historyQuery parses the query parameters of history.
// maxBytes bounds the page's entries (Config.MaxResponseBytes).
func historyQuery(c *gin.Context, maxBytes int) (messages.Query, error) {
	before, err := queryInt(c, "before", 0)
	if err != nil {
		return messages.Query{}, err
	}
	after, err := queryInt(c, "after", 0)
	if err != nil {
		return messages.Query{}, err
	}
	limit, err := queryInt(c, "limit", defaultHistoryLimit)
	if err != nil || limit < 1 || limit > maxHistoryLimit {
		return messages.Query{}, badRequest("limit must be an integer from 1 to 500")
	}
	q := messages.Query{Before: before, After: after, Limit: int(limit), MaxBytes: maxBytes}
	switch order, _ := c.GetQuery("order"); order {
	case "":
		// An after-only query (after=0 included) reads forwards from a
		// known seq: oldest first, as a poller continues.
		_, hasAfter := c.GetQuery("after")
		_, hasBefore := c.GetQuery("before")
		q.Ascending = hasAfter && !hasBefore
	case "asc":
		q.Ascending = true
	case "desc":
		if q.After > 0 && q.Before == 0 {
			// messages.History reads an after-only query oldest first; an
			// upper bound no seq reaches keeps the page newest first.
			q.Before = math.MaxInt64
		}
	default:
		return messages.Query{}, badRequest("order must be asc or desc")
	}
	return q, nil
}

// sendRequest is the body of POST /chat-rooms/:id/messages, the REST twin
// of STOMP SEND /pub/send-message. Pointers tell absent fields from zeros.
type sendRequest struct {
	ChatRoomID *int64 `json:"chatRoomId"`
	SendID     *int64 `json:"sendId"`
	RcvID      int64  `json:"rcvId"`
	Message    string `json:"message"`
}

// send stores and publishes a message through the one send path shared with
// STOMP, answering 201 with the message exactly as subscribers receive it.
// sendId, when given, must be the caller (403); chatRoomId, when given, must
// be the path's room (400).
func (s *server) send(c *gin.Context) {
	id, err := pathID(c, "id", "room id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var req sendRequest
	if err := s.decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	me := caller(c)
	switch {
	case req.SendID != nil && *req.SendID != me:
		s.fail(c, &requestError{http.StatusForbidden, "sendId does not match the authenticated user"})
		return
	case req.ChatRoomID != nil && *req.ChatRoomID != id:
		s.fail(c, badRequest("chatRoomId does not match the room in the path"))
		return
	case req.RcvID < 0:
		s.fail(c, badRequest("rcvId must be a positive integer"))
		return
	}
	_, raw, err := s.deps.Messages.Send(c.Request.Context(), id, me, req.RcvID, req.Message)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.cfg.Metrics.MessagePublished()
	c.Data(http.StatusCreated, "application/json; charset=utf-8", raw)
}
