package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// sliceArchive is messages.Archive over a slice of entries in seq order,
// with the contract's cut rules, counting its calls.
type sliceArchive struct {
	entries []json.RawMessage
	seqs    []int64
	calls   atomic.Int64
}

var _ messages.Archive = (*sliceArchive)(nil)

func newSliceArchive(t testing.TB, entries [][]byte) *sliceArchive {
	t.Helper()
	a := &sliceArchive{}
	for i, e := range entries {
		a.entries = append(a.entries, json.RawMessage(e))
		a.seqs = append(a.seqs, seqs(t, entries[i:i+1])[0])
	}
	return a
}

func (a *sliceArchive) Range(_ context.Context, _ int64, lo, hi int64, limit, maxBytes int, asc bool) ([]json.RawMessage, bool, error) {
	a.calls.Add(1)
	var match []json.RawMessage
	for i, s := range a.seqs {
		if s > lo && (hi <= 0 || s < hi) {
			match = append(match, a.entries[i])
		}
	}
	if !asc {
		slices.Reverse(match)
	}
	var out []json.RawMessage
	used := 0
	for _, e := range match {
		if len(out) == limit || (maxBytes > 0 && len(out) > 0 && used+len(e)+1 > maxBytes) {
			return out, true, nil
		}
		used += len(e) + 1
		out = append(out, e)
	}
	return out, false, nil
}

// split is one room's 20 messages (texts of varied sizes) twice: in
// `whole`, a store that keeps them all in Redis (the reference: Redis
// alone), and in `cut`, a store with HistoryLen 8 (Redis keeps 13..20)
// whose older messages are in `arch` (1..15: it overlaps Redis, as a real
// archive does). Both rooms are room 1 of their own key space, and the
// texts have the same sizes, so byte cuts fall at the same seqs.
type split struct {
	whole, cut *fixture
	arch       *sliceArchive
	sent       map[int64]string // cut's entries by seq
}

func newSplit(t *testing.T) *split {
	t.Helper()
	sp := &split{whole: newFixture(t, messages.Config{}), sent: map[int64]string{}}
	var entries [][]byte
	cutFix := newFixture(t, messages.Config{HistoryLen: 8})
	for _, f := range []*fixture{sp.whole, cutFix} {
		if id := f.group(t, 1, 2); id != 1 {
			t.Fatalf("room id %d, want 1", id)
		}
	}
	for i := 1; i <= 20; i++ {
		text := fmt.Sprintf("m%02d %s", i, strings.Repeat("x", (i*37)%200))
		sp.whole.send(t, 1, 1, 0, text)
		m, raw := cutFix.send(t, 1, 1, 0, text)
		sp.sent[m.Seq] = string(raw)
		if m.Seq <= 15 {
			entries = append(entries, raw)
		}
	}
	sp.arch = newSliceArchive(t, entries)
	sp.cut = fixtureOn(t, cutFix.rdb, messages.Config{HistoryLen: 8, Archive: sp.arch})
	sp.cut.keys = cutFix.keys
	sp.cut.msgs = messages.NewStore(cutFix.rdb, cutFix.keys, messages.Config{HistoryLen: 8, Archive: sp.arch})
	if n := cutFix.rdb.ZCard(context.Background(), cutFix.keys.RoomHistory(1)).Val(); n != 8 {
		t.Fatalf("the trimmed room holds %d messages in Redis, want 8 (13..20)", n)
	}
	return sp
}

// entrySize is the size history counts for the entry of seq (with its
// separator), equal in both rooms.
func (sp *split) entrySize(seq int64) int { return len(sp.sent[seq]) + 1 }

// check compares History(q) of the split room with Redis alone.
func (sp *split) check(t *testing.T, q messages.Query) messages.Page {
	t.Helper()
	ctx := context.Background()
	want, err := sp.whole.msgs.History(ctx, 1, q)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sp.cut.msgs.History(ctx, 1, q)
	if err != nil {
		t.Fatalf("History(%+v): %v", q, err)
	}
	gs, ws := seqs(t, raws(got.Messages)), seqs(t, raws(want.Messages))
	if !slices.Equal(gs, ws) || got.HasMore != want.HasMore {
		t.Fatalf("History(%+v) = %v hasMore %v; Redis alone: %v hasMore %v", q, gs, got.HasMore, ws, want.HasMore)
	}
	for i, m := range got.Messages {
		if string(m) != sp.sent[gs[i]] {
			t.Fatalf("History(%+v) entry %s differs from the stored %s", q, m, sp.sent[gs[i]])
		}
	}
	return got
}

