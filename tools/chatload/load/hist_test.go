package load

import (
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverValuesInOrder(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 1<<20 + 1, 1<<40 - 1, 1 << 40, 1 << 62} {
		i := bucketOf(v)
		if i < prev {
			t.Fatalf("bucketOf(%d) = %d < %d: buckets out of order", v, i, prev)
		}
		prev = i
		if i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		if v < 1<<histMaxBits {
			low, width := bucketLow(i)
			if v < low || v >= low+width {
				t.Fatalf("value %d not in its bucket %d [%d, %d)", v, i, low, low+width)
			}
			if width > 1 && float64(width)/float64(low) > 1.0/histSub+1e-9 {
				t.Fatalf("bucket %d too wide: %d at %d", i, width, low)
			}
		}
	}
}

func TestQuantilesMatchSortedSample(t *testing.T) {
	var h Histogram
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]time.Duration, 100000)
	for i := range vals {
		vals[i] = time.Duration(rng.ExpFloat64() * float64(5*time.Millisecond))
		h.Record(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if diff := float64(got-want) / float64(want); diff > 0.02 || diff < -0.02 {
			t.Errorf("p%v = %v, want %v within 2%%", q*100, got, want)
		}
	}
	if h.Max() != vals[len(vals)-1] {
		t.Errorf("max %v, want %v", h.Max(), vals[len(vals)-1])
	}
	if h.Count() != uint64(len(vals)) {
		t.Errorf("count %d", h.Count())
	}
}

func TestHistogramEdgeCases(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	h.Record(-time.Second) // clock steps count as zero
	h.Record(time.Hour)    // beyond the last bucket
	if got := h.Quantile(1); got != time.Hour {
		t.Fatalf("p100 = %v, want the exact max", got)
	}
	if got := h.Quantile(0); got != 0 {
		t.Fatalf("p0 = %v", got)
	}
	var o Histogram
	o.Record(2 * time.Hour)
	h.Merge(&o)
	if h.Count() != 3 || h.Max() != 2*time.Hour {
		t.Fatalf("after merge: count %d max %v", h.Count(), h.Max())
	}
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 {
		t.Fatal("reset kept observations")
	}
}

func TestHistogramConcurrentRecord(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				h.Record(time.Duration(g*10000 + i))
			}
		}()
	}
	wg.Wait()
	if h.Count() != 80000 || h.Max() != 79999 {
		t.Fatalf("count %d max %d", h.Count(), h.Max())
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(time.Millisecond) }); n != 0 {
		t.Fatalf("%v allocations per Record", n)
	}
}
