// Package load is the engine of chatload: it seeds rooms, opens STOMP over
// WebSocket connections exactly as @stomp/stompjs does, publishes stamped
// chat messages at a fixed rate, and measures what arrives (loss,
// duplicates, latency) and what it cost the servers (CPU and RSS from /proc).
//
// Goroutines: one reader per connection (the only reader of its socket),
// a few publisher goroutines that write SEND frames on the publishing
// connections, one heart-beat goroutine, and connect workers during the
// connect phase. Every run is bounded in time and targets loopback only.
package load

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"
)

// Limits of a run, so a typo cannot start an unbounded one.
const (
	MaxConns    = 250_000
	MaxDuration = 30 * time.Minute
	MaxPhases   = 32
	MaxPayload  = 60_000
	MaxSourceIP = 250
)

// Config describes one run. Zero fields take the defaults in brackets.
type Config struct {
	// Name labels the results (e.g. "W2").
	Name string
	// WS lists ws:// URLs of the nodes; connection i uses WS[i%len(WS)].
	WS []string
	// Rooms × RoomSize connections are opened, one per user; connection i
	// is user UserBase+i, member i%RoomSize of room i/RoomSize.
	Rooms, RoomSize int
	// RoomType is "direct" or "group"; "" means direct for rooms of 2.
	RoomType string
	// UserBase is the first user id [1].
	UserBase int64
	// Publishers is how many members of each room publish [1].
	Publishers int
	// Rates are messages per second per publisher, one phase each; or
	// TotalRates, messages per second over all publishers together. At most
	// one of the two may be set; neither means an idle run.
	Rates, TotalRates []float64
	// Duration is each phase's send window, or the idle hold [10s].
	Duration time.Duration
	// Drain is how long a phase waits for deliveries after its last send;
	// what has not arrived by then counts as lost [5s].
	Drain time.Duration
	// Settle is the pause after connecting before the idle memory sample
	// and the first phase [2s].
	Settle time.Duration
	// Payload is the size of each chat message text in bytes [64].
	Payload int
	// ConnectParallel is how many connections are being opened at once [50].
	ConnectParallel int
	// ConnectTimeout bounds each connection's handshake, and the wait for
	// all subscriptions [10s].
	ConnectTimeout time.Duration
	// SourceIPs spreads connections over 127.0.0.1..127.0.0.N as source
	// addresses (about 28k connections fit per source address) [1].
	SourceIPs int
	// HeartBeat is the STOMP heart-beat sent and asked for, as stompjs'
	// heartbeatIncoming/Outgoing [10s]. Negative: none, CONNECT says
	// heart-beat:0,0 and no beats are sent (an independent client's choice).
	HeartBeat time.Duration
	// Schedule places each publisher's sends in time [ScheduleEven]; see
	// ScheduleEven and ScheduleRandom.
	Schedule string
	// SlowReaders is how many connections read slowly: the last ones
	// (connection index Conns()-SlowReaders and up, the highest user ids;
	// publishers are each room's first members). Each sleeps ReadDelay
	// after every WebSocket message it reads, so the delay shows in the
	// latency, and what a server drops or a cut connection misses counts as
	// lost [0].
	SlowReaders int
	ReadDelay   time.Duration
	// RcvBuf is the SO_RCVBUF of every client socket in bytes (the kernel
	// doubles it); 0 leaves the kernel's default and autotuning. A small
	// one keeps a slow reader's backlog on the server, not in the kernel.
	RcvBuf int
	// Send is the shape of the SEND frames (content-type, receipts, the
	// message text's form) [chatload's own: none of them].
	Send SendShape
	// Secret signs the HS256 tokens (JWT_SECRET of the servers). Required.
	Secret []byte
	// Seed creates the rooms. Required.
	Seed Seeder
	// SeedParallel is how many rooms are created at once [16].
	SeedParallel int
	// PubWorkers is the number of publishing goroutines [4].
	PubWorkers int
	// ServerPIDs and RedisPIDs are sampled from /proc for CPU and RSS.
	ServerPIDs, RedisPIDs []int
	// ProfileSignals sends the ServerPIDs SIGUSR2 right before and right
	// after every measured window (a node run by ws/cmd/ws TestProfileServe
	// toggles a CPU profile, one file per window), and SIGUSR1 at the end of
	// an idle hold (it dumps its live heap).
	ProfileSignals bool
	// Progress receives human-readable progress lines (nil: none).
	Progress io.Writer
	// PhaseStart, when set, is called as each publish phase begins, once
	// every connection is subscribed: tests start their faults from it. It
	// must return at once.
	PhaseStart func(phase int)
}

