// Command floor measures what this machine charges for the I/O that every
// one-to-one chat message needs, whatever server carries it. It answers
// whether a CPU goal per delivery (issue 18: W2 at 60 CPU-µs, server +
// Redis) can be met here at all, apart from roomwire's own code.
//
//	floor hop    one-way 150-byte messages over loopback TCP from one Go
//	             process to another: -conns connections, each sending
//	             -rate messages a second from a random phase, so that most
//	             messages wake their reader, as W2's do. Prints the
//	             receiving process's CPU-µs per message.
//	floor connect  -conns bare WebSocket handshakes (coder/websocket on
//	             both sides, nothing after the upgrade), -parallel at once,
//	             as W1 connects: the time, and the server's and the client's
//	             CPU-µs per connect.
//	floor relay  W2's skeleton with the product's real Redis work and no
//	             other: -pairs direct rooms (seeded through the room store),
//	             both members connected over plain TCP and registered in the
//	             session registry, each sending -rate messages a second
//	             (100-byte texts, random phase). The relay, a child process,
//	             reads a message, runs the real send.lua (messages.Store.Send,
//	             with the notifier as observer, as a ws node does) and writes
//	             the stored JSON to both members: no WebSocket, STOMP, JSON
//	             decoding, auth or metrics. With -pubsub the relay delivers
//	             what Redis publishes on the room channel instead of the
//	             script's reply, as the node does. Prints the relay's and
//	             Redis's CPU-µs per delivery.
//
// Both print one JSON line on stdout and a summary on stderr. The relay
// needs -redis (a private server: it writes rooms under -redis-prefix) and
// -redis-pid for Redis's CPU. Every address must be on loopback.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// childEnv names the role a re-executed copy of this program plays.
const childEnv = "FLOOR_CHILD"

func main() {
	if role := os.Getenv(childEnv); role != "" {
		if err := runChild(role, os.Args[1:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "floor child:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
}

// options are the flags of every mode.
type options struct {
	mode        string
	conns       int
	pairs       int
	rate        float64
	duration    time.Duration
	redisURL    string
	redisPrefix string
	redisPID    int
	pubsub      bool
	parallel    int
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	if len(args) == 0 || (args[0] != "hop" && args[0] != "relay" && args[0] != "connect") {
		return o, errors.New("usage: floor hop|relay|connect [flags] (-h for the flags)")
	}
	o.mode = args[0]
	fs := flag.NewFlagSet("floor "+o.mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.conns, "conns", 400, "hop, connect: connections")
	fs.IntVar(&o.parallel, "parallel", 50, "connect: handshakes at once")
	fs.IntVar(&o.pairs, "pairs", 1000, "relay: direct rooms, two connections each")
	fs.Float64Var(&o.rate, "rate", 0, "messages a second per connection (hop: default 5, relay: 1)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "how long the connections send")
	fs.StringVar(&o.redisURL, "redis", "", "relay: REDIS_URL of a private Redis (loopback)")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "floor", "relay: key prefix of the seeded rooms")
	fs.IntVar(&o.redisPID, "redis-pid", 0, "relay: the Redis server's process id, for its CPU")
	fs.BoolVar(&o.pubsub, "pubsub", false, "relay: deliver what Redis publishes, not the script's reply")
	if err := fs.Parse(args[1:]); err != nil {
		return o, err
	}
	if o.rate == 0 {
		o.rate = 5
		if o.mode == "relay" {
			o.rate = 1
		}
	}
	switch {
	case o.conns < 1 || o.pairs < 1 || o.parallel < 1 || o.rate <= 0 || o.duration <= 0:
		return o, errors.New("-conns, -pairs, -parallel, -rate and -duration must be positive")
	case o.mode == "relay" && o.redisURL == "":
		return o, errors.New("relay needs -redis")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	var res any
	var summary string
	switch o.mode {
	case "hop":
		r, err := runHop(ctx, o)
		if err != nil {
			return err
		}
		res, summary = r, fmt.Sprintf("hop: %d messages at %.0f/s, receiver %.1f CPU-µs per message",
			r.Messages, r.RatePerS, r.RecvCPUUsPerMsg)
	case "connect":
		r, err := runConnect(ctx, o)
		if err != nil {
			return err
		}
		res, summary = r, fmt.Sprintf("connect: %d WebSocket handshakes, %d at once, in %.2f s: server %.0f, client %.0f CPU-µs per connect",
			r.Conns, r.Parallel, r.Seconds, r.ServerCPUUsPerConnect, r.ClientCPUUsPerConnect)
	case "relay":
		r, err := runRelay(ctx, o)
		if err != nil {
			return err
		}
		res, summary = r, fmt.Sprintf("relay (pubsub %v): %d sent, %d delivered, %.1f CPU-µs per delivery (relay %.1f, Redis %.1f)",
			r.PubSub, r.Sent, r.Delivered, r.CPUUsPerDelivery, r.RelayCPUUsPerDelivery, r.RedisCPUUsPerDelivery)
	}
	fmt.Fprintln(stderr, summary)
	return json.NewEncoder(stdout).Encode(res)
}

// runChild plays a role for the parent: "recv" (hop's reader) or "relay".
// It prints its listening address as the first line on out, and its result
// as a JSON line at the end.
func runChild(role string, args []string, in io.Reader, out io.Writer) error {
	switch role {
	case "recv":
		return serveRecv(args, out)
	case "relay":
		return serveRelay(args, in, out)
	case "upgrade":
		return serveUpgrade(in, out)
	}
	return fmt.Errorf("unknown role %q", role)
}
