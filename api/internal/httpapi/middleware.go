package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// recoverer turns a panicking handler into a logged 500 problem. The
// deliberate http.ErrAbortHandler is passed on to net/http untouched.
func (s *server) recoverer(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v)
		}
		s.log.Error("handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", v, "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		s.problem(c, http.StatusInternalServerError, "internal error")
	}()
	c.Next()
}

// jwtInPath matches a JWT (or its first two parts) a client put in a path.
var jwtInPath = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?`)

// redactTokens replaces anything shaped like a JWT in a request path, so a
// client that puts its token in the URL does not get it logged.
func redactTokens(path string) string {
	if !strings.Contains(path, "eyJ") {
		return path
	}
	return jwtInPath.ReplaceAllString(path, "[token]")
}

// measure records the request in the metrics by route template and status
// class; it is outermost so that every answer counts.
func (s *server) measure(c *gin.Context) {
	done := s.cfg.Metrics.Start(c.Request.Method)
	c.Next()
	done(c.FullPath(), c.Writer.Status())
}

// requestLog logs one line per request: method, path (without the query),
// route, status, size, duration, client address and, once authenticated,
// the user id. Headers are not logged, so neither is the Authorization
// token.
func (s *server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo // client errors are the client's business
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", c.Request.Method),
		slog.String("path", redactTokens(c.Request.URL.Path)),
		slog.String("route", c.FullPath()),
		slog.Int("status", status),
		slog.Int("bytes", c.Writer.Size()),
		slog.Duration("duration", time.Since(start)),
		slog.String("remote", c.Request.RemoteAddr),
		slog.Int64("user", callerOrZero(c)),
	)
}