func (c *Config) defaults() {
	if c.UserBase <= 0 {
		c.UserBase = 1
	}
	if c.Publishers <= 0 {
		c.Publishers = 1
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
	if c.Settle < 0 {
		c.Settle = 0
	} else if c.Settle == 0 {
		c.Settle = 2 * time.Second
	}
	if c.Payload <= 0 {
		c.Payload = 64
	}
	if c.ConnectParallel <= 0 {
		c.ConnectParallel = 50
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.SourceIPs <= 0 {
		c.SourceIPs = 1
	}
	if c.HeartBeat == 0 {
		c.HeartBeat = 10 * time.Second
	}
	if c.Schedule == "" {
		c.Schedule = ScheduleEven
	}
	if c.SeedParallel <= 0 {
		c.SeedParallel = 16
	}
	if c.PubWorkers <= 0 {
		c.PubWorkers = 4
	}
	if c.RoomType == "" {
		c.RoomType = "group"
		if c.RoomSize == 2 {
			c.RoomType = "direct"
		}
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// Conns is the number of connections the run opens.
func (c *Config) Conns() int { return c.Rooms * c.RoomSize }

// slowReader reports whether connection idx is one of the SlowReaders.
func (c *Config) slowReader(idx int) bool { return idx >= c.Conns()-c.SlowReaders }

// Idle reports whether the run only connects and holds.
func (c *Config) Idle() bool { return len(c.Rates) == 0 && len(c.TotalRates) == 0 }

// validate checks c after defaults.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.WS) == 0 {
		bad("no ws URL")
	}
	for _, u := range c.WS {
		if err := CheckLoopbackURL(u, "ws"); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case c.Rooms <= 0 || c.RoomSize <= 0:
		bad("rooms and room size must be positive")
	case c.Conns() > MaxConns:
		bad("%d connections exceed the limit of %d", c.Conns(), MaxConns)
	}
	switch c.RoomType {
	case "direct":
		if c.RoomSize != 2 {
			bad("direct rooms have 2 members, not %d", c.RoomSize)
		}
	case "group":
		if c.RoomSize < 1 {
			bad("a group needs a member")
		}
	default:
		bad("room type must be direct or group, not %q", c.RoomType)
	}
	if c.Schedule != ScheduleEven && c.Schedule != ScheduleRandom {
		bad("schedule must be %s or %s, not %q", ScheduleEven, ScheduleRandom, c.Schedule)
	}
	if c.Publishers > c.RoomSize {
		bad("%d publishers per room exceed the room size %d", c.Publishers, c.RoomSize)
	}
	if len(c.Rates) > 0 && len(c.TotalRates) > 0 {
		bad("set per-publisher rates or total rates, not both")
	}
	if len(c.Rates)+len(c.TotalRates) > MaxPhases {
		bad("at most %d phases", MaxPhases)
	}
	for _, r := range append(append([]float64(nil), c.Rates...), c.TotalRates...) {
		if r <= 0 || r > 1e6 {
			bad("rate %v out of range (0, 1e6]", r)
		}
	}
	if c.Duration > MaxDuration || c.Drain > MaxDuration {
		bad("duration and drain are limited to %s", MaxDuration)
	}
	if c.Payload > MaxPayload {
		bad("payload is limited to %d bytes", MaxPayload)
	}
	if c.SourceIPs > MaxSourceIP {
		bad("at most %d source addresses", MaxSourceIP)
	}
	if c.Conns() > 28000*c.SourceIPs {
		bad("%d connections need more source addresses (about 28000 each): raise -source-ips to %d", c.Conns(), (c.Conns()+27999)/28000)
	}
	if c.SlowReaders < 0 || c.SlowReaders > c.Conns() {
		bad("%d slow readers out of range [0, %d connections]", c.SlowReaders, c.Conns())
	}
	if c.ReadDelay < 0 || c.ReadDelay > time.Minute || (c.SlowReaders > 0) != (c.ReadDelay > 0) {
		bad("slow readers need a read delay in (0, 1m] and a read delay needs slow readers")
	}
	if c.RcvBuf < 0 {
		bad("SO_RCVBUF %d must not be negative", c.RcvBuf)
	}
	if len(c.Secret) == 0 {
		bad("no JWT secret")
	}
	if c.Seed == nil {
		bad("no room seeder")
	}
	return errors.Join(errs...)
}

// CheckLoopbackURL accepts only URLs whose host is a loopback address (or
// "localhost"), with one of the given schemes.
func CheckLoopbackURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("URL %q: %w", raw, err)
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return fmt.Errorf("URL %q: scheme must be one of %v", raw, schemes)
	}
	return CheckLoopbackHost(u.Hostname())
}

// CheckLoopbackHost accepts "localhost" and loopback IP literals only: the
// load tool never targets another machine.
func CheckLoopbackHost(host string) error {
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: chatload only targets this machine", host)
	}
	return nil
}
