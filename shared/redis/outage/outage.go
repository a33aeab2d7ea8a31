// Package outage tells a backing-store outage apart from other errors, so
// that both services can answer "unavailable, try again" (HTTP 503 with
// Retry-After, STOMP ERROR with close 1013) instead of an internal error
// when Redis is down, busy or moving: a dropped connection, a timeout, or
// one of the replies Redis gives while it loads, fails over or reshards.
package outage

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// transientReplies are the Redis error replies that mean "not now": the
// dataset is loading, a replica is being promoted, a slot is being moved,
// or the cluster has lost a master.
var transientReplies = []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY", "MOVED", "ASK"}

// Is reports whether err comes from Redis being unreachable or temporarily
// unable to serve, as opposed to a refused request or a bug.
func Is(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	switch {
	case errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne):
		return true
	}
	var re redis.Error
	if errors.As(err, &re) {
		code, _, _ := strings.Cut(re.Error(), " ")
		for _, t := range transientReplies {
			if code == t {
				return true
			}
		}
	}
	return false
}
