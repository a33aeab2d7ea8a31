package httpapi

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"
)

// heavyGate bounds the heavy requests in flight: those that build a large
// answer from Redis (history pages, room lists). Together with
// Config.MaxResponseBytes it bounds what they can make the process hold:
// at most HeavyMax answers of at most MaxResponseBytes each. It is safe
// for concurrent use.
type heavyGate struct {
	perUser, max int

	// mu guards total and users.
	mu    sync.Mutex
	total int
	users map[int64]int // user -> requests in flight; no zero entries
}

func newHeavyGate(perUser, max int) *heavyGate {
	return &heavyGate{perUser: perUser, max: max, users: make(map[int64]int)}
}

// acquire takes a slot for user, or says why it cannot: "" means taken.
func (g *heavyGate) acquire(user int64) (refused string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.users[user] >= g.perUser:
		return "too many history or room list requests in flight for this user (at most " +
			strconv.Itoa(g.perUser) + "); retry when one has answered"
	case g.total >= g.max:
		return "too many history or room list requests in flight on this server; retry shortly"
	}
	g.users[user]++
	g.total++
	return ""
}

// release gives back a slot of user.
func (g *heavyGate) release(user int64) {
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
	if refused := s.heavy.acquire(me); refused != "" {
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
