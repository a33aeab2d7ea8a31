// Package archiver copies what Redis stores into PostgreSQL: every chat
// message, edit and deletion, and every room with its members. send.lua,
// change.lua and the room store append a record to an archive stream in the
// same step as the write itself (keys.ArchiveStream on a single Redis or
// Sentinel; one stream per hash slot on a Redis Cluster); the archiver reads
// those streams with the consumer group keys.ArchiveGroup, writes the records
// in batches, and only then acknowledges and trims them. A crash between the
// write and the acknowledgement makes the next start (or another archiver)
// write them again, which changes nothing: messages are upserted by room and
// seq, a version replaced only by a newer stream entry; rooms are copied from
// their current state.
//
// After each batch it moves the room's archivedSeq (room meta hash) to the
// highest seq PostgreSQL now holds without a gap; send.lua trims history only
// below it (the trim guard), so Redis and PostgreSQL together always hold
// every message.
package archiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Sink is where the records go (archive.Store).
type Sink interface {
	PutMessages(ctx context.Context, rows []archive.MessageRow) error
	PutRooms(ctx context.Context, rows []archive.RoomRow) error
}

// Config configures an Archiver. Zero fields take the defaults given.
type Config struct {
	// Consumer is this archiver's name in the consumer group; default
	// "archiver-<hostname>". A restart under the same name first writes the
	// records it had read and not acknowledged (its pending entries).
	Consumer string
	// Batch is the most records read from one stream at a time; default 500.
	Batch int
	// Block is how long a read waits for new records on a single Redis
	// (XREADGROUP BLOCK); default 1s. On a cluster, where there is one
	// stream per hash slot, it is the pause between rounds that found
	// nothing.
	Block time.Duration
	// ClaimIdle is how long another consumer's record may stay
	// unacknowledged before this archiver takes it over (that archiver
	// died); default 1m.
	ClaimIdle time.Duration
	// Retry is the pause after a failed round (PostgreSQL or Redis down);
	// default 1s.
	Retry time.Duration
	// Observer, when set, is told about each round (metrics).
	Observer Observer
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Observer is told what the archiver does (the archiver binary's
// Prometheus metrics).
type Observer interface {
	// Round reports a round that succeeded: records archived, its time,
	// and the status after it.
	Round(records int, took time.Duration, st Status)
	// Failed reports a round that failed.
	Failed()
	// Wrote reports rows written: message versions and rooms.
	Wrote(messages, rooms int)
	// Malformed reports a record skipped as not ours.
	Malformed()
	// Lost reports messages gone from both the stream and history before
	// the archiver read them.
	Lost(n int)
}

// Archiver moves the archive streams' records into a Sink. Run it once.
type Archiver struct {
	rdb     redis.UniversalClient
	keys    keys.Space
	sink    Sink
	cfg     Config
	sharded bool
	log     *slog.Logger

	streams *streamSet
	rooms   map[int64]bool // rooms whose row this process wrote (apply)

	mu     sync.Mutex
	status Status
}

// Status is the archiver's latest view of its work, for /readyz.
type Status struct {
	// Backlog is how many records wait in the archive streams (read at
	// most every few seconds on a cluster).
	Backlog int64 `json:"backlogEntries"`
	// LagSeconds is the age of the oldest record waiting (0: none).
	LagSeconds float64 `json:"lagSeconds"`
	// LastError is the error of the last failed round, "" after a round
	// that succeeded.
	LastError string `json:"lastError,omitempty"`
	// Archived counts the records written since the start.
	Archived int64 `json:"archived"`
}

// New returns an Archiver of rdb's archive streams into sink.
func New(rdb redis.UniversalClient, ks keys.Space, sink Sink, cfg Config) *Archiver {
	if cfg.Consumer == "" {
		host, _ := os.Hostname()
		cfg.Consumer = "archiver-" + host
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Block <= 0 {
		cfg.Block = time.Second
	}
	if cfg.ClaimIdle <= 0 {
		cfg.ClaimIdle = time.Minute
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Archiver{rdb: rdb, keys: ks, sink: sink, cfg: cfg, sharded: events.Sharded(rdb), log: cfg.Logger}
	a.streams = newStreamSet(a)
	return a
}

// Status returns the latest status.
func (a *Archiver) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

// Run archives until ctx ends; it returns nil then. Failures (PostgreSQL or
// Redis unreachable) are logged, counted and retried after Config.Retry:
// nothing is acknowledged before it is written.
func (a *Archiver) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		n, err := a.Round(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			a.failed(err)
			sleep(ctx, a.cfg.Retry)
		case n == 0 && a.sharded:
			sleep(ctx, a.cfg.Block)
		}
	}
	return nil
}

// Round reads each stream once, writes what it read, acknowledges and trims
// it, and returns how many records it archived.
func (a *Archiver) Round(ctx context.Context) (int, error) {
	start := time.Now()
	batches, err := a.streams.read(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range batches {
		n += len(b.entries)
	}
	if n > 0 {
		if err := a.apply(ctx, batches); err != nil {
			return 0, err
		}
		if err := a.streams.ack(ctx, batches); err != nil {
			return 0, err
		}
	}
	backlog, lag, fresh, err := a.streams.backlog(ctx)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	if a.status.LastError != "" {
		a.log.Info("archive rounds succeed again")
	}
	a.status.LastError = ""
	a.status.Archived += int64(n)
	if fresh {
		a.status.Backlog, a.status.LagSeconds = backlog, lag
	}
	st := a.status
	a.mu.Unlock()
	if o := a.cfg.Observer; o != nil {
		o.Round(n, time.Since(start), st)
	}
	return n, nil
}

// failed records a failed round. What the round read and did not write
// stays pending; the next round reads it again first, in stream order. The
// first failure after a success is logged as a warning, repeats at debug
// level (an outage would log every Retry).
// Backlog reads the records waiting in the archive streams and the age of
// the oldest now (Status has the figure of the last round, which on a
// cluster is read every few seconds only).
func (a *Archiver) Backlog(ctx context.Context) (entries int64, lagSeconds float64, err error) {
	entries, lagSeconds, _, err = a.streams.readBacklog(ctx)
	return entries, lagSeconds, err
}

func (a *Archiver) failed(err error) {
	a.streams.retry()
	a.mu.Lock()
	repeat := a.status.LastError != ""
	a.status.LastError = err.Error()
	a.mu.Unlock()
	if repeat {
		a.log.Debug("archive round failed again, retrying", "err", err)
	} else {
		a.log.Warn("archive round failed, retrying until it succeeds", "err", err)
	}
	if o := a.cfg.Observer; o != nil {
		o.Failed()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errMalformed marks a stream record that is not one of ours; it is logged,
// counted and acknowledged (it would fail every retry).
var errMalformed = errors.New("malformed archive record")

func malformed(id, why string) error { return fmt.Errorf("%w %s: %s", errMalformed, id, why) }
