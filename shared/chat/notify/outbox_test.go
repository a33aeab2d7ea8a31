package notify_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestFloodEvictsNoOtherUser: 200 messages into a group of 998 offline
// members (199,600 records) leave another user's pending record alone;
// each flooded member keeps their newest OutboxMaxLen records. With one
// stream for everyone (MAXLEN ~ 100,000), user 2's record was evicted.
func TestFloodEvictsNoOtherUser(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 200 messages to 998 offline members")
	}
	ctx := context.Background()
	f := newFixture(t, notify.Config{})
	quiet, err := f.rooms.CreateGroup(ctx, 1, "quiet", []int64{2})
	if err != nil {
		t.Fatal(err)
	}
	f.send(t, quiet.ID, 1, "for 2")
	var ids []int64
	for u := int64(1000); u < 1998; u++ {
		ids = append(ids, u)
	}
	big, err := f.rooms.CreateGroup(ctx, 3, "big", ids)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		f.send(t, big.ID, 3, "flood")
	}
	out := notify.NewOutbox(f.rdb, f.keys)
	recs, err := out.Records(ctx, 2)
	if err != nil || len(recs) != 1 || recs[0].ChatRoomID != quiet.ID || recs[0].Preview != "for 2" {
		t.Fatalf("user 2's outbox = %+v, %v; want its one record", recs, err)
	}
	flooded, err := out.Records(ctx, 1500)
	if err != nil || len(flooded) != 100 || flooded[0].Seq != 101 || flooded[99].Seq != 200 {
		t.Fatalf("user 1500 holds %d records, %v; want the newest 100 (seqs 101..200)", len(flooded), err)
	}
	// The index holds one entry per user, whatever the message count.
	if n := f.rdb.ZCard(ctx, f.keys.NotificationsPending()).Val(); n != 1+998 {
		t.Errorf("pending index holds %d users, want 999", n)
	}
}

// TestOutboxPerUserBounds: a user's stream keeps the newest OutboxMaxLen
// records (exactly) and expires OutboxTTL after its last record.
func TestOutboxPerUserBounds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, notify.Config{OutboxMaxLen: 5, OutboxTTL: time.Hour})
	r, err := f.rooms.CreateGroup(ctx, 8, "g", []int64{5})
	if err != nil {
		t.Fatal(err)
	}
	for range 8 {
		f.send(t, r.ID, 8, "m")
	}
	recs, err := notify.NewOutbox(f.rdb, f.keys).Records(ctx, 5)
	var seqs []int64
	for _, rec := range recs {
		seqs = append(seqs, rec.Seq)
	}
	if err != nil || !slices.Equal(seqs, []int64{4, 5, 6, 7, 8}) {
		t.Fatalf("records of 5 have seqs %v, %v; want 4..8", seqs, err)
	}
	if ttl := f.rdb.PTTL(ctx, f.keys.UserOutbox(5)).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("outbox of 5 expires in %v, want about 1h", ttl)
	}
}

// TestOutboxClaims specifies the push workers' protocol on a single Redis
// and on a cluster (the index and the users' streams on different masters):
// claims with a lease, records, Done, a crashed worker's claims.
func TestOutboxClaims(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, notify.Config{})
		// u5 and u6 get records (7 is online); on a cluster, their streams
		// and the index are on three masters.
		u5, u6 := int64(5), int64(6)
		if c != nil {
			u5, u6 = spreadUsers(t, c, f.keys.NotificationsPending(), f.keys.UserOutbox)
		}
		out := notify.NewOutbox(rdb, f.keys)
		r, err := f.rooms.CreateGroup(ctx, 8, "g", []int64{u5, u6, 7})
		if err != nil {
			t.Fatal(err)
		}
		f.session(t, "s7", 7, 0) // online: no records
		f.send(t, r.ID, 8, "one")
		f.send(t, r.ID, 8, "two")

		if _, err := out.Claim(ctx, 0, time.Minute); !errors.Is(err, notify.ErrBadLease) {
			t.Errorf("Claim of 0 users: %v, want ErrBadLease", err)
		}
		// One at a time, longest waiting first; claimed users are leased.
		first := claimOne(t, out, time.Minute)
		second := claimOne(t, out, time.Minute)
		if users := []int64{first.UserID, second.UserID}; !slices.Equal(users, []int64{u5, u6}) && !slices.Equal(users, []int64{u6, u5}) {
			t.Fatalf("claimed %v, want %d and %d", users, u5, u6)
		}
		if got, err := out.Claim(ctx, 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("Claim while both are leased = %v, %v; want none", got, err)
		}

		// 5's worker finishes: 5 leaves the index, its stream is emptied.
		c5 := first
		if c5.UserID != u5 {
			c5, second = second, first
		}
		recs := records(t, out, u5, "one", "two")
		if err := out.Done(ctx, c5, recs[1].ID); err != nil {
			t.Fatal(err)
		}
		if n := rdb.XLen(ctx, f.keys.UserOutbox(u5)).Val(); n != 0 {
			t.Errorf("%d's stream holds %d records after Done, want 0", u5, n)
		}
		if p := pendingUsers(t, out); !slices.Equal(p, []int64{u6}) {
			t.Errorf("pending %v after %d is done, want [%d]", p, u5, u6)
		}

		// A record arrives for 6 while its worker pushes the first two:
		// Done deletes those two and leaves 6 claimable at once.
		recs = records(t, out, u6, "one", "two")
		f.send(t, r.ID, 8, "three")
		if err := out.Done(ctx, second, recs[1].ID); err != nil {
			t.Fatal(err)
		}
		// "three" reached 5 too, after it had left the index: 5 is back,
		// and first, having waited longer.
		got, err := out.Claim(ctx, 10, 50*time.Millisecond)
		if err != nil || len(got) != 2 || got[0].UserID != u5 || got[1].UserID != u6 {
			t.Fatalf("Claim = %v, %v; want %d then %d", got, err, u5, u6)
		}
		if err := out.Done(ctx, got[0], records(t, out, u5, "three")[0].ID); err != nil {
			t.Fatal(err)
		}
		again := got[1]
		records(t, out, u6, "three")

		// That worker crashes: after the lease, another claims 6 again and
		// reads the same record (at least once).
		var retaken notify.Claim
		for deadline := time.Now().Add(5 * time.Second); retaken.UserID == 0; time.Sleep(10 * time.Millisecond) {
			got, err := out.Claim(ctx, 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range got {
				if c.UserID == u6 {
					retaken = c
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d was never claimed again after its lease ran out", u6)
			}
		}
		last := records(t, out, u6, "three")[0].ID
		// The crashed worker wakes up and finishes late: its records go,
		// the new claim stays.
		if err := out.Done(ctx, again, last); err != nil {
			t.Fatal(err)
		}
		if s, err := rdb.ZScore(ctx, f.keys.NotificationsPending(), strconv.FormatInt(u6, 10)).Result(); err != nil || int64(s) != retaken.Until.UnixMilli() {
			t.Errorf("score %v, %v after a stale Done, want the new claim's %d", s, err, retaken.Until.UnixMilli())
		}
		if err := out.Done(ctx, retaken, last); err != nil {
			t.Fatal(err)
		}
		if s, err := rdb.ZScore(ctx, f.keys.NotificationsPending(), strconv.FormatInt(u6, 10)).Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("%d still pending (%v, %v) after its claim is done", u6, s, err)
		}
	})
}

