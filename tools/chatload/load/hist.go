package load

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram buckets are log-linear: values below histSub nanoseconds get a
// bucket each, and every power of two above is split into histSub equal
// buckets, so a bucket is at most 1/histSub (1.6 %) wide relative to its
// values. Values at or above 2^histMaxBits ns (about 18 minutes) land in
// the last bucket.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histMaxBits = 40
	histBuckets = histSub + (histMaxBits-histSubBits)*histSub
)

// Histogram records durations in fixed log-linear buckets. The zero value
// is ready to use. Record is safe for concurrent use and does not allocate;
// reading (Quantile, Max, ...) while recording gives a consistent-enough
// view for progress output, exact once recording stopped.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // nanoseconds
	max    atomic.Int64
}

// bucketOf returns the bucket index of v nanoseconds (v >= 0).
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	k := bits.Len64(v) // v in [2^(k-1), 2^k), k > histSubBits
	if k > histMaxBits {
		return histBuckets - 1
	}
	shift := k - histSubBits - 1
	return histSub + shift*histSub + int(v>>shift) - histSub
}

// bucketLow returns the smallest value of bucket i, and its width.
func bucketLow(i int) (low, width uint64) {
	if i < histSub {
		return uint64(i), 1
	}
	shift := (i - histSub) / histSub
	mant := uint64((i-histSub)%histSub + histSub)
	return mant << shift, 1 << shift
}

// Record adds one observation; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	h.n.Add(1)
	h.sum.Add(uint64(v))
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest observation, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean returns the average observation, or 0 without any.
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value below which a fraction q (0..1) of the
// observations fall, within one bucket's width (the bucket's middle is
// returned, never more than Max). It returns 0 without observations.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	q = math.Min(math.Max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	if rank >= n {
		return h.Max()
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			if i == histBuckets-1 {
				return h.Max()
			}
			low, width := bucketLow(i)
			return min(time.Duration(low+width/2), h.Max())
		}
	}
	return h.Max()
}

// Merge adds o's observations to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	for {
		m, v := h.max.Load(), o.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Reset forgets every observation. Not atomic with concurrent Records.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.n.Store(0)
	h.sum.Store(0)
	h.max.Store(0)
}
