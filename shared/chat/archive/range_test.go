package archive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/archive"
)

// archiveReader is messages.Archive, copied here because archive must not
// import messages (messages declares the interface; Store satisfies it).
type archiveReader interface {
	Range(ctx context.Context, roomID, lo, hi int64, limit, maxBytes int, asc bool) (entries []json.RawMessage, more bool, err error)
}

var _ archiveReader = (*archive.Store)(nil)

// entry is the body of seq in the rooms of TestRange: 11 bytes, 12 with
// its separator.
func entry(seq int64) string { return fmt.Sprintf(`{"seq":%-3d}`, seq) }

const entryCost = 12

// seqsOf parses the seq of each entry.
func seqsOf(t *testing.T, entries []json.RawMessage) []int64 {
	t.Helper()
	out := []int64{}
	for _, e := range entries {
		var m struct{ Seq int64 }
		if err := json.Unmarshal(e, &m); err != nil {
			t.Fatalf("entry %q: %v", e, err)
		}
		out = append(out, m.Seq)
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for i := from; ; {
		out = append(out, i)
		if i == to {
			return out
		}
		if from < to {
			i++
		} else {
			i--
		}
	}
}

// TestRange is the messages.Archive contract: room 1 holds seqs 1..10 of
// entryCost bytes each; room 2 holds seqs 1..3 with seq 2 of 1000 bytes;
// room 3 is a neighbour that must not leak in.
func TestRange(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var rows []archive.MessageRow
	for seq := int64(1); seq <= 10; seq++ {
		rows = append(rows, row(1, seq, entry(seq), 1, 0))
		rows = append(rows, row(3, seq, entry(100+seq), 1, 0))
	}
	big := fmt.Sprintf(`{"seq":2,"pad":"%s"}`, strings.Repeat("x", 1000))
	rows = append(rows, row(2, 1, entry(1), 1, 0), row(2, 2, big, 1, 0), row(2, 3, entry(3), 1, 0))
	put(t, s, rows...)

	for _, tt := range []struct {
		name         string
		room, lo, hi int64
		limit, bytes int
		asc          bool
		want         []int64
		more         bool
	}{
		{"all, newest first", 1, 0, 0, 100, 0, false, span(10, 1), false},
		{"all, oldest first", 1, 0, 0, 100, 0, true, span(1, 10), false},
		{"negative hi is unbounded", 1, 0, -5, 100, 0, true, span(1, 10), false},
		{"bounds are exclusive, asc", 1, 3, 8, 100, 0, true, span(4, 7), false},
		{"bounds are exclusive, desc", 1, 3, 8, 100, 0, false, span(7, 4), false},
		{"lo only", 1, 8, 0, 100, 0, true, span(9, 10), false},
		{"hi only", 1, 0, 3, 100, 0, false, span(2, 1), false},
		{"empty between", 1, 4, 5, 100, 0, true, []int64{}, false},
		{"lo above hi", 1, 8, 3, 100, 0, true, []int64{}, false},
		{"unknown room", 9, 0, 0, 100, 0, false, []int64{}, false},
		{"limit cuts, desc", 1, 0, 0, 3, 0, false, span(10, 8), true},
		{"limit cuts, asc", 1, 0, 0, 3, 0, true, span(1, 3), true},
		{"limit cuts below hi", 1, 0, 9, 3, 0, false, span(8, 6), true},
		{"limit reaches the end exactly", 1, 7, 0, 3, 0, true, span(8, 10), false},
		{"limit equals the count", 1, 0, 0, 10, 0, false, span(10, 1), false},
		{"limit 0 with matches", 1, 0, 0, 0, 0, true, []int64{}, true},
		{"limit 0 without", 1, 10, 0, 0, 0, true, []int64{}, false},
		{"negative limit is 0", 1, 0, 0, -1, 0, true, []int64{}, true},
		{"bytes for three", 1, 0, 0, 100, 3 * entryCost, false, span(10, 8), true},
		{"bytes one short of three", 1, 0, 0, 100, 3*entryCost - 1, true, span(1, 2), true},
		{"bytes for all exactly", 1, 0, 0, 100, 10 * entryCost, true, span(1, 10), false},
		{"bytes and limit, limit first", 1, 0, 0, 2, 5 * entryCost, true, span(1, 2), true},
		{"bytes and limit, bytes first", 1, 0, 0, 5, 2 * entryCost, true, span(1, 2), true},
		{"bytes below one entry: it alone", 1, 0, 0, 100, 1, false, []int64{10}, true},
		{"bytes below the only entry: no more", 1, 9, 0, 100, 1, true, []int64{10}, false},
		{"negative bytes is no bound", 1, 0, 0, 100, -1, true, span(1, 10), false},
		{"oversized first entry alone, asc", 2, 1, 0, 100, 100, true, []int64{2}, true},
		{"oversized first entry alone, desc", 2, 0, 3, 100, 100, false, []int64{2}, true},
		{"oversized entry stops the page", 2, 0, 0, 100, 100, true, []int64{1}, true},
		{"oversized entry within bytes", 2, 0, 0, 100, 2000, false, span(3, 1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := s.Range(ctx, tt.room, tt.lo, tt.hi, tt.limit, tt.bytes, tt.asc)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("nil entries, want an empty slice")
			}
			if seqs := seqsOf(t, got); !slices.Equal(seqs, tt.want) || more != tt.more {
				t.Fatalf("Range(room %d, lo %d, hi %d, limit %d, bytes %d, asc %v) = %v more %v; want %v more %v",
					tt.room, tt.lo, tt.hi, tt.limit, tt.bytes, tt.asc, seqs, more, tt.want, tt.more)
			}
		})
	}
}

// TestRangePaging: paging with a byte bound in both directions yields every
// entry once, each page within the bound.
func TestRangePaging(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var rows []archive.MessageRow
	for seq := int64(1); seq <= 25; seq++ {
		rows = append(rows, row(1, seq, fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, seq, strings.Repeat("y", int(seq*7%30))), 1, 0))
	}
	put(t, s, rows...)
	const bound = 100
	for _, asc := range []bool{true, false} {
		var got []int64
		lo, hi := int64(0), int64(0)
		for page := 0; ; page++ {
			if page > 25 {
				t.Fatal("paging does not end")
			}
			entries, more, err := s.Range(ctx, 1, lo, hi, 500, bound, asc)
			if err != nil {
				t.Fatal(err)
			}
			size := 0
			for _, e := range entries {
				size += len(e) + 1
			}
			if size > bound || len(entries) == 0 {
				t.Fatalf("page of %d entries, %d bytes, bound %d", len(entries), size, bound)
			}
			seqs := seqsOf(t, entries)
			got = append(got, seqs...)
			if !more {
				break
			}
			if last := seqs[len(seqs)-1]; asc {
				lo = last
			} else {
				hi = last
			}
		}
		want := span(1, 25)
		if !asc {
			want = span(25, 1)
		}
		if !slices.Equal(got, want) {
			t.Errorf("asc %v: paged %v, want %v", asc, got, want)
		}
	}
}
