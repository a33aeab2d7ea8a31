package memtrim

import (
	"context"
	"runtime"
	"testing"
	"time"
)

var sink [][]byte

// garbage allocates n MiB, drops it and collects, leaving the pages free
// but (mostly) not yet returned to the OS.
func garbage(n int) {
	for range n {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	runtime.GC()
}

func freeBytes(t *Trimmer) uint64 { f, _ := t.read(); return f }

func TestCheckTrimsOnlyWhenQuiet(t *testing.T) {
	tr := New(Config{MinFree: 16 << 20, QuietBytes: 4 << 20})
	garbage(128)
	if f := freeBytes(tr); f < 32<<20 {
		t.Skipf("the runtime returned the garbage by itself already (%d bytes free)", f)
	}
	if tr.Check() {
		t.Fatal("trimmed right after 128 MiB were allocated: the process was busy")
	}
	if !tr.Check() {
		t.Fatalf("no trim with %d bytes free and nothing allocated since the last check", freeBytes(tr))
	}
	if f := freeBytes(tr); f >= 16<<20 {
		t.Fatalf("%d bytes still free after the trim", f)
	}
	if tr.Check() {
		t.Fatal("trimmed again with nothing free")
	}
	if tr.Trims() != 1 {
		t.Fatalf("Trims() = %d, want 1", tr.Trims())
	}
}

func TestRunChecksUntilCancelled(t *testing.T) {
	tr := New(Config{Interval: 10 * time.Millisecond, MinFree: 16 << 20, QuietBytes: 4 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	garbage(64)
	deadline := time.Now().Add(5 * time.Second)
	for tr.Trims() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if tr.Trims() == 0 {
		t.Fatal("Run never trimmed 64 MiB of garbage within 5s")
	}
}
