package messages_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// TestHistoryByteBound: a page stops before MaxBytes (entries counted with
// one separator each) and says hasMore; paging on with before/after yields
// every message exactly once. A single entry above the bound still comes
// back alone, so paging always advances.
func TestHistoryByteBound(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, messages.Config{})
	id := f.group(t, 1)
	size := 0
	for i := 1; i <= 25; i++ {
		_, raw := f.send(t, id, 1, 0, fmt.Sprintf("%02d %s", i, strings.Repeat("x", 1000)))
		size = max(size, len(raw)+1)
	}
	bound := 3*size + size/2 // room for three entries, not four
	for _, asc := range []bool{false, true} {
		t.Run(fmt.Sprint("ascending=", asc), func(t *testing.T) {
			var got []int64
			q := messages.Query{Limit: 500, MaxBytes: bound, Ascending: asc}
			for pages := 0; ; pages++ {
				if pages > 25 {
					t.Fatal("paging does not end")
				}
				p, err := f.msgs.History(ctx, id, q)
				if err != nil {
					t.Fatal(err)
				}
				total := 0
				for _, m := range p.Messages {
					total += len(m) + 1
				}
				if total > bound {
					t.Fatalf("page of %d bytes, bound %d", total, bound)
				}
				page := seqs(t, raws(p.Messages))
				if len(page) == 0 {
					t.Fatalf("empty page after %v", got)
				}
				got = append(got, page...)
				if !p.HasMore {
					break
				}
				if last := page[len(page)-1]; asc {
					q.After = last
				} else {
					q.Before = last
				}
			}
			want := make([]int64, 25)
			for i := range want {
				want[i] = int64(25 - i)
				if asc {
					want[i] = int64(i + 1)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged %v, want %v", got, want)
			}
		})
	}
	p, err := f.msgs.History(ctx, id, messages.Query{Limit: 10, MaxBytes: 10})
	if err != nil || len(p.Messages) != 1 || !p.HasMore {
		t.Fatalf("a bound below one entry: %d entries, hasMore %v, %v; want the newest alone", len(p.Messages), p.HasMore, err)
	}
}
