package httpapi

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/auth"
)

// identityKey is the gin context key of the caller's auth.Identity.
const identityKey = "roomwire.identity"

// authenticate verifies "Authorization: Bearer <jwt>" and stores the
// caller's identity in the gin context; without a valid token it answers
// 401, and adds user_id to the request's logger. The token itself is never logged nor echoed: only the verifier's
// client-safe reason ("missing token", "invalid token: bad signature",
// "token expired", ...) is shown. Answers behind it are per user, so they
// are marked not to be stored by any cache.
func (s *server) authenticate(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	id, err := s.deps.Tokens.Verify(auth.BearerToken(c.GetHeader("Authorization")))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(identityKey, id)
	s.setLogger(c, s.logger(c.Request.Context()).With(slog.Int64("user_id", id.UserID)))
	c.Next()
}

// caller returns the authenticated user's id. It is only called behind
// authenticate, which guarantees a positive id.
func caller(c *gin.Context) int64 {
	id, _ := c.Get(identityKey)
	return id.(auth.Identity).UserID
}

// callerOrZero is caller for middleware that also runs on public routes.
func callerOrZero(c *gin.Context) int64 {
	if id, ok := c.Get(identityKey); ok {
		return id.(auth.Identity).UserID
	}
	return 0
}
