package keys_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

// TestMain gives the tests a lazily started cluster (redistest.SharedCluster)
// for the CLUSTER KEYSLOT comparison; only that test starts it.
func TestMain(m *testing.M) { redistest.Main(m, &srv) }

func TestArchiveNames(t *testing.T) {
	k := keys.MustNew("chat")
	tag := keys.SlotTag(8000)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"ArchiveStream", k.ArchiveStream(), "chat:archive"},
		{"ArchiveSlotStream", k.ArchiveSlotStream(8000), "chat:archive:{" + tag + "}:slot:8000"},
		{"ArchiveStreamFor single", k.ArchiveStreamFor(42, false), "chat:archive"},
		{"ArchiveStreamFor sharded", k.ArchiveStreamFor(42, true), "chat:archive:{" + tag + "}:slot:8000"},
		{"ArchiveSlotStream 0", k.ArchiveSlotStream(0), "chat:archive:{" + keys.SlotTag(0) + "}:slot:0"},
		{"ArchiveGroup", keys.ArchiveGroup, "archiver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if !strings.HasPrefix(keys.MustNew("p:x").ArchiveSlotStream(5), "p:x:archive:{") {
		t.Error("ArchiveSlotStream does not start with the prefix")
	}
}

// TestRoomSlot checks RoomSlot against the reference slot function above
// (itself checked against the specification's values) and known slots.
func TestRoomSlot(t *testing.T) {
	for id, want := range map[int64]int{42: 8000, 1: 9842, 2: 5649, 3: 1584, 4: 14039} {
		if got := keys.RoomSlot(id); got != want {
			t.Errorf("RoomSlot(%d) = %d, want %d", id, got, want)
		}
	}
	k := keys.MustNew("chat")
	ids := []int64{9007199254740993, 1<<63 - 1}
	for id := int64(1); id <= 20000; id++ {
		ids = append(ids, id)
	}
	for _, id := range ids {
		if got, want := keys.RoomSlot(id), int(slot(k.RoomMeta(id))); got != want {
			t.Fatalf("RoomSlot(%d) = %d, but the room's keys are on slot %d", id, got, want)
		}
	}
}

// TestSlotTag: every slot has a tag of at most 4 characters over [a-z0-9]
// that hashes to it, and the slot's archive stream is on the slot.
func TestSlotTag(t *testing.T) {
	k := keys.MustNew("chat")
	seen := map[string]int{}
	for s := range 16384 {
		tag := keys.SlotTag(s)
		if tag == "" || len(tag) > 4 || strings.Trim(tag, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Fatalf("SlotTag(%d) = %q, want 1 to 4 characters of [a-z0-9]", s, tag)
		}
		if got := int(crc16([]byte(tag)) % 16384); got != s {
			t.Fatalf("SlotTag(%d) = %q hashes to slot %d", s, tag, got)
		}
		if got := int(slot(k.ArchiveSlotStream(s))); got != s {
			t.Fatalf("ArchiveSlotStream(%d) = %q is on slot %d", s, k.ArchiveSlotStream(s), got)
		}
		if prev, ok := seen[tag]; ok {
			t.Fatalf("slots %d and %d share tag %q", prev, s, tag)
		}
		seen[tag] = s
	}
	if got := slot(k.ArchiveStreamFor(42, true)); got != slot(k.RoomHistory(42)) {
		t.Errorf("room 42's archive stream is on slot %d, its history on %d", got, slot(k.RoomHistory(42)))
	}
}

// TestSlotsAgreeWithRedisCluster asks a real Redis Cluster (CLUSTER
// KEYSLOT) where every slot's archive stream and the keys of rooms 1 to
// 2000 live.
func TestSlotsAgreeWithRedisCluster(t *testing.T) {
	c := redistest.SharedCluster(t)
	rdb := redis.NewClient(&redis.Options{Addr: c.Masters[0].Addr})
	defer rdb.Close()
	ctx := context.Background()
	k := keys.MustNew("chat")
	type check struct {
		key  string
		want int
		cmd  *redis.IntCmd
	}
	var checks []check
	for s := range 16384 {
		checks = append(checks, check{key: k.ArchiveSlotStream(s), want: s})
	}
	for id := int64(1); id <= 2000; id++ {
		checks = append(checks, check{key: k.RoomHistory(id), want: keys.RoomSlot(id)})
	}
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range checks {
			checks[i].cmd = p.ClusterKeySlot(ctx, checks[i].key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range checks {
		if got := int(ch.cmd.Val()); got != ch.want {
			t.Fatalf("CLUSTER KEYSLOT %s = %d, want %d", ch.key, got, ch.want)
		}
	}
	t.Logf("%d keys checked; longest tag %q", len(checks), longestTag())
}

func longestTag() string {
	var long string
	for s := range 16384 {
		if tag := keys.SlotTag(s); len(tag) > len(long) {
			long = tag
		}
	}
	return long + " (" + strconv.Itoa(len(long)) + " characters)"
}
