// Package memtrim hands heap memory the process no longer uses back to
// the operating system once the process has gone quiet.
//
// The Go runtime keeps freed heap pages for reuse up to about twice the
// live heap (GOGC=100) and returns only what exceeds that. A ws node that
// has just accepted a storm of connections (a deploy, a network blip)
// therefore keeps the transient memory of the storm resident while its
// connections sit idle: on 10,000 idle connections, about 6 KB per
// connection. The trimmer checks the runtime's counters every Interval
// and, when more than MinFree bytes are free but not returned and less
// than QuietBytes were allocated since the previous check, runs
// debug.FreeOSMemory once (a full collection, then every free page goes
// back). A busy process is never trimmed: it would only fault the pages
// back in.
package memtrim

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Config tunes a Trimmer; zero fields take the documented defaults.
type Config struct {
	// Interval between checks; default 5s.
	Interval time.Duration
	// MinFree is how many bytes of free, unreturned heap make a trim worth
	// its collection; default 16 MiB.
	MinFree uint64
	// QuietBytes: a check that sees more bytes allocated since the previous
	// one does not trim (the process is busy); default 8 MiB.
	QuietBytes uint64
	// Logger gets one debug line per trim; default slog.Default().
	Logger *slog.Logger
}

// Trimmer runs the checks; see the package comment.
type Trimmer struct {
	cfg     Config
	samples []metrics.Sample
	allocs  uint64 // cumulative heap allocations at the previous check
	trims   atomic.Uint64
}

const (
	freeMetric   = "/memory/classes/heap/free:bytes"
	allocsMetric = "/gc/heap/allocs:bytes"
)

// New returns a Trimmer with cfg's defaults filled in.
func New(cfg Config) *Trimmer {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.MinFree == 0 {
		cfg.MinFree = 16 << 20
	}
	if cfg.QuietBytes == 0 {
		cfg.QuietBytes = 8 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &Trimmer{cfg: cfg, samples: []metrics.Sample{{Name: freeMetric}, {Name: allocsMetric}}}
	_, t.allocs = t.read()
	return t
}

// Run checks every Interval until ctx ends.
func (t *Trimmer) Run(ctx context.Context) {
	tick := time.NewTicker(t.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.Check()
		}
	}
}

// Check trims once if the process is quiet and holds enough free memory,
// and reports whether it did. Run calls it; it is not safe for concurrent
// use.
func (t *Trimmer) Check() bool {
	free, allocs := t.read()
	busy := allocs-t.allocs > t.cfg.QuietBytes
	t.allocs = allocs
	if busy || free < t.cfg.MinFree {
		return false
	}
	start := time.Now()
	debug.FreeOSMemory()
	t.trims.Add(1)
	after, allocs := t.read()
	t.allocs = allocs
	t.cfg.Logger.Debug("returned free heap memory to the OS", "freeBefore", free, "freeAfter", after,
		"took", time.Since(start))
	return true
}

// Trims is how many times the trimmer returned memory.
func (t *Trimmer) Trims() uint64 { return t.trims.Load() }

func (t *Trimmer) read() (free, allocs uint64) {
	metrics.Read(t.samples)
	return value(t.samples[0]), value(t.samples[1])
}

func value(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
