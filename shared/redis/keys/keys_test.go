package keys_test

import (
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/redis/keys"
)

// The names below are a documented contract (docs/redis.md): an
// operator reads them in `redis-cli monitor`, and every service must agree.
func TestNamesForPrefixChat(t *testing.T) {
	k := keys.MustNew("chat")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"RoomIDs", k.RoomIDs(), "chat:ids:room"},
		{"RoomMeta", k.RoomMeta(2), "chat:room:{2}:meta"},
		{"RoomMembers", k.RoomMembers(2), "chat:room:{2}:members"},
		{"RoomHistory", k.RoomHistory(2), "chat:room:{2}:history"},
		{"RoomSessions", k.RoomSessions(2), "chat:room:{2}:sessions"},
		{"RoomPresence", k.RoomPresence(2), "chat:room:{2}:presence"},
		{"RoomMessages", k.RoomMessages(2), "chat:room:{2}:messages"},
		{"RoomEvents", k.RoomEvents(2), "chat:room:{2}:events"},
		{"RoomMeta large id", k.RoomMeta(9007199254740993), "chat:room:{9007199254740993}:meta"},
		{"UserRooms", k.UserRooms(8), "chat:user:{u8}:rooms"},
		{"UserSessions", k.UserSessions(8), "chat:user:{u8}:sessions"},
		{"Direct ordered", k.Direct(3, 8), "chat:direct:3:8"},
		{"Direct reversed", k.Direct(8, 3), "chat:direct:3:8"},
		{"Direct multi-digit order is numeric", k.Direct(10, 9), "chat:direct:9:10"},
		{"Session", k.Session("ab"), "chat:session:ab"},
		{"Nodes", k.Nodes(), "chat:nodes"},
		{"NodeSessions", k.NodeSessions("n1"), "chat:node:n1:sessions"},
		{"NodeControl", k.NodeControl("n1"), "chat:node:n1:control"},
		{"NodeEnded", k.NodeEnded("n1"), "chat:node:n1:ended"},
		{"Control", k.Control(), "chat:control"},
		{"Prefix", k.Prefix(), "chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestPrefixIsUsedEverywhere(t *testing.T) {
	k := keys.MustNew("t1a2:x")
	for _, name := range []string{
		k.RoomIDs(), k.RoomMeta(1), k.RoomMessages(1), k.UserRooms(1), k.UserSessions(1),
		k.Direct(1, 2), k.Session("s"), k.Nodes(), k.NodeSessions("n"), k.NodeControl("n"), k.Control(),
		k.NodeEnded("n"), k.MasterCheck("n"),
	} {
		if !strings.HasPrefix(name, "t1a2:x:") {
			t.Errorf("%q does not start with the prefix and a colon", name)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"chat", true},
		{"chat:staging", true},
		{"t0123abcd", true},
		{"", false},
		{"{chat}", false},
		{"ch{at", false},
		{"chat}", false},
		{"ch at", false},
		{"chat\t", false},
		{"chat\n", false},
		{"\rchat", false},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			s, err := keys.New(tt.prefix)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%q) error = %v, want ok=%v", tt.prefix, err, tt.ok)
			}
			if tt.ok && s.Prefix() != tt.prefix {
				t.Errorf("Prefix() = %q", s.Prefix())
			}
		})
	}
}

func TestMustNewPanicsOnBadPrefix(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustNew(\"\") did not panic")
		}
	}()
	keys.MustNew("")
}

func TestRoomOfMessages(t *testing.T) {
	k := keys.MustNew("chat")
	for _, id := range []int64{1, 2, 42, 1 << 53} {
		got, ok := k.RoomOfMessages(k.RoomMessages(id))
		if !ok || got != id {
			t.Errorf("RoomOfMessages(RoomMessages(%d)) = %d, %v", id, got, ok)
		}
	}
	rejected := []string{
		"",
		k.RoomEvents(2),
		k.RoomMeta(2),
		k.RoomMessages(0),
		k.RoomMessages(-3),
		keys.MustNew("other").RoomMessages(2),
		keys.MustNew("chatx").RoomMessages(2),
		"chat:room:{}:messages",
		"chat:room:{abc}:messages",
		"chat:room:{2}:messages:x",
		"chat:room:2:messages",
		"chat:room:{2:messages",
		"x" + k.RoomMessages(2),
		k.Control(),
		k.NodeControl("n1"),
	}
	for _, ch := range rejected {
		t.Run(ch, func(t *testing.T) {
			if id, ok := k.RoomOfMessages(ch); ok {
				t.Errorf("RoomOfMessages(%q) = %d, true; want rejection", ch, id)
			}
		})
	}
}

// crc16 is CRC16-XMODEM (poly 0x1021, init 0), the checksum Redis Cluster
// uses to map keys to slots.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// slot is Redis Cluster's HASH_SLOT: the CRC16 of the hash tag (the text
// between the first "{" and the next "}", when non-empty) or of the key.
func slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return crc16([]byte(key)) % 16384
}

func TestSlotHelperMatchesRedis(t *testing.T) {
	// Reference values from the Redis Cluster specification and CLUSTER KEYSLOT.
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#x, want 0x31c3", got)
	}
	for key, want := range map[string]uint16{"foo": 12182, "bar": 5061, "{user1000}.following": 3443, "foo{}{bar}": 8363, "chat:room:{42}:meta": 8000} {
		if got := slot(key); got != want {
			t.Errorf("slot(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestKeysOfOneRoomShareASlot(t *testing.T) {
	k := keys.MustNew("chat")
	const id = 42
	want := crc16([]byte("42")) % 16384
	for _, name := range []string{
		k.RoomMeta(id), k.RoomMembers(id), k.RoomHistory(id), k.RoomSessions(id),
		k.RoomPresence(id), k.RoomMessages(id), k.RoomEvents(id),
	} {
		if got := slot(name); got != want {
			t.Errorf("slot(%q) = %d, want %d (the slot of tag \"42\")", name, got, want)
		}
	}
	if slot(k.RoomMeta(42)) == slot(k.RoomMeta(43)) {
		t.Error("rooms 42 and 43 share a slot; the tag does not spread rooms")
	}
}

func TestKeysOfOneUserShareASlot(t *testing.T) {
	k := keys.MustNew("chat")
	if a, b := slot(k.UserRooms(8)), slot(k.UserSessions(8)); a != b || a != crc16([]byte("u8"))%16384 {
		t.Errorf("UserRooms(8) slot %d, UserSessions(8) slot %d, want both %d", a, b, crc16([]byte("u8"))%16384)
	}
}

func TestChannelKind(t *testing.T) {
	s := keys.MustNew("chat")
	cases := map[string]string{
		s.RoomMessages(42):        "room",
		s.RoomEvents(42):          "room_events",
		s.UserNotifications(7):    "user",
		s.NodeControl("ws-a"):     "node_control",
		s.NodeProbe("ws-a"):       "probe",
		s.Control():               "control",
		"other:room:{1}:messages": "other",
		s.RoomHistory(42):         "other",
	}
	for ch, want := range cases {
		if got := s.ChannelKind(ch); got != want {
			t.Errorf("ChannelKind(%q) = %q, want %q", ch, got, want)
		}
	}
}
