package httpapi

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
)

// slots counts requests in flight per user and in all, each bounded; it is
// safe for concurrent use. Heavy requests (those that build a large answer
// from Redis: history pages, room lists) take one of server.heavy: together
// with Config.MaxResponseBytes that bounds what they can make the process
// hold, at most HeavyMax answers of at most MaxResponseBytes each. Open
// long polls take one of server.waits (per user only).
type slots struct {
	perUser, max int

	// mu guards total and users.
	mu    sync.Mutex
	total int
	users map[int64]int // user -> requests in flight; no zero entries
}

func newSlots(perUser, max int) *slots {
	return &slots{perUser: perUser, max: max, users: make(map[int64]int)}
}

// acquire takes a slot for user. When it cannot, userFull tells whether
// the user's own bound refused it (else the process-wide one did).
func (g *slots) acquire(user int64) (ok, userFull bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.users[user] >= g.perUser:
		return false, true
	case g.total >= g.max:
		return false, false
	}
	g.users[user]++
	g.total++
	return true, false
}

// release gives back a slot of user.
func (g *slots) release(user int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.users[user]--; g.users[user] <= 0 {
		delete(g.users, user)
	}
}

// heavyReleaseKey holds, in the gin context, the function that gives the
// request's slot back (once).
const heavyReleaseKey = "httpapi.heavyRelease"

// limitHeavy runs a heavy route under a slot of the caller's (behind
// authenticate): without one, 429 with Retry-After: 1 at once. Waiting
// for a slot would hold the connection and its goroutine all the same,
// and a client that fires many pages at once is better told to slow
// down. The slot is given back when the handler returns, or earlier by
// releaseHeavy.
func (s *server) limitHeavy(c *gin.Context) {
	me := caller(c)
	if ok, userFull := s.heavy.acquire(me); !ok {
		refused := "too many history or room list requests in flight on this server; retry shortly"
		if userFull {
			refused = "too many history or room list requests in flight for this user (at most " +
				strconv.Itoa(s.cfg.HeavyPerUser) + "); retry when one has answered"
		}
		c.Header("Retry-After", "1")
		s.problem(c, http.StatusTooManyRequests, refused)
		return
	}
	var once sync.Once
	release := func() { once.Do(func() { s.heavy.release(me) }) }
	c.Set(heavyReleaseKey, release)
	defer release()
	c.Next()
}

// releaseHeavy gives the request's heavy slot back before the handler
// returns: a long poll does, before it waits. A no-op without a slot.
func releaseHeavy(c *gin.Context) {
	if f, ok := c.Get(heavyReleaseKey); ok {
		f.(func())()
	}
}
