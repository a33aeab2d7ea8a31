package messages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

func raws(ms []json.RawMessage) [][]byte {
	out := make([][]byte, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

func TestHistoryPaging(t *testing.T) {
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1)
	sent := map[int64]string{}
	for i := 1; i <= 10; i++ {
		_, raw := f.send(t, id, 1, 0, fmt.Sprintf("m%d", i))
		sent[int64(i)] = string(raw)
	}
	tests := []struct {
		name    string
		q       messages.Query
		want    []int64
		hasMore bool
	}{
		{"default: newest first", messages.Query{}, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, false},
		{"limit", messages.Query{Limit: 3}, []int64{10, 9, 8}, true},
		{"limit equal to count", messages.Query{Limit: 10}, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, false},
		{"before", messages.Query{Before: 8, Limit: 3}, []int64{7, 6, 5}, true},
		{"before, last page", messages.Query{Before: 4, Limit: 3}, []int64{3, 2, 1}, false},
		{"before the first", messages.Query{Before: 1}, []int64{}, false},
		{"after alone is ascending", messages.Query{After: 7}, []int64{8, 9, 10}, false},
		{"after alone with limit", messages.Query{After: 2, Limit: 3}, []int64{3, 4, 5}, true},
		{"after the last", messages.Query{After: 10}, []int64{}, false},
		{"between: newest first", messages.Query{After: 2, Before: 6}, []int64{5, 4, 3}, false},
		{"between ascending", messages.Query{After: 2, Before: 6, Ascending: true}, []int64{3, 4, 5}, false},
		{"between with limit", messages.Query{After: 2, Before: 9, Limit: 2}, []int64{8, 7}, true},
		{"ascending", messages.Query{Ascending: true, Limit: 2}, []int64{1, 2}, true},
		{"ascending before", messages.Query{Ascending: true, Before: 4}, []int64{1, 2, 3}, false},
		{"negative limit means default", messages.Query{Limit: -1, Before: 3}, []int64{2, 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.msgs.History(context.Background(), id, tt.q)
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			if got := seqs(t, raws(p.Messages)); !slices.Equal(got, tt.want) || p.HasMore != tt.hasMore {
				t.Errorf("History(%+v) = %v hasMore %v, want %v hasMore %v", tt.q, got, p.HasMore, tt.want, tt.hasMore)
			}
			for _, m := range p.Messages {
				var seq struct{ Seq int64 }
				_ = json.Unmarshal(m, &seq)
				if string(m) != sent[seq.Seq] {
					t.Errorf("entry %s differs from the sent JSON %s", m, sent[seq.Seq])
				}
			}
		})
	}
}

func TestHistoryLimitCap(t *testing.T) {
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1)
	for i := 0; i < 501; i++ {
		f.send(t, id, 1, 0, "m")
	}
	p, err := f.msgs.History(context.Background(), id, messages.Query{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, raws(p.Messages)); len(got) != 500 || got[0] != 501 || got[499] != 2 || !p.HasMore {
		t.Errorf("History(limit 10000) returned %d messages (%d..%d), hasMore %v; want 500 (501..2), true",
			len(got), got[0], got[len(got)-1], p.HasMore)
	}
	p, _ = f.msgs.History(context.Background(), id, messages.Query{})
	if len(p.Messages) != 50 || !p.HasMore {
		t.Errorf("default page has %d messages, hasMore %v; want 50, true", len(p.Messages), p.HasMore)
	}
}

func TestHistoryOfEmptyOrMissingRoom(t *testing.T) {
	f := newFixture(t, messages.Config{})
	for _, id := range []int64{f.group(t, 1), 987654} {
		p, err := f.msgs.History(context.Background(), id, messages.Query{})
		if err != nil || len(p.Messages) != 0 || p.HasMore {
			t.Errorf("History(room %d) = %d messages, hasMore %v, %v; want empty", id, len(p.Messages), p.HasMore, err)
		}
	}
}

func TestSince(t *testing.T) {
	f := newFixture(t, messages.Config{HistoryLen: 5})
	id := f.group(t, 1)
	empty := f.group(t, 1)
	for i := 0; i < 10; i++ {
		f.send(t, id, 1, 0, "m")
	} // retains 6..10
	tests := []struct {
		name       string
		room       int64
		after      int64
		limit      int
		want       []int64
		wantOldest int64
	}{
		{"from the start", id, 0, 100, []int64{6, 7, 8, 9, 10}, 6},
		{"gap before oldest", id, 2, 100, []int64{6, 7, 8, 9, 10}, 6},
		{"after with limit", id, 7, 2, []int64{8, 9}, 6},
		{"limit 1", id, 5, 1, []int64{6}, 6},
		{"caught up", id, 10, 100, []int64{}, 6},
		{"ahead of the room", id, 50, 100, []int64{}, 6},
		{"empty room", empty, 0, 100, []int64{}, 0},
		{"missing room", 987654, 0, 100, []int64{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, oldest, err := f.msgs.Since(context.Background(), tt.room, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("Since: %v", err)
			}
			if got := seqs(t, msgs); !slices.Equal(got, tt.want) || oldest != tt.wantOldest {
				t.Errorf("Since(%d, %d) = %v oldest %d, want %v oldest %d", tt.after, tt.limit, got, oldest, tt.want, tt.wantOldest)
			}
		})
	}
}

func TestByChannelReadsTheRoomOfAChannel(t *testing.T) {
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1)
	for range 3 {
		f.send(t, id, 1, 0, "m")
	}
	ctx := context.Background()
	bc := f.msgs.ByChannel()
	msgs, err := bc.Since(ctx, f.keys.RoomMessages(id), 1)
	if err != nil {
		t.Fatalf("Since: %v", err)
	}
	if got := seqs(t, msgs); !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("Since(messages channel of room %d, 1) = %v, want [2 3]", id, got)
	}
	if head, err := bc.Head(ctx, f.keys.RoomMessages(id)); err != nil || head != 3 {
		t.Errorf("Head = %d, %v, want 3", head, err)
	}
	// A room's other channels and users' channels have no history.
	for _, ch := range []string{f.keys.RoomEvents(id), f.keys.UserNotifications(1)} {
		msgs, err := bc.Since(ctx, ch, 0)
		head, herr := bc.Head(ctx, ch)
		if err != nil || herr != nil || len(msgs) != 0 || head != 0 {
			t.Errorf("%s: Since = %d messages, %v; Head = %d, %v; want none", ch, len(msgs), err, head, herr)
		}
	}
}
