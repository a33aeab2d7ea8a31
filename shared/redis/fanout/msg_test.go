package fanout_test

import (
	"testing"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/fanout"
)

// TestNewMsgReadsTheWireHead: messages and tombstones, as the wire package
// writes them, give their id and seq; events give neither.
func TestNewMsgReadsTheWireHead(t *testing.T) {
	tests := []struct {
		payload []byte
		id      string
		seq     int64
	}{
		{wire.AppendMessage(nil, wire.Message{ID: "2-17", ChatRoomID: 2, Seq: 17, SendID: 8, RcvID: 3, Message: `"seq":99`, SentAt: "s"}), "2-17", 17},
		{wire.Marshal(wire.Tombstone{ID: "2-18", ChatRoomID: 2, Seq: 18, SendID: 8, Deleted: true, SentAt: "s", DeletedAt: "d"}), "2-18", 18},
		{wire.Marshal(wire.ReadEvent{Type: wire.EventRead, ChatRoomID: 2, UserID: 8, Seq: 17, At: "a"}), "", 0},
	}
	for _, tt := range tests {
		if m := fanout.NewMsg("ch", tt.payload); m.ID != tt.id || m.Seq != tt.seq || string(m.Payload) != string(tt.payload) {
			t.Errorf("NewMsg(%s) = id %q seq %d; want %q, %d", tt.payload, m.ID, m.Seq, tt.id, tt.seq)
		}
	}
}
