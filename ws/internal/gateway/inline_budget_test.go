package gateway

import (
	"testing"
	"time"
)

// Inline writes take at most inlineShare of each inlineWindow: once that
// is spent, frames go to writers until the next window starts.
func TestInlineBudgetCapsTheShareOfInlineWrites(t *testing.T) {
	var b inlineBudget
	t0 := time.Now().UnixNano()
	if !b.allow(t0) {
		t.Fatal("the first write of a window was refused")
	}
	step := int64(10 * time.Microsecond)
	n := 0
	now := t0
	for b.allow(now) {
		b.spend(step)
		now += step
		n++
		if n > 1e6 {
			t.Fatal("the budget never ran out")
		}
	}
	if want := int(int64(inlineShare) / step); n != want {
		t.Fatalf("%d inline writes of %s allowed in a window, want %d (%s)", n, time.Duration(step), want, inlineShare)
	}
	if b.allow(t0 + int64(inlineWindow) - 1) {
		t.Fatal("allowed again before the window ended")
	}
	if !b.allow(t0 + int64(inlineWindow)) {
		t.Fatal("refused in the next window")
	}
	if b.spent.Load() != 0 {
		t.Fatalf("the next window starts with %d ns spent", b.spent.Load())
	}
}
