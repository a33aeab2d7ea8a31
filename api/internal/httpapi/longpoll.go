package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// longPoll answers GET /chat-rooms/:id/messages?after=N&wait=D: at once
// when messages after N exist, otherwise when the next one is published or
// after D (capped at Config.MaxWait) with an empty page. Pages are oldest
// first, so a poller continues with after = the last seq it got. It watches
// the room's channel before reading history, so a message published in
// between is never missed.
func (s *server) longPoll(c *gin.Context, roomID int64, q messages.Query, wait time.Duration) {
	me := caller(c)
	if ok, _ := s.waits.acquire(me); !ok {
		s.problem(c, http.StatusTooManyRequests, "too many long-poll requests open for this user (at most "+
			strconv.Itoa(s.cfg.MaxWaitsPerUser)+")")
		return
	}
	defer s.waits.release(me)
	ctx := c.Request.Context()
	notify, stop, err := s.deps.Notifier.Notify(ctx, s.deps.RoomChannel(roomID))
	if err != nil {
		s.fail(c, err)
		return
	}
	defer stop()
	page, err := s.deps.Messages.History(ctx, roomID, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(page.Messages) == 0 {
		// Waiting is cheap; the heavy slot is for reading.
		releaseHeavy(c)
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return // the client left
		case <-timer.C:
		case <-notify:
			if page, err = s.deps.Messages.History(ctx, roomID, q); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	writePage(c, page, nil)
}

// waitParam parses wait as a Go duration ("25s") or whole seconds ("25"),
// capped at max. Absent means 0 (no waiting).
func waitParam(c *gin.Context, max time.Duration) (time.Duration, error) {
	v, ok := c.GetQuery("wait")
	if !ok || v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, badRequest("wait must be a duration such as 25s, or whole seconds")
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, badRequest("wait must not be negative")
	}
	return min(d, max), nil
}
