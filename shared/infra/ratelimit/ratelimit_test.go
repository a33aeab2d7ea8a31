package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestBurstThenRefill(t *testing.T) {
	now := time.Unix(1000, 0)
	k := New(Config{Rate: 2, Burst: 3})
	k.now = func() time.Time { return now }
	for i := range 3 {
		if ok, _ := k.Allow("ip"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, retry := k.Allow("ip")
	if ok || retry != 500*time.Millisecond {
		t.Fatalf("over the burst: ok=%v retry=%v, want refused, 500ms", ok, retry)
	}
	if ok, _ := k.Allow("other"); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := k.Allow("ip"); !ok {
		t.Fatal("no token after the refill time")
	}
	if ok, _ := k.Allow("ip"); ok {
		t.Fatal("refused requests must not have consumed tokens, but neither may they create any")
	}
}

func TestDisabled(t *testing.T) {
	k := New(Config{Rate: -1})
	for range 1000 {
		if ok, _ := k.Allow("x"); !ok {
			t.Fatal("a disabled limiter refused")
		}
	}
	if k.Len() != 0 {
		t.Fatal("a disabled limiter tracks keys")
	}
}

func TestBoundedKeys(t *testing.T) {
	now := time.Unix(1000, 0)
	k := New(Config{Rate: 1, Burst: 1, MaxKeys: 64})
	k.now = func() time.Time { return now }
	for i := range 10000 {
		k.Allow(fmt.Sprint("ip-", i))
		if k.Len() > 64 {
			t.Fatalf("%d keys tracked, bound 64", k.Len())
		}
	}
	// Once buckets have refilled they are dropped first.
	now = now.Add(time.Minute)
	k.Allow("fresh")
	if k.Len() != 1 {
		t.Fatalf("%d keys after a sweep of full buckets, want 1", k.Len())
	}
}

func TestConcurrentUse(t *testing.T) {
	k := New(Config{Rate: 1, Burst: 100, MaxKeys: 8})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k.Allow(fmt.Sprint(g, "-", i%20))
			}
		}()
	}
	wg.Wait()
	if k.Len() > 8 {
		t.Fatalf("%d keys, bound 8", k.Len())
	}
}

func TestZeroRatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a zero rate")
		}
	}()
	New(Config{})
}

func TestCheckDoesNotSpend(t *testing.T) {
	now := time.Unix(1000, 0)
	k := New(Config{Rate: 2, Burst: 2})
	k.now = func() time.Time { return now }
	for range 10 {
		if ok, _ := k.Check("ip"); !ok {
			t.Fatal("Check refused a full bucket")
		}
	}
	if k.Len() != 0 {
		t.Fatal("Check of an unknown key started tracking it")
	}
	k.Allow("ip")
	k.Allow("ip")
	ok, retry := k.Check("ip")
	if ok || retry != 500*time.Millisecond {
		t.Fatalf("empty bucket: ok=%v retry=%v, want refused, 500ms", ok, retry)
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := k.Check("ip"); !ok {
		t.Fatal("no token after the refill time")
	}
	if ok, _ := k.Allow("ip"); !ok {
		t.Fatal("Check took the refilled token")
	}
	if ok, _ := New(Config{Rate: -1}).Check("x"); !ok {
		t.Fatal("a disabled limiter refused")
	}
}
