package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/requestid"
)

// loggerKey is the request context key of the request's *slog.Logger.
type loggerKey struct{}

// requestID names the request: it takes a sane X-Request-ID from the
// client (nginx passes its $request_id) or generates one, echoes it in the
// answer's X-Request-ID header, and stores a logger carrying request_id in
// the request context; authenticate adds user_id to it. It is outermost,
// so every log line about the request can carry the id.
func (s *server) requestID(c *gin.Context) {
	id := requestid.FromHeader(c.GetHeader(requestid.Header))
	c.Header(requestid.Header, id)
	s.setLogger(c, s.log.With(slog.String("request_id", id)))
	c.Next()
}

// setLogger makes l the logger of c's request.
func (s *server) setLogger(c *gin.Context, l *slog.Logger) {
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), loggerKey{}, l))
}

// logger returns the logger of the request ctx belongs to (request_id and,
// once authenticated, user_id), or the server's logger outside a request.
func (s *server) logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log
}

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
		s.logger(c.Request.Context()).Error("handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path,
			"panic", v, "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		s.problem(c, http.StatusInternalServerError, "internal error")
	}()
	c.Next()
}

// redactTokens replaces anything shaped like a JWT in a request path, so a
// client that puts its token in the URL does not get it logged.
func redactTokens(path string) string {
	return auth.RedactTokens(path)
}

// measure records the request in the metrics by route template and status
// class; it is outermost so that every answer counts.
func (s *server) measure(c *gin.Context) {
	done := s.cfg.Metrics.Start(c.Request.Method)
	c.Next()
	done(c.FullPath(), c.Writer.Status())
}

// requestLog logs one line per request with the request's logger
// (request_id and, once authenticated, user_id): method, path (without the
// query), route, status, size, duration and client address (clientIP: the
// forwarded client behind a trusted proxy). Headers are not logged, so
// neither is the Authorization token.
func (s *server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo // client errors are the client's business
	if status >= 500 {
		level = slog.LevelError
	}
	// c.Request is the one the handlers last saw, with the user's logger.
	ctx := c.Request.Context()
	s.logger(ctx).LogAttrs(ctx, level, "http request",
		slog.String("method", c.Request.Method),
		slog.String("path", redactTokens(c.Request.URL.Path)),
		slog.String("route", c.FullPath()),
		slog.Int("status", status),
		slog.Int("bytes", c.Writer.Size()),
		slog.Duration("duration", time.Since(start)),
		slog.String("remote", s.clientIP(c)),
	)
}
