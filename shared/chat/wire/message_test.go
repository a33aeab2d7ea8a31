package wire_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

func TestAppendMessage(t *testing.T) {
	tests := []struct {
		name string
		m    wire.Message
		want string
	}{
		{"plain", wire.Message{ID: "3-1", ChatRoomID: 3, Seq: 1, SendID: 7, Message: "hi", SentAt: "2026-01-02T03:04:05.000Z"},
			`{"id":"3-1","chatRoomId":3,"seq":1,"sendId":7,"message":"hi","sentAt":"2026-01-02T03:04:05.000Z"}`},
		{"rcvId and editedAt", wire.Message{ID: "3-2", ChatRoomID: 3, Seq: 2, SendID: 7, RcvID: 8, Message: "x", SentAt: "s", EditedAt: "e"},
			`{"id":"3-2","chatRoomId":3,"seq":2,"sendId":7,"rcvId":8,"message":"x","sentAt":"s","editedAt":"e"}`},
		{"escapes as Marshal's", wire.Message{ID: "3-3", Message: "a<b>&\"\\\n\b\f\u2028\u2029\x01\x7f\xff", SentAt: "s"},
			`{"id":"3-3","chatRoomId":0,"seq":0,"sendId":0,"message":"a<b>&\"\\\n\b\f\u2028\u2029\u0001` + "\x7f" + `\ufffd","sentAt":"s"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wire.AppendMessage([]byte("prefix"), tt.m)
			if string(got) != "prefix"+tt.want {
				t.Errorf("AppendMessage = %s\nwant            prefix%s", got, tt.want)
			}
			if m := wire.Marshal(tt.m); string(m) != tt.want {
				t.Errorf("Marshal = %s\nwant      %s", m, tt.want)
			}
		})
	}
}

func TestParseMessageHead(t *testing.T) {
	tomb := wire.Marshal(wire.Tombstone{ID: "2-17", ChatRoomID: 2, Seq: 17, SendID: 8, Deleted: true, SentAt: "s", DeletedAt: "d"})
	msg := wire.AppendMessage(nil, wire.Message{ID: "2-18", ChatRoomID: 2, Seq: 18, SendID: 8, Message: "hi", SentAt: "s"})
	tests := []struct {
		in     string
		id     string
		seq    int64
		wantOK bool
	}{
		{string(msg), "2-18", 18, true},
		{string(tomb), "2-17", 17, true},
		{`{"id":"2-1","chatRoomId":2,"seq":1}`, "2-1", 1, true},
		{`{"type":"READ","chatRoomId":2,"userId":8,"seq":17,"at":"a"}`, "", 0, false},
		{`{"id":"2-1","seq":1,"chatRoomId":2}`, "", 0, false},              // another order
		{`{"id":"2\"-1","chatRoomId":2,"seq":1,"sendId":1}`, "", 0, false}, // an escape in the id
		{`{"id":"","chatRoomId":2,"seq":1,"sendId":1}`, "", 0, false},
		{`{"id":"2-1","chatRoomId":2,"seq":01,"sendId":1}`, "", 0, false},
		{`{"id":"2-1","chatRoomId":2,"seq":0,"sendId":1}`, "", 0, false},
		{`{"id":"2-1","chatRoomId":2,"seq":1.5,"sendId":1}`, "", 0, false},
		{`{"id":"2-1","chatRoomId":2,"seq":99999999999999999999}`, "", 0, false},
		{`{"id":"2-1","chatRoomId":2,"seq":1`, "", 0, false},
		{``, "", 0, false},
	}
	for _, tt := range tests {
		id, seq, ok := wire.ParseMessageHead([]byte(tt.in))
		if id != tt.id || seq != tt.seq || ok != tt.wantOK {
			t.Errorf("ParseMessageHead(%s) = %q, %d, %v; want %q, %d, %v", tt.in, id, seq, ok, tt.id, tt.seq, tt.wantOK)
		}
	}
}

// FuzzAppendMessage: AppendMessage writes what encoding/json (Marshal)
// writes for the same Message, and ParseMessageHead reads back the id and
// seq of every message whose id and seq the services could have written.
func FuzzAppendMessage(f *testing.F) {
	f.Add("2-17", int64(2), int64(17), int64(8), int64(0), "hi", "2026-01-02T03:04:05.000Z", "")
	f.Add("1-1", int64(1), int64(1), int64(-1), int64(3), "<&>\"\\\t\x00\u2028\xff", "s", "e")
	f.Add("a\"b", int64(-5), int64(0), int64(0), int64(-1), "", "", "x")
	f.Fuzz(func(t *testing.T, id string, room, seq, send, rcv int64, text, sentAt, editedAt string) {
		m := wire.Message{ID: id, ChatRoomID: room, Seq: seq, SendID: send, RcvID: rcv, Message: text, SentAt: sentAt, EditedAt: editedAt}
		got := wire.AppendMessage(nil, m)
		if want := wire.Marshal(m); !bytes.Equal(got, want) {
			t.Fatalf("AppendMessage = %s\nMarshal       = %s", got, want)
		}
		pid, pseq, ok := wire.ParseMessageHead(got)
		plain := id != "" && room > 0 && seq > 0
		for i := 0; i < len(id); i++ {
			plain = plain && id[i] >= 0x20 && id[i] < 0x80 && id[i] != '"' && id[i] != '\\'
		}
		if ok != plain || (ok && (pid != id || pseq != seq)) {
			t.Fatalf("ParseMessageHead(%s) = %q, %d, %v", got, pid, pseq, ok)
		}
	})
}

// FuzzParseMessageHead: whatever ParseMessageHead accepts begins with a
// JSON object head that encoding/json decodes to the same id and seq.
func FuzzParseMessageHead(f *testing.F) {
	f.Add([]byte(`{"id":"2-17","chatRoomId":2,"seq":17,"sendId":8,"message":"hi","sentAt":"s"}`))
	f.Add([]byte(`{"id":"x","chatRoomId":1,"seq":9223372036854775807}`))
	f.Add([]byte(`{"type":"READ","chatRoomId":2,"userId":8,"seq":17,"at":"a"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		id, seq, ok := wire.ParseMessageHead(p)
		if !ok {
			return
		}
		i := bytes.Index(p, []byte(`,"seq":`)) + len(`,"seq":`)
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		var m wire.Message
		if err := json.Unmarshal(append(bytes.Clone(p[:i]), '}'), &m); err != nil {
			t.Fatalf("ParseMessageHead(%q) accepted a head encoding/json refuses: %v", p, err)
		}
		if m.ID != id || m.Seq != seq || m.ChatRoomID <= 0 {
			t.Fatalf("ParseMessageHead(%q) = %q, %d; encoding/json reads %+v", p, id, seq, m)
		}
	})
}