// TestOutboxWorkerSeesEveryRecord: a worker draining the outbox while
// messages arrive leaves no record behind unindexed: once the sends are
// over and the index is empty, it has pushed every record.
func TestOutboxWorkerSeesEveryRecord(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, _ *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb, notify.Config{OutboxMaxLen: 1000})
		out := notify.NewOutbox(rdb, f.keys)
		r, err := f.rooms.CreateGroup(ctx, 8, "g", []int64{5, 6, 7})
		if err != nil {
			t.Fatal(err)
		}
		const sends = 100
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			for range sends {
				if _, _, err := f.msgs.Send(ctx, r.ID, 8, 0, "m"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		pushed := map[[2]int64]bool{} // user, seq
		for over := false; ; {
			select {
			case <-sent:
				over = true
			default:
			}
			claims, err := out.Claim(ctx, 10, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if over && len(claims) == 0 && rdb.ZCard(ctx, f.keys.NotificationsPending()).Val() == 0 {
				break
			}
			if len(claims) == 0 {
				time.Sleep(time.Millisecond) // poll
			}
			for _, c := range claims {
				recs, err := out.Records(ctx, c.UserID)
				if err != nil {
					t.Fatal(err)
				}
				last := ""
				for _, rec := range recs {
					pushed[[2]int64{rec.UserID, rec.Seq}] = true
					last = rec.ID
				}
				if err := out.Done(ctx, c, last); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(pushed) != 3*sends {
			t.Errorf("the worker pushed %d records, want %d", len(pushed), 3*sends)
		}
		for _, u := range []int64{5, 6, 7} {
			if n := rdb.XLen(ctx, f.keys.UserOutbox(u)).Val(); n != 0 {
				t.Errorf("user %d has %d records left, not indexed", u, n)
			}
		}
	})
}

// spreadUsers picks two users whose keys (stream(u)) are on the two
// masters that do not own index, the smaller first (also as text: ties in
// the index are ordered as text).
func spreadUsers(t *testing.T, c *redistest.Cluster, index string, stream func(int64) string) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	owner := func(key string) *redistest.Server {
		s, err := c.MasterOf(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	seen := map[*redistest.Server]int64{owner(index): 0}
	var users []int64
	for u := int64(10); u < 100 && len(users) < 2; u++ {
		if m := owner(stream(u)); seen[m] == 0 && m != owner(index) {
			seen[m] = u
			users = append(users, u)
		}
	}
	if len(users) != 2 {
		t.Fatal("no two users on the masters without the index")
	}
	return users[0], users[1]
}

// claimOne claims exactly one user for lease.
func claimOne(t *testing.T, out *notify.Outbox, lease time.Duration) notify.Claim {
	t.Helper()
	got, err := out.Claim(context.Background(), 1, lease)
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim(1) = %v, %v; want one user", got, err)
	}
	if d := time.Until(got[0].Until); d > lease || d < lease-time.Second {
		t.Errorf("claim until %v, want in %v", got[0].Until, lease)
	}
	return got[0]
}

// records reads user's records and checks their previews.
func records(t *testing.T, out *notify.Outbox, user int64, previews ...string) []notify.Record {
	t.Helper()
	recs, err := out.Records(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Preview)
	}
	if !slices.Equal(got, previews) {
		t.Fatalf("records of %d: %q, want %q", user, got, previews)
	}
	return recs
}

// pendingUsers lists the users of the pending index.
func pendingUsers(t *testing.T, out *notify.Outbox) []int64 {
	t.Helper()
	p, err := out.Pending(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var users []int64
	for _, u := range p {
		users = append(users, u.UserID)
	}
	return users
}
