package archive_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/archive"
)

// stored returns every row of room, by seq.
func stored(t *testing.T, s *archive.Store, room int64) []archive.MessageRow {
	t.Helper()
	rows, err := s.Recent(context.Background(), room, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func put(t *testing.T, s *archive.Store, rows ...archive.MessageRow) {
	t.Helper()
	if err := s.PutMessages(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

func row(room, seq int64, body string, revMS, revSeq int64) archive.MessageRow {
	return archive.MessageRow{Room: room, Seq: seq, Body: body, RevMS: revMS, RevSeq: revSeq}
}

// TestPutMessagesVersions: a message keeps its newest version whatever
// the order versions arrive in, and re-applying changes nothing.
func TestPutMessagesVersions(t *testing.T) {
	s := newStore(t)
	steps := []struct {
		name string
		put  []archive.MessageRow
		want archive.MessageRow
	}{
		{"first", []archive.MessageRow{row(1, 5, "A", 100, 0)}, row(1, 5, "A", 100, 0)},
		{"again", []archive.MessageRow{row(1, 5, "A", 100, 0)}, row(1, 5, "A", 100, 0)},
		{"newer ms", []archive.MessageRow{row(1, 5, "B", 200, 0)}, row(1, 5, "B", 200, 0)},
		{"older never overwrites", []archive.MessageRow{row(1, 5, "C", 150, 9)}, row(1, 5, "B", 200, 0)},
		{"same rev never overwrites", []archive.MessageRow{row(1, 5, "X", 200, 0)}, row(1, 5, "B", 200, 0)},
		{"newer seq, same ms", []archive.MessageRow{row(1, 5, "D", 200, 1)}, row(1, 5, "D", 200, 1)},
		{"two versions in one call, newest last", []archive.MessageRow{row(1, 5, "E", 250, 0), row(1, 5, "F", 300, 0)}, row(1, 5, "F", 300, 0)},
		{"two versions in one call, newest first", []archive.MessageRow{row(1, 5, "H", 400, 0), row(1, 5, "G", 350, 0)}, row(1, 5, "H", 400, 0)},
		{"nothing", nil, row(1, 5, "H", 400, 0)},
	}
	for _, st := range steps {
		if err := s.PutMessages(context.Background(), st.put); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := stored(t, s, 1)
		if len(got) != 1 || got[0] != st.want {
			t.Fatalf("%s: stored %+v, want %+v", st.name, got, st.want)
		}
	}
}

// TestPutMessagesOutOfOrder: many versions of many messages of two rooms,
// applied in a random order and in random batches, some twice, leave
// exactly the newest version of each.
func TestPutMessagesOutOfOrder(t *testing.T) {
	s := newStore(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var all []archive.MessageRow
	want := map[int64][]archive.MessageRow{}
	for _, room := range []int64{7, 8} {
		for seq := int64(1); seq <= 40; seq++ {
			versions := 1 + rng.IntN(4)
			for v := range versions {
				all = append(all, row(room, seq, fmt.Sprintf(`{"room":%d,"seq":%d,"v":%d}`, room, seq, v), 1000+int64(v)/2, int64(v%2)))
			}
			want[room] = append(want[room], all[len(all)-1])
		}
	}
	all = append(all, all[:len(all)/3]...)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for len(all) > 0 {
		n := min(len(all), 1+rng.IntN(30))
		put(t, s, all[:n]...)
		all = all[n:]
	}
	for room, w := range want {
		if got := stored(t, s, room); !slices.Equal(got, w) {
			t.Errorf("room %d: stored %v\nwant %v", room, got, w)
		}
	}
}

// TestPutMessagesConcurrent: callers writing overlapping rows in opposite
// orders all succeed (rows are locked in one order: no deadlock).
func TestPutMessagesConcurrent(t *testing.T) {
	s := newStore(t)
	var batch []archive.MessageRow
	for seq := int64(1); seq <= 300; seq++ {
		batch = append(batch, row(1, seq, "{}", seq, 0))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 4 {
		wg.Go(func() {
			b := slices.Clone(batch)
			if i%2 == 1 {
				slices.Reverse(b)
			}
			for round := range 10 {
				for j := range b {
					b[j].RevSeq = int64(round*4 + i)
				}
				if err := s.PutMessages(context.Background(), b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, r := range stored(t, s, 1) {
		if r.RevSeq != 39 {
			t.Fatalf("seq %d ends at rev_seq %d, want 39 (the newest)", r.Seq, r.RevSeq)
		}
	}
}

// TestBodyKeptExactly: the history JSON comes back byte for byte.
func TestBodyKeptExactly(t *testing.T) {
	s := newStore(t)
	body := `{"seq":1,"text":"h\u00e9llo é 🎉 \"q\" \\ \u0000 \n","x":[ 1 ,2]}`
	put(t, s, row(3, 1, body, 1, 0))
	got, _, err := s.Range(context.Background(), 3, 0, 0, 10, 0, true)
	if err != nil || len(got) != 1 || string(got[0]) != body {
		t.Fatalf("Range = %q, %v; want %q", got, err, body)
	}
}

func TestRecentAndMaxSeq(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if n, err := s.MaxSeq(ctx, 4); err != nil || n != 0 {
		t.Fatalf("MaxSeq of an empty room = %d, %v; want 0", n, err)
	}
	var rows []archive.MessageRow
	for seq := int64(1); seq <= 10; seq++ {
		rows = append(rows, row(4, seq, fmt.Sprintf(`{"seq":%d}`, seq), seq, 0))
	}
	put(t, s, append(rows, row(5, 99, "{}", 1, 0))...)
	if n, err := s.MaxSeq(ctx, 4); err != nil || n != 10 {
		t.Fatalf("MaxSeq = %d, %v; want 10", n, err)
	}
	for _, tt := range []struct {
		room int64
		n    int
		want []archive.MessageRow
	}{
		{4, 3, rows[7:]},
		{4, 1, rows[9:]},
		{4, 10, rows},
		{4, 100, rows},
		{4, 0, nil},
		{4, -1, nil},
		{6, 5, nil},
	} {
		got, err := s.Recent(ctx, tt.room, tt.n)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Recent(%d, %d) = %v, %v; want %v", tt.room, tt.n, got, err, tt.want)
		}
	}
}
