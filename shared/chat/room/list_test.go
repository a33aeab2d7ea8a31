package room_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
)

func TestGetAndViewFor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	g := f.group(t, 1, 2)
	tests := []struct {
		name    string
		room    int64
		user    int64
		wantErr error
	}{
		{"member", g.ID, 2, nil},
		{"creator", g.ID, 1, nil},
		{"non-member", g.ID, 3, room.ErrNotFound},
		{"missing room", g.ID + 100, 1, room.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := f.rooms.ViewFor(ctx, tt.room, tt.user)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ViewFor = %+v, %v; want %v", r, err, tt.wantErr)
			}
			if err == nil && (r.ID != g.ID || r.Name != "team" || !slices.Equal(r.MemberIDs, []int64{1, 2})) {
				t.Errorf("ViewFor = %+v", r)
			}
			ok, err := f.rooms.IsMember(ctx, tt.room, tt.user)
			if err != nil || ok != (tt.wantErr == nil) {
				t.Errorf("IsMember = %v, %v", ok, err)
			}
		})
	}
	if _, err := f.rooms.Get(ctx, g.ID+100); !errors.Is(err, room.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if r, err := f.rooms.Get(ctx, g.ID); err != nil || r.ID != g.ID || r.Type != room.TypeGroup {
		t.Errorf("Get = %+v, %v", r, err)
	}
}

func TestListForUserNewestActivityFirst(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	// Created in id order a < b < c < quiet; activity order is set below.
	a := f.group(t, 1, 2).ID
	nextMilli(t)
	b := f.direct(t, 1, 2).ID
	nextMilli(t)
	c := f.group(t, 1, 3).ID
	nextMilli(t)
	quiet := f.group(t, 1).ID
	nextMilli(t)
	elsewhere := f.group(t, 2, 3).ID // user 1 is not a member

	last := map[int64][]byte{}
	for _, s := range []struct{ room, sender int64 }{{c, 3}, {b, 1}, {a, 2}, {c, 1}, {b, 2}, {elsewhere, 2}} {
		nextMilli(t)
		_, raw, err := f.msgs.Send(ctx, s.room, s.sender, 0, "to "+strconv.FormatInt(s.room, 10))
		if err != nil {
			t.Fatal(err)
		}
		last[s.room] = raw
	}
	nextMilli(t)
	fresh := f.group(t, 4, 1).ID // newest room, no messages yet

	rooms, err := f.rooms.ListForUser(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var order []int64
	for _, r := range rooms {
		order = append(order, r.ID)
	}
	if want := []int64{fresh, b, c, a, quiet}; !slices.Equal(order, want) {
		t.Fatalf("ListForUser order = %v, want %v (fresh, b, c, a, quiet)", order, want)
	}
	for _, r := range rooms {
		if string(r.LastMessage) != string(last[r.ID]) {
			t.Errorf("room %d LastMessage = %s, want %s", r.ID, r.LastMessage, last[r.ID])
		}
		var m wire.Message
		if r.LastMessage != nil {
			_ = json.Unmarshal(r.LastMessage, &m)
		}
		if r.LastSeq != m.Seq {
			t.Errorf("room %d LastSeq = %d, last message seq %d", r.ID, r.LastSeq, m.Seq)
		}
		if (r.LastMessageAt == "") != (r.LastMessage == nil) || r.LastMessageAt != m.SentAt {
			t.Errorf("room %d LastMessageAt = %q, last message sent at %q", r.ID, r.LastMessageAt, m.SentAt)
		}
	}
	if none, err := f.rooms.ListForUser(ctx, 77); err != nil || len(none) != 0 {
		t.Errorf("ListForUser(no rooms) = %v, %v", none, err)
	}
}

func TestListForUserSkipsMissingRooms(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, room.Config{})
	r := f.group(t, 1)
	f.rdb.SAdd(ctx, f.keys.UserRooms(1), 999, "junk")
	rooms, err := f.rooms.ListForUser(ctx, 1)
	if err != nil || len(rooms) != 1 || rooms[0].ID != r.ID {
		t.Errorf("ListForUser = %+v, %v; want only room %d", rooms, err, r.ID)
	}
}
