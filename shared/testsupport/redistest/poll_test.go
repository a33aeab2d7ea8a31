package redistest

import (
	"fmt"
	"testing"
	"time"
)

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

func TestEventuallyReturnsOnceCondHolds(t *testing.T) {
	calls := 0
	Eventually(t, "the third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
}

func TestEventuallyWithinFailsAfterItsBound(t *testing.T) {
	tb := &fatalTB{TB: t}
	start := time.Now()
	EventuallyWithin(tb, 30*time.Millisecond, "never", func() bool { return false })
	if tb.msg != "timed out waiting for never" {
		t.Fatalf("Fatalf(%q), want the timeout", tb.msg)
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Fatalf("gave up after %v, before its 30ms bound", waited)
	}
}
