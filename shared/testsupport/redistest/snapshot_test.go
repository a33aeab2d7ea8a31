package redistest

import (
	"context"
	"slices"
	"testing"
)

// server starts a private server for one test.
func server(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestSnapshotDiffSeesEveryWrite(t *testing.T) {
	rdb := server(t).Client(t)
	p := Prefix(t)
	ctx := context.Background()
	rdb.Set(ctx, p+":a", "1", 0)
	rdb.Set(ctx, p+":b", "1", 0)
	rdb.Set(ctx, "other:"+p, "1", 0) // outside the pattern
	before := TakeSnapshot(t, rdb, p+":*")
	if d := before.Diff(TakeSnapshot(t, rdb, p+":*")); len(d) != 0 {
		t.Fatalf("no write, diff %v", d)
	}
	rdb.Set(ctx, p+":a", "2", 0)
	rdb.Del(ctx, p+":b")
	rdb.Set(ctx, p+":c", "1", 0)
	rdb.Set(ctx, "other:"+p, "2", 0)
	got := before.Diff(TakeSnapshot(t, rdb, p+":*"))
	want := []string{"changed " + p + ":a", "deleted " + p + ":b", "created " + p + ":c"}
	if !slices.Equal(got, want) {
		t.Fatalf("diff %q, want %q", got, want)
	}
}

func TestPublishedCollectsUpToItsMarker(t *testing.T) {
	rdb := server(t).Client(t)
	p := Prefix(t)
	ctx := context.Background()
	rdb.Publish(ctx, p+":x", "before") // before listening: not seen
	published := Published(t, rdb, p+":marker", p+":*", "u:"+p+":*")
	rdb.Publish(ctx, p+":x", "one")
	rdb.Publish(ctx, "u:"+p+":y", "two")
	rdb.Publish(ctx, "elsewhere", "three")
	if got, want := published(), []string{p + ":x one", "u:" + p + ":y two"}; !slices.Equal(got, want) {
		t.Fatalf("published %q, want %q", got, want)
	}
}
