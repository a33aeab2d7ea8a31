package ctl_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// chatctl migrate creates the archive's schema; chatctl restore refuses a
// Redis that holds rooms, and with an empty one (or -force) writes the
// archived rooms back.
func TestMigrateAndRestore(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	vars := map[string]string{"REDIS_URL": srv.URL(), "REDIS_PREFIX": prefix, "ARCHIVE_DATABASE_URL": archivetest.NewDB(t)}

	if _, _, err := run(t, map[string]string{"REDIS_URL": srv.URL()}, "migrate"); err == nil ||
		!strings.Contains(err.Error(), "ARCHIVE_DATABASE_URL is required") {
		t.Fatalf("migrate without ARCHIVE_DATABASE_URL: %v", err)
	}
	out, _, err := run(t, vars, "migrate")
	if err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %q, %v", out, err)
	}
	store, err := archive.Open(ctx, vars["ARCHIVE_DATABASE_URL"], archive.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.PutRooms(ctx, []archive.RoomRow{{ID: 7, Type: "group", Name: "ops", CreatedBy: 1,
		CreatedAt: "2026-12-06T00:00:00Z", Members: []int64{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutMessages(ctx, []archive.MessageRow{{Room: 7, Seq: 1, RevMS: 1,
		Body: `{"id":"7-1","chatRoomId":7,"seq":1,"sendId":1,"message":"hi","sentAt":"2026-12-06T00:00:01Z"}`}}); err != nil {
		t.Fatal(err)
	}

	rdb := srv.Client(t)
	ks := keys.MustNew(prefix)
	if err := rdb.Set(ctx, ks.RoomIDs(), 3, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, vars, "restore"); err == nil || !strings.Contains(err.Error(), "holds rooms already") {
		t.Fatalf("restore into a Redis holding rooms: %v, want a refusal", err)
	}
	out, _, err = run(t, vars, "restore", "-force")
	if err != nil || strings.TrimSpace(out) != "restored 1 rooms and 1 messages" {
		t.Fatalf("restore -force: %q, %v", out, err)
	}
	r, err := room.NewStore(rdb, ks, room.Config{}).Get(ctx, 7)
	if err != nil || r.Name != "ops" || !slices.Equal(r.MemberIDs, []int64{1, 2}) || r.LastSeq != 1 {
		t.Fatalf("restored room %+v, %v", r, err)
	}
	if n, _ := rdb.Get(ctx, ks.RoomIDs()).Int64(); n != 7 {
		t.Fatalf("room id counter after restore: %d, want 7", n)
	}
}
