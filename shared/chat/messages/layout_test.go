package messages_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestSendJSONIsTheWireLayout: the JSON send.lua stores and publishes (its
// head built in Lua, its tail by wire.AppendMessageTail) is byte for byte
// what wire.AppendMessage writes for the message it decodes to, and
// wire.ParseMessageHead reads its id and seq. A change to the head in
// send.lua that the wire encoder does not share fails here.
func TestSendJSONIsTheWireLayout(t *testing.T) {
	f := newFixture(t, messages.Config{})
	ctx := context.Background()
	grp, dm := f.group(t, 1, 2, 3), f.direct(t, 4, 5)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomMessages(grp), f.keys.RoomMessages(dm))
	texts := []string{"hi", `"quoted" \ back`, "<b>&amp;</b>", "tab\tline\nreturn\r", "日本語 😀", "a\u2028b\u2029c", "del\x7f"}
	for i, text := range texts {
		for _, c := range []struct{ room, sender, rcv int64 }{{grp, 1, 0}, {grp, 2, 3}, {dm, 4, 0}} {
			sent, raw := f.send(t, c.room, c.sender, c.rcv, text)
			var m wire.Message
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("text %d: %s: %v", i, raw, err)
			}
			if m != sent {
				t.Errorf("text %d: stored %+v, Send returned %+v", i, m, sent)
			}
			if want := wire.AppendMessage(nil, m); string(raw) != string(want) {
				t.Errorf("text %d: send.lua wrote %s\nthe wire layout is %s", i, raw, want)
			}
			if id, seq, ok := wire.ParseMessageHead(raw); !ok || id != m.ID || seq != m.Seq {
				t.Errorf("text %d: ParseMessageHead(%s) = %q, %d, %v", i, raw, id, seq, ok)
			}
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil || msg.Payload != string(raw) {
				t.Fatalf("text %d: published %q, %v; stored %s", i, msg.Payload, err, raw)
			}
		}
	}
}
