package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// CORS header values. Credentials are not allowed: the API authenticates
// with a bearer token, not cookies.
const (
	corsAllowMethods = "GET, POST, PATCH, DELETE, OPTIONS"
	corsAllowHeaders = "Authorization, Content-Type, X-Request-ID"
	// corsExposeHeaders lets browser code read the request id.
	corsExposeHeaders = "X-Request-ID"
	corsMaxAge        = "600"
)

// cors answers cross-origin requests from the exactly listed origins: it
// echoes the Origin and, for a preflight (OPTIONS with
// Access-Control-Request-Method), answers 204 itself. Other origins get no
// CORS headers, so browsers refuse them. With no origins listed the
// middleware does nothing.
func (s *server) cors(origins []string) gin.HandlerFunc {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return func(c *gin.Context) {
		if len(allowed) == 0 {
			c.Next()
			return
		}
		c.Writer.Header().Add("Vary", "Origin")
		origin := c.GetHeader("Origin")
		if !allowed[origin] {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			h.Del("Allow") // set by gin's 405 path, which preflights go through
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		c.Next()
	}
}
