package archiver_test

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// Every send, edit, deletion and membership change reaches PostgreSQL as it
// is in Redis; Redis keeps what PostgreSQL lacks and trims it once
// archived; history pages and resumes read on into the archive.
func TestArchiveCopiesSendsEditsDeletionsAndRooms(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, _ *redistest.Cluster) {
		ctx := context.Background()
		f := newFixture(t, rdb, fixtureConfig{historyLen: 10})
		r, err := f.rooms.CreateGroup(ctx, 1, "team", []int64{2, 3})
		if err != nil {
			t.Fatal(err)
		}
		want := f.send(t, r.ID, 1, 40)
		if n := f.rdb.ZCard(ctx, f.keys.RoomHistory(r.ID)).Val(); n != 40 {
			t.Fatalf("history holds %d messages before the archive ran, want all 40 (trim guard)", n)
		}
		edited, err := f.msgs.Edit(ctx, r.ID, 3, 1, "edited")
		if err != nil {
			t.Fatal(err)
		}
		deleted, err := f.msgs.Delete(ctx, r.ID, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		want[2], want[3] = string(edited), string(deleted)
		if _, err := f.rooms.AddMember(ctx, r.ID, 1, 4); err != nil {
			t.Fatal(err)
		}
		if _, err := f.rooms.RemoveMember(ctx, r.ID, 1, 2); err != nil {
			t.Fatal(err)
		}

		archivetest.Drain(t, f.arc)
		if got := f.archived(t, r.ID); !slices.Equal(got, want) {
			t.Fatalf("archive holds %d entries:\n%v\nwant %d:\n%v", len(got), got, len(want), want)
		}
		if got := f.archivedSeq(t, r.ID); got != 40 {
			t.Fatalf("archivedSeq = %d, want 40", got)
		}
		rows, err := f.store.Rooms(ctx, 0, 10)
		if err != nil || len(rows) != 1 {
			t.Fatalf("archived rooms %+v, %v; want the one room", rows, err)
		}
		if got := rows[0]; got.ID != r.ID || got.Type != "group" || got.Name != "team" || got.CreatedBy != 1 ||
			!slices.Equal(got.Members, []int64{1, 3, 4}) {
			t.Fatalf("archived room %+v, want group %d \"team\" by 1 with members 1, 3, 4", got, r.ID)
		}

		// Archived: the next send trims history to HISTORY_LEN.
		want = append(want, f.send(t, r.ID, 3, 1)...)
		if n := f.rdb.ZCard(ctx, f.keys.RoomHistory(r.ID)).Val(); n != 10 {
			t.Fatalf("history holds %d messages after the archive caught up, want 10", n)
		}
		// Pages and resumes read on into PostgreSQL, seamlessly.
		var pages []string
		for before := int64(0); ; {
			p, err := f.msgs.History(ctx, r.ID, messages.Query{Before: before, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Messages {
				pages = append(pages, string(m))
			}
			if !p.HasMore {
				break
			}
			before = seqOf(t, pages[len(pages)-1])
		}
		slices.Reverse(pages)
		if !slices.Equal(pages, want) {
			t.Fatalf("history pages hold %d entries, want the %d sent (oldest from the archive)", len(pages), len(want))
		}
		since, oldest, err := f.msgs.Since(ctx, r.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(since))
		for i, m := range since {
			got[i] = string(m)
		}
		if oldest != 1 || !slices.Equal(got, want) {
			t.Fatalf("Since(0) = %d entries, oldest %d; want all %d from seq 1", len(got), oldest, len(want))
		}
	})
}

// Records the stream lost (MAXLEN) are filled from history, which the trim
// guard kept; what history no longer has either is counted as lost, and
// the archive moves on.
func TestArchiveFillsWhatTheStreamLost(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, _ *redistest.Cluster) {
		ctx := context.Background()
		for _, tc := range []struct {
			name       string
			backlogMax int
			first      int64 // first seq the archive can hold
		}{{"history kept them", 100000, 1}, {"history trimmed them too", 1, 16}} {
			t.Run(tc.name, func(t *testing.T) {
				f := newFixture(t, rdb, fixtureConfig{historyLen: 5, backlogMax: tc.backlogMax})
				r, err := f.rooms.CreateGroup(ctx, 1, "lossy", []int64{2})
				if err != nil {
					t.Fatal(err)
				}
				sent := f.send(t, r.ID, 1, 20)
				stream := f.keys.ArchiveStreamFor(r.ID, events.Sharded(rdb))
				if err := rdb.XTrimMaxLen(ctx, stream, 0).Err(); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, f.send(t, r.ID, 2, 1)...)
				archivetest.Drain(t, f.arc)
				if got, want := f.archived(t, r.ID), sent[tc.first-1:]; !slices.Equal(got, want) {
					t.Fatalf("archive holds seqs %d.., %d entries; want %d entries from seq %d", seqOf(t, got[0]), len(got), len(want), tc.first)
				}
				if got := f.obs.get().lost; got != int(tc.first-1) {
					t.Fatalf("lost = %d, want %d", got, tc.first-1)
				}
				if got := f.archivedSeq(t, r.ID); got != 21 {
					t.Fatalf("archivedSeq = %d, want 21", got)
				}
			})
		}
	})
}
