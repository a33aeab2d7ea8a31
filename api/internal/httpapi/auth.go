package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/clientip"
)

// identityKey is the gin context key of the caller's auth.Identity.
const identityKey = "roomwire.identity"

// authenticate verifies "Authorization: Bearer <jwt>" and stores the
// caller's identity in the gin context; without a valid token it answers
// 401, and adds user_id to the request's logger. The token itself is never
// logged nor echoed: only the verifier's client-safe reason ("missing
// token", "invalid token: bad signature", "token expired", ...) is shown. Answers behind it are per user, so they
// are marked not to be stored by any cache.
//
// Requests without a valid token are limited per client address
// (Config.RatePerIP): an address that has used up its bucket gets 429
// before its token is verified, and every 401 spends a token. An
// Authorization header beyond Config.MaxAuthHeaderBytes is a 401 without
// verification.
func (s *server) authenticate(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	addr := clientip.Key(s.clientIP(c))
	if ok, retry := s.fails.Check(addr); !ok {
		s.tooManyFailures(c, retry)
		return
	}
	var id auth.Identity
	var err error
	if h := c.GetHeader("Authorization"); len(h) > s.cfg.MaxAuthHeaderBytes {
		err = &requestError{http.StatusUnauthorized, "invalid token: the Authorization header is longer than " +
			strconv.Itoa(s.cfg.MaxAuthHeaderBytes) + " bytes"}
	} else {
		id, err = s.deps.Tokens.Verify(auth.BearerToken(h))
	}
	if err != nil {
		// Only the client's failures count, not a verifier outage (503).
		if status, _ := classify(err); status == http.StatusUnauthorized {
			if ok, retry := s.fails.Allow(addr); !ok {
				s.tooManyFailures(c, retry)
				return
			}
		}
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
