package wire

import (
	"strconv"
	"unicode/utf8"
)

// The one layout of a chat message's JSON, in the field order of Message:
//
//	{"id":"2-17","chatRoomId":2,"seq":17,"sendId":8,"rcvId":3,"message":"hi","sentAt":"…","editedAt":"…"}
//
// (rcvId only when not 0, editedAt only when set). It is written in two
// halves because send.lua learns the seq only inside Redis: the head (id to
// rcvId) is built there, from the same values as AppendMessageHead, and the
// tail (message to the closing brace) is AppendMessageTail's, passed in as
// an argument. AppendMessage writes both, byte for byte what Marshal(m)
// returns (FuzzAppendMessage checks it against encoding/json, and
// messages' TestSendJSONIsTheWireLayout checks send.lua against it).
// ParseMessageHead reads the head back without decoding the rest.

// MessageID returns the id of message seq of room: "<room>-<seq>".
func MessageID(room, seq int64) string {
	return strconv.FormatInt(room, 10) + "-" + strconv.FormatInt(seq, 10)
}

// AppendMessage appends m's JSON to dst: the same bytes as Marshal(m),
// without reflection.
func AppendMessage(dst []byte, m Message) []byte {
	dst = AppendMessageHead(dst, m.ID, m.ChatRoomID, m.Seq, m.SendID, m.RcvID)
	return AppendMessageTail(dst, m.Message, m.SentAt, m.EditedAt)
}

// AppendMessageHead appends `{"id":"…","chatRoomId":N,"seq":N,"sendId":N`
// and `,"rcvId":N` when rcv is not 0: the half of a message that send.lua
// writes in Redis.
func AppendMessageHead(dst []byte, id string, room, seq, send, rcv int64) []byte {
	dst = append(dst, `{"id":`...)
	dst = AppendString(dst, id)
	dst = append(dst, `,"chatRoomId":`...)
	dst = strconv.AppendInt(dst, room, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"sendId":`...)
	dst = strconv.AppendInt(dst, send, 10)
	if rcv != 0 {
		dst = append(dst, `,"rcvId":`...)
		dst = strconv.AppendInt(dst, rcv, 10)
	}
	return dst
}

// AppendMessageTail appends `,"message":"…","sentAt":"…"`, then
// `,"editedAt":"…"` when editedAt is set, and the closing brace: the half
// of a message that Send passes to send.lua.
func AppendMessageTail(dst []byte, text, sentAt, editedAt string) []byte {
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, text)
	dst = append(dst, `,"sentAt":`...)
	dst = AppendString(dst, sentAt)
	if editedAt != "" {
		dst = append(dst, `,"editedAt":`...)
		dst = AppendString(dst, editedAt)
	}
	return append(dst, '}')
}

// ParseMessageHead reads the id and seq of a chat message's JSON, or of a
// Tombstone's (same head), as AppendMessageHead writes them:
// `{"id":"<id>","chatRoomId":<n>,"seq":<n>` followed by `,` or `}`. It
// reads only those bytes: the fan-out path tells messages apart and orders
// them by seq without decoding the text. ok is false for anything else
// (events, notices, an id with escapes, a number that is not an id as
// ParseID reads it).
func ParseMessageHead(p []byte) (id string, seq int64, ok bool) {
	rest, ok := cutPrefix(p, `{"id":"`)
	if !ok {
		return "", 0, false
	}
	end := -1
	for i, c := range rest {
		if c == '"' {
			end = i
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return "", 0, false // not an id this package writes
		}
	}
	if end <= 0 {
		return "", 0, false
	}
	id = string(rest[:end])
	if rest, ok = cutPrefix(rest[end+1:], `,"chatRoomId":`); !ok {
		return "", 0, false
	}
	if _, rest, ok = cutID(rest); !ok {
		return "", 0, false
	}
	if rest, ok = cutPrefix(rest, `,"seq":`); !ok {
		return "", 0, false
	}
	if seq, rest, ok = cutID(rest); !ok || len(rest) == 0 || (rest[0] != ',' && rest[0] != '}') {
		return "", 0, false
	}
	return id, seq, true
}

// cutPrefix returns p after prefix, if p begins with it.
func cutPrefix(p []byte, prefix string) ([]byte, bool) {
	if len(p) < len(prefix) || string(p[:len(prefix)]) != prefix {
		return p, false
	}
	return p[len(prefix):], true
}

// cutID reads the ParseID number at the start of p and returns the rest.
func cutID(p []byte) (int64, []byte, bool) {
	n := 0
	for n < len(p) && n < 20 && p[n] >= '0' && p[n] <= '9' {
		n++
	}
	id, ok := ParseID(string(p[:n]))
	return id, p[n:], ok
}

// AppendString appends s as a JSON string, as Marshal encodes it (no HTML
// escaping; invalid UTF-8 becomes \ufffd; U+2028 and U+2029 are escaped).
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
