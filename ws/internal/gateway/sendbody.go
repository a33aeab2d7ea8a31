package gateway

import (
	"unicode/utf8"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

// decodeSendFast decodes the common shape of a SEND body without
// encoding/json (its reflection and deep call stack were a tenth of the
// node's CPU per message): one object whose keys are exactly chatRoomId,
// sendId, rcvId or message, with integer values and a message string
// without escapes. It reports false for anything else, which the caller
// then decodes with encoding/json; whatever it accepts decodes to the same
// request there (FuzzSendBodyFastPath holds it to that).
func decodeSendFast(b []byte) (wire.SendRequest, bool) {
	var req wire.SendRequest
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return req, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return req, skipSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return req, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return req, false
		}
		i = skipSpace(b, i+1)
		switch string(key) {
		case "message":
			s, j, ok := plainString(b, i)
			if !ok || !utf8.Valid(s) {
				return req, false
			}
			req.Message, i = string(s), j
		case "chatRoomId", "sendId", "rcvId":
			n, j, ok := plainInt(b, i)
			if !ok {
				return req, false
			}
			switch key[0] {
			case 'c':
				req.ChatRoomID = n
			case 's':
				req.SendID = n
			default:
				req.RcvID = n
			}
			i = j
		default:
			return req, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return req, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return req, skipSpace(b, i+1) == len(b)
		default:
			return req, false
		}
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at i holding no escapes and no control
// characters: its contents and the index after its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// plainInt reads a JSON integer at i (no fraction, no exponent) that fits
// an int64, and the index after it.
func plainInt(b []byte, i int) (int64, int, bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var n uint64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i-start >= 18 { // 19 digits and more: leave the edge to encoding/json
			return 0, 0, false
		}
		n = n*10 + uint64(b[i]-'0')
	}
	if i == start || (b[start] == '0' && i-start > 1) {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, 0, false
	}
	if neg {
		return -int64(n), i, true
	}
	return int64(n), i, true
}
