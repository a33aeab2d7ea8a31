package wire_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

func TestFormatTime(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 26, 15, 44, 2, 123456789, time.UTC), "2026-11-26T15:44:02.123Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05.000Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 7_000_000, paris), "2026-01-02T02:04:05.007Z"},
		{time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC), "2026-12-31T23:59:59.999Z"},
	}
	for _, tt := range tests {
		if got := wire.FormatTime(tt.in); got != tt.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"message without rcvId", wire.Message{ID: "3-1", ChatRoomID: 3, Seq: 1, SendID: 7, Message: "<hi>", SentAt: "2026-01-02T03:04:05.000Z"},
			`{"id":"3-1","chatRoomId":3,"seq":1,"sendId":7,"message":"<hi>","sentAt":"2026-01-02T03:04:05.000Z"}`},
		{"no HTML escaping, JSON escaping kept", wire.Message{ID: "3-3", ChatRoomID: 3, Seq: 3, SendID: 7, Message: "a<b>&\"\\\n\u2028\x01", SentAt: "s"},
			`{"id":"3-3","chatRoomId":3,"seq":3,"sendId":7,"message":"a<b>&\"\\\n\u2028\u0001","sentAt":"s"}`},
		{"raw JSON inside is not HTML-escaped either", wire.MessageEvent{Type: wire.EventMessageEdited, ChatRoomID: 3, UserID: 7, Seq: 1, At: "a",
			Message: json.RawMessage(`{"message":"<&>"}`)},
			`{"type":"MESSAGE_EDITED","chatRoomId":3,"userId":7,"seq":1,"at":"a","message":{"message":"<&>"}}`},
		{"message with rcvId", wire.Message{ID: "3-2", ChatRoomID: 3, Seq: 2, SendID: 7, RcvID: 8, Message: "x", SentAt: "s"},
			`{"id":"3-2","chatRoomId":3,"seq":2,"sendId":7,"rcvId":8,"message":"x","sentAt":"s"}`},
		{"event", wire.Event{Type: wire.EventLeave, ChatRoomID: 3, UserID: 7, At: "a", Reason: "closed"},
			`{"type":"LEAVE","chatRoomId":3,"userId":7,"at":"a","reason":"closed"}`},
		{"control", wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{"s"}},
			`{"op":"disconnect","sessionIds":["s"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(wire.Marshal(tt.v)); got != tt.want {
				t.Errorf("Marshal = %s\nwant      %s", got, tt.want)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("Marshal of an unencodable value did not panic")
		}
	}()
	wire.Marshal(func() {})
}

// FuzzMarshalString: Marshal of a string decodes back to it, and a valid
// UTF-8 string with no control character but tab, LF and CR (what the send
// path accepts) takes at most twice its bytes plus the quotes, the bound
// messages.MaxEntryBytes rests on.
func FuzzMarshalString(f *testing.F) {
	for _, s := range []string{"", "<>&", `"\`, "\t\n\r", "\u2028\u2029", "\x00\x1f\x7f", "日本語 😀", "a\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := wire.Marshal(s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Marshal(%q) = %s: %v", s, b, err)
		}
		if !utf8.ValidString(s) {
			return // invalid bytes become U+FFFD; the send path refuses them
		}
		if back != s {
			t.Fatalf("Marshal(%q) = %s decodes to %q", s, b, back)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }) {
			return
		}
		if len(b) > 2*len(s)+2 {
			t.Fatalf("Marshal(%q) = %d bytes, over 2*%d+2", s, len(b), len(s))
		}
	})
}
