package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/outage"
)

// This file is the one place where errors become HTTP statuses.

// problemJSON is an RFC 9457 problem document.
type problemJSON struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// requestError is a client mistake found by a handler (bad id, bad JSON,
// mismatched field); its detail is shown to the client as is.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(detail string) error { return &requestError{http.StatusBadRequest, detail} }

// fail answers err as a problem. Errors it does not know are logged and
// answered 500 "internal error" without detail.
func (s *server) fail(c *gin.Context, err error) {
	status, detail := classify(err)
	if status == http.StatusServiceUnavailable {
		msg := "request failed: redis unavailable"
		if errors.Is(err, messages.ErrArchiveUnavailable) {
			msg = "request failed: archive (PostgreSQL) unavailable"
		}
		s.logger(c.Request.Context()).Warn(msg, "method", c.Request.Method, "path", redactTokens(c.Request.URL.Path), "err", err)
	}
	if status == http.StatusInternalServerError {
		log := s.logger(c.Request.Context())
		if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
			log.Debug("request canceled by client", "method", c.Request.Method, "path", redactTokens(c.Request.URL.Path))
		} else {
			log.Error("request failed", "method", c.Request.Method, "path", redactTokens(c.Request.URL.Path), "err", err)
		}
	}
	s.problem(c, status, detail)
}

// classify maps an error to a status and a client-safe detail. The sentinel
// errors of auth, room and messages document their texts as client-safe.
func classify(err error) (int, string) {
	var re *requestError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &re):
		return re.status, re.detail
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "request body is too large"
	case errors.Is(err, auth.ErrMissingToken), errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrExpiredToken):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, room.ErrNotFound), errors.Is(err, messages.ErrRoomNotFound), errors.Is(err, messages.ErrNotMember):
		return http.StatusNotFound, "room not found"
	case errors.Is(err, room.ErrForbidden):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, room.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, room.ErrConflict), errors.Is(err, room.ErrTooManyRooms):
		return http.StatusConflict, err.Error()
	case errors.Is(err, messages.ErrTooLong):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, messages.ErrEmpty), errors.Is(err, messages.ErrInvalidText), errors.Is(err, messages.ErrBadReceiver):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, readstate.ErrRoomNotFound), errors.Is(err, readstate.ErrNotMember):
		return http.StatusNotFound, "room not found"
	case errors.Is(err, readstate.ErrBadSeq):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, messages.ErrMessageNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, messages.ErrNotAuthor), errors.Is(err, messages.ErrEditWindowPassed):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, messages.ErrDeleted):
		return http.StatusConflict, err.Error()
	case errors.Is(err, messages.ErrArchiveUnavailable):
		// Before outage.Is: the archive's error wraps PostgreSQL's, which
		// is often a network error too (connection refused or cut).
		return http.StatusServiceUnavailable, "archived history is unavailable, try again"
	case outage.Is(err):
		return http.StatusServiceUnavailable, "service unavailable, try again"
	}
	return http.StatusInternalServerError, "internal error"
}

// problem writes a problem document with status and detail and aborts the
// handler chain.
func (s *server) problem(c *gin.Context, status int, detail string) {
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="roomwire"`)
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	c.Header("Cache-Control", "no-store")
	body, _ := json.Marshal(problemJSON{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
	c.Abort()
	c.Data(status, "application/problem+json", body)
}
