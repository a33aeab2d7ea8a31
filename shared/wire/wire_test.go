package wire_test

import (
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/wire"
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
			`{"id":"3-1","chatRoomId":3,"seq":1,"sendId":7,"message":"\u003chi\u003e","sentAt":"2026-01-02T03:04:05.000Z"}`},
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