// TestHistoryMergesTheArchive: below Redis's oldest entry (13) the page
// continues into the archive, seamlessly: the same entries, order, cuts and
// hasMore as Redis alone holding all 20 messages.
func TestHistoryMergesTheArchive(t *testing.T) {
	sp := newSplit(t)
	// bytes of n entries from seq `from` going down (desc) or up (asc)
	span := func(from int64, n int, asc bool) int {
		total := 0
		for i := range int64(n) {
			if asc {
				total += sp.entrySize(from + i)
			} else {
				total += sp.entrySize(from - i)
			}
		}
		return total
	}
	tests := []struct {
		name     string
		q        messages.Query
		want     []int64
		wantMore bool
	}{
		{"newest first, straddling", messages.Query{Before: 15, Limit: 5}, []int64{14, 13, 12, 11, 10}, true},
		{"oldest first, straddling", messages.Query{After: 9, Limit: 5}, []int64{10, 11, 12, 13, 14}, true},
		{"newest first, ends exactly at the boundary", messages.Query{Before: 17, Limit: 4}, []int64{16, 15, 14, 13}, true},
		{"oldest first, ends exactly at the boundary", messages.Query{After: 8, Limit: 4}, []int64{9, 10, 11, 12}, true},
		{"newest first, all of Redis then the archive's first", messages.Query{Limit: 9}, []int64{20, 19, 18, 17, 16, 15, 14, 13, 12}, true},
		{"oldest first, the archive's last then Redis", messages.Query{After: 11, Before: 15, Ascending: true}, []int64{12, 13, 14}, false},
		{"byte cut at the boundary, newest first", messages.Query{Before: 16, Limit: 50, MaxBytes: span(15, 3, false) + 1}, []int64{15, 14, 13}, true},
		{"byte cut at the boundary, oldest first", messages.Query{After: 9, Limit: 50, MaxBytes: span(10, 3, true) + 1}, []int64{10, 11, 12}, true},
		{"byte cut just past the boundary", messages.Query{Before: 15, Limit: 50, MaxBytes: span(14, 3, false)}, []int64{14, 13, 12}, true},
		{"one entry above the byte bound, in the archive", messages.Query{Before: 13, MaxBytes: 5}, []int64{12}, true},
		{"whole range, newest first", messages.Query{Limit: 500}, seqRange(20, 1), false},
		{"whole range, oldest first", messages.Query{Limit: 500, Ascending: true}, seqRange(1, 20), false},
		{"archive only, between", messages.Query{After: 3, Before: 7}, []int64{6, 5, 4}, false},
		{"Redis only, after the boundary", messages.Query{After: 14, Limit: 3}, []int64{15, 16, 17}, true},
		{"before the first", messages.Query{Before: 1}, []int64{}, false},
		{"limit 1 at the boundary, newest first", messages.Query{Before: 13, Limit: 1}, []int64{12}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sp.check(t, tt.q)
			if got := seqs(t, raws(p.Messages)); !slices.Equal(got, tt.want) || p.HasMore != tt.wantMore {
				t.Errorf("History(%+v) = %v hasMore %v, want %v hasMore %v", tt.q, got, p.HasMore, tt.want, tt.wantMore)
			}
		})
	}
}

// TestHistoryMergeEveryQuery compares the split room with Redis alone for
// every After/Before pair, both orders, several limits and byte bounds.
func TestHistoryMergeEveryQuery(t *testing.T) {
	sp := newSplit(t)
	n := 0
	for after := int64(0); after <= 21; after++ {
		for before := int64(0); before <= 22; before++ {
			for _, limit := range []int{1, 3, 50} {
				for _, maxBytes := range []int{0, 1, 250} {
					for _, asc := range []bool{false, true} {
						sp.check(t, messages.Query{After: after, Before: before, Limit: limit, MaxBytes: maxBytes, Ascending: asc})
						n++
					}
				}
			}
		}
	}
	t.Logf("%d queries agree", n)
}

// TestHistoryAsksTheArchiveOnlyBelowRedis: a page Redis fills alone (and
// cuts, so hasMore is known) costs no archive query; one that reaches below
// Redis's oldest entry, or ends right on it (is there more?), costs one.
func TestHistoryAsksTheArchiveOnlyBelowRedis(t *testing.T) {
	sp := newSplit(t)
	for _, q := range []messages.Query{{Limit: 7}, {Before: 17, Limit: 3}, {After: 12}, {After: 12, Before: 18, Ascending: true}, {Limit: 500, MaxBytes: 300}} {
		before := sp.arch.calls.Load()
		sp.check(t, q)
		if got := sp.arch.calls.Load() - before; got != 0 {
			t.Errorf("History(%+v) asked the archive %d times, want 0", q, got)
		}
	}
	for _, q := range []messages.Query{{}, {Limit: 8}, {Before: 14, Limit: 3}, {After: 5, Limit: 3}, {Ascending: true}} {
		before := sp.arch.calls.Load()
		sp.check(t, q)
		if got := sp.arch.calls.Load() - before; got != 1 {
			t.Errorf("History(%+v) asked the archive %d times, want 1", q, got)
		}
	}
}

