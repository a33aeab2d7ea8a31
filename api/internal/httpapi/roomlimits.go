package httpapi

import (
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/infra/ratelimit"
)

// perMinute is a per-user token bucket refilled n times a minute and
// holding a minute's worth (at least one); negative n turns it off.
func perMinute(n float64) *ratelimit.Keyed {
	if n < 0 {
		return ratelimit.New(ratelimit.Config{Rate: -1})
	}
	return ratelimit.New(ratelimit.Config{Rate: n / 60, Burst: max(1, int(math.Ceil(n)))})
}

// limitCreates spends a token of the caller's room creation bucket
// (Config.RoomCreatesPerMinute) per POST /chat-rooms, whether it creates
// a room or finds a direct one: each may add a room to other users'
// lists. Without one, 429 with Retry-After.
func (s *server) limitCreates(c *gin.Context) {
	s.limitPerUser(c, s.creates, "room creations", s.cfg.RoomCreatesPerMinute)
}

// limitAdds spends a token of the caller's member addition bucket
// (Config.MemberAddsPerMinute) per POST /chat-rooms/:id/members.
func (s *server) limitAdds(c *gin.Context) {
	s.limitPerUser(c, s.adds, "member additions", s.cfg.MemberAddsPerMinute)
}

func (s *server) limitPerUser(c *gin.Context, k *ratelimit.Keyed, what string, perMin float64) {
	ok, retry := k.Allow(strconv.FormatInt(caller(c), 10))
	if ok {
		c.Next()
		return
	}
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
	s.problem(c, http.StatusTooManyRequests, "rate limit exceeded: at most "+
		strconv.FormatFloat(perMin, 'g', -1, 64)+" "+what+" per minute per user")
}
