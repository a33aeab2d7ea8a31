// Package requestid names the requests of the api and the WebSocket
// upgrades of the ws nodes, so that a proxy's access log, a client's bug
// report and the services' logs can be joined on one id.
//
// An id arrives in the X-Request-ID header (nginx sets it from its own
// $request_id) or is generated; either way it is echoed in the answer's
// X-Request-ID header and logged as request_id.
package requestid

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Header is the HTTP header that carries the id in both directions.
const Header = "X-Request-ID"

// MaxLen is the longest id taken from a client.
const MaxLen = 64

// FromHeader returns the client's id when it is sane (1 to MaxLen
// characters of A-Z, a-z, 0-9, '.', '_' and '-', and nothing shaped like a
// JWT, so that a client cannot get a token logged through it) and a new
// id otherwise.
func FromHeader(v string) string {
	if Valid(v) {
		return v
	}
	return New()
}

// Valid reports whether v is acceptable as a client's id (see FromHeader).
func Valid(v string) bool {
	if len(v) == 0 || len(v) > MaxLen || strings.Contains(v, "eyJ") {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// New returns a fresh id: 16 hex digits from crypto/rand.
func New() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