// TestHistoryWithAnEmptyArchive: an archive holding nothing leaves Redis's
// pages as they are, oldest message 13.
func TestHistoryWithAnEmptyArchive(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{HistoryLen: 8})
	id := f.group(t, 1)
	for range 20 {
		f.send(t, id, 1, 0, "m")
	}
	plain := f.msgs
	withArch := messages.NewStore(f.rdb, f.keys, messages.Config{HistoryLen: 8, Archive: &sliceArchive{}})
	for _, q := range []messages.Query{{}, {Limit: 8}, {Limit: 9}, {Before: 14, Limit: 3}, {Ascending: true}, {After: 3, Limit: 2}, {After: 1, Before: 5}, {Limit: 8, MaxBytes: 1}} {
		want, err1 := plain.History(ctx, id, q)
		got, err2 := withArch.History(ctx, id, q)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if gs, ws := seqs(t, raws(got.Messages)), seqs(t, raws(want.Messages)); !slices.Equal(gs, ws) || got.HasMore != want.HasMore {
			t.Errorf("History(%+v) = %v hasMore %v, want %v hasMore %v", q, gs, got.HasMore, ws, want.HasMore)
		}
	}
}

// TestSinceMergesTheArchive: Since continues into the archive below Redis's
// oldest entry; oldest then reports what the archive holds.
func TestSinceMergesTheArchive(t *testing.T) {
	sp := newSplit(t)
	ctx := context.Background()
	tests := []struct {
		name       string
		after      int64
		limit      int
		want       []int64
		wantOldest int64
		wantCalls  int64
	}{
		{"from the start", 0, 100, seqRange(1, 20), 1, 1},
		{"below the boundary", 9, 100, seqRange(10, 20), 10, 1},
		{"straddling with a limit", 10, 4, []int64{11, 12, 13, 14}, 11, 1},
		{"cut inside the archive", 2, 3, []int64{3, 4, 5}, 3, 1},
		{"right below the boundary", 11, 2, []int64{12, 13}, 12, 1},
		{"at the boundary: Redis alone", 12, 100, seqRange(13, 20), 13, 0},
		{"above the boundary: Redis alone", 15, 2, []int64{16, 17}, 13, 0},
		{"caught up", 20, 100, []int64{}, 13, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := sp.arch.calls.Load()
			msgs, oldest, err := sp.cut.msgs.Since(ctx, 1, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(t, msgs); !slices.Equal(got, tt.want) || oldest != tt.wantOldest {
				t.Errorf("Since(%d, %d) = %v oldest %d, want %v oldest %d", tt.after, tt.limit, got, oldest, tt.want, tt.wantOldest)
			}
			for _, m := range msgs {
				if s := seqs(t, [][]byte{m})[0]; string(m) != sp.sent[s] {
					t.Errorf("entry %s differs from the stored %s", m, sp.sent[s])
				}
			}
			if got := sp.arch.calls.Load() - calls; got != tt.wantCalls {
				t.Errorf("asked the archive %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

// TestSinceArchiveGapAndLoss: oldest reports a gap neither side fills, and
// a room whose Redis history is gone (lastSeq kept) is read from the
// archive alone; a room without messages never asks the archive.
func TestSinceArchiveGapAndLoss(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{HistoryLen: 5})
	id := f.group(t, 1)
	empty := f.group(t, 1)
	var entries [][]byte
	for i := 1; i <= 10; i++ {
		_, raw := f.send(t, id, 1, 0, "m")
		if i >= 3 && i <= 4 { // the archive lost 1..2 and lags at 4 (a gap 5)
			entries = append(entries, raw)
		}
	}
	arch := newSliceArchive(t, entries)
	s := messages.NewStore(f.rdb, f.keys, messages.Config{HistoryLen: 5, Archive: arch})
	for _, tt := range []struct {
		after      int64
		want       []int64
		wantOldest int64
	}{
		{0, []int64{3, 4, 6, 7, 8, 9, 10}, 3},
		{3, []int64{4, 6, 7, 8, 9, 10}, 4},
		{4, []int64{6, 7, 8, 9, 10}, 6}, // 5 is nowhere: oldest > after+1
	} {
		msgs, oldest, err := s.Since(ctx, id, tt.after, 100)
		if got := seqs(t, msgs); err != nil || !slices.Equal(got, tt.want) || oldest != tt.wantOldest {
			t.Errorf("Since(%d) = %v oldest %d, %v; want %v oldest %d", tt.after, got, oldest, err, tt.want, tt.wantOldest)
		}
	}
	if _, _, err := s.Since(ctx, empty, 0, 100); err != nil {
		t.Fatal(err)
	}
	calls := arch.calls.Load()
	if msgs, oldest, err := s.Since(ctx, empty, 0, 100); err != nil || len(msgs) != 0 || oldest != 0 || arch.calls.Load() != calls {
		t.Errorf("Since(empty room) = %d messages, oldest %d, %v, %d archive calls; want none, 0, no call", len(msgs), oldest, err, arch.calls.Load()-calls)
	}
	if p, err := s.History(ctx, empty, messages.Query{}); err != nil || len(p.Messages) != 0 || arch.calls.Load() != calls {
		t.Errorf("History(empty room) = %d messages, %v, %d archive calls; want none, no call", len(p.Messages), err, arch.calls.Load()-calls)
	}

	// Redis lost the room's history but kept lastSeq: the archive has it all.
	f.rdb.Del(ctx, f.keys.RoomHistory(id))
	msgs, oldest, err := s.Since(ctx, id, 0, 100)
	if got := seqs(t, msgs); err != nil || !slices.Equal(got, []int64{3, 4}) || oldest != 3 {
		t.Errorf("Since(0) without Redis history = %v oldest %d, %v; want [3 4] oldest 3", got, oldest, err)
	}
	p, err := s.History(ctx, id, messages.Query{})
	if got := seqs(t, raws(p.Messages)); err != nil || !slices.Equal(got, []int64{4, 3}) || p.HasMore {
		t.Errorf("History without Redis history = %v hasMore %v, %v; want [4 3]", got, p.HasMore, err)
	}
}

// seqRange lists from..to, counting up or down.
func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; ; {
		out = append(out, s)
		if s == to {
			return out
		}
		if from < to {
			s++
		} else {
			s--
		}
	}
}

// downArchive is an Archive that always fails, as PostgreSQL down does.
type downArchive struct{}

func (downArchive) Range(context.Context, int64, int64, int64, int, int, bool) ([]json.RawMessage, bool, error) {
	return nil, false, errors.New("connection refused")
}

// TestArchiveDown: pages Redis serves alone still work; those reaching
// below it fail with ErrArchiveUnavailable.
func TestArchiveDown(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{HistoryLen: 5})
	id := f.group(t, 1)
	for range 10 {
		f.send(t, id, 1, 0, "m")
	} // Redis keeps 6..10
	s := messages.NewStore(f.rdb, f.keys, messages.Config{HistoryLen: 5, Archive: downArchive{}})
	if p, err := s.History(ctx, id, messages.Query{Limit: 3}); err != nil || len(p.Messages) != 3 {
		t.Errorf("History of Redis's part = %d messages, %v", len(p.Messages), err)
	}
	if msgs, _, err := s.Since(ctx, id, 5, 10); err != nil || len(msgs) != 5 {
		t.Errorf("Since(5) = %d messages, %v", len(msgs), err)
	}
	if _, err := s.History(ctx, id, messages.Query{Before: 7}); !errors.Is(err, messages.ErrArchiveUnavailable) {
		t.Errorf("History below Redis: %v, want ErrArchiveUnavailable", err)
	}
	if _, err := s.History(ctx, id, messages.Query{Ascending: true}); !errors.Is(err, messages.ErrArchiveUnavailable) {
		t.Errorf("History from the start: %v, want ErrArchiveUnavailable", err)
	}
	msgs, oldest, err := s.Since(ctx, id, 2, 10)
	if !errors.Is(err, messages.ErrArchiveUnavailable) || len(msgs) != 5 || oldest != 6 {
		t.Errorf("Since(2) = %d messages, oldest %d, %v; want Redis's 5 from seq 6 and ErrArchiveUnavailable", len(msgs), oldest, err)
	}
	// The hub's back-fill closes what Redis holds, as without an archive.
	got, err := s.ByChannel().Since(ctx, f.keys.RoomMessages(id), 2)
	if err != nil || len(got) != 5 {
		t.Errorf("ByChannel.Since(2) = %d messages, %v; want Redis's 5", len(got), err)
	}
}
