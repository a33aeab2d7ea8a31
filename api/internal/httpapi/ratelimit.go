package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// rateLimit spends one token of the caller's bucket (Config.RatePerUser,
// Config.RateBurst) per request behind authenticate; without one it answers
// 429 with Retry-After (whole seconds, rounded up). Buckets are per api
// process.
func (s *server) rateLimit(c *gin.Context) {
	ok, retry := s.rates.Allow(strconv.FormatInt(caller(c), 10))
	if ok {
		c.Next()
		return
	}
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
	s.problem(c, http.StatusTooManyRequests, "rate limit exceeded: at most "+
		strconv.FormatFloat(s.cfg.RatePerUser, 'g', -1, 64)+" requests per second per user, bursts of "+
		strconv.Itoa(s.cfg.RateBurst))
}

// tooManyFailures answers 429 with Retry-After to a client address that
// has used up its bucket of requests without a valid token
// (Config.RatePerIP, Config.RateBurstPerIP).
func (s *server) tooManyFailures(c *gin.Context, retry time.Duration) {
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
	s.problem(c, http.StatusTooManyRequests, "too many requests without a valid token from this address: at most "+
		strconv.FormatFloat(s.cfg.RatePerIP, 'g', -1, 64)+" per second, bursts of "+strconv.Itoa(s.cfg.RateBurstPerIP))
}

// clientIP is the address of c's client (Config.ClientIP): the peer, or
// the forwarded client behind a trusted proxy.
func (s *server) clientIP(c *gin.Context) string {
	return s.cfg.ClientIP.ClientIP(c.Request)
}
