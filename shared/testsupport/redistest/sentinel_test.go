package redistest

import (
	"context"
	"testing"
	"time"
)

// TestSentinelFailoverAndCrash: the set-up starts, a coordinated Failover
// and a Crash each promote the replica (the sentinels name it, the failover
// client writes to it) without losing what was written before.
func TestSentinelFailoverAndCrash(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	s, err := StartSentinel(SentinelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Logf("sentinel set-up in %v", time.Since(start))
	rdb := s.Client(t)
	if err := rdb.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	old, replica := s.Master, s.Replica
	start = time.Now()
	if err := s.Failover(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("coordinated failover in %v", time.Since(start))
	if s.Master != replica || s.Replica != old {
		t.Fatal("roles not swapped in Master/Replica")
	}
	for srv, want := range map[*Server]string{replica: "master", old: "slave"} {
		role, err := s.client(srv.Addr).Do(ctx, "ROLE").Slice()
		if err != nil || role[0] != want {
			t.Errorf("%s: ROLE %v, %v; want %s", srv.Addr, role, err, want)
		}
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "before" {
		t.Errorf("after failover: get k = %q, %v", v, err)
	}
	if err := rdb.Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Errorf("write after failover: %v", err)
	}
	start = time.Now()
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("sentinels list the old master as a replica after %v", time.Since(start))
	if err := poll(ctx, s.caughtUp); err != nil {
		t.Fatal(err)
	}
	took, err := s.Crash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("crash: replica promoted %v after the SIGKILL (down-after %v)", took, s.DownAfter)
	if s.Master != old {
		t.Fatal("crash did not promote the replica")
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "after" {
		t.Errorf("after crash: get k = %q, %v", v, err)
	}
}
