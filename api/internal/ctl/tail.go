package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
)

// tail follows a room: chatctl tail -room ID [-events]. It subscribes to
// the room's messages channel (and its events channel with -events), says
// so on stderr once Redis confirmed the subscriptions, and prints each
// payload as one line (see formatPayload) until ctx ends, which is not an
// error. It sees only what is published while it runs; history is read
// over the REST API.
//
// On a Redis Cluster, where the services publish with SPUBLISH (see
// events.Publish), it uses SSUBSCRIBE on the shard owning the room (a
// room's channels share its slot); when Redis ends that subscription
// because the slot moved (failover, resharding) it says so and subscribes
// again on the new owner. Messages published in between are not seen.
func tail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("tail", stderr)
	roomID := fs.Int64("room", 0, "room id (required)")
	withEvents := fs.Bool("events", false, "also print the room's events (ENTER, LEAVE, READ, TYPING, ...)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *roomID <= 0 {
		fmt.Fprintln(stderr, "chatctl tail: -room ID (positive) is required")
		return ErrUsage
	}
	rdb, ks, err := openRedis(getenv)
	if err != nil {
		return err
	}
	defer rdb.Close()
	channels := []string{ks.RoomMessages(*roomID)}
	if *withEvents {
		channels = append(channels, ks.RoomEvents(*roomID))
	}
	for {
		ps, err := subscribe(ctx, rdb, channels)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Fprintf(stderr, "chatctl tail: listening on %s (Ctrl-C to stop)\n", strings.Join(channels, ", "))
		moved, err := follow(ctx, ps, stdout)
		ps.Close()
		if !moved {
			return err
		}
		fmt.Fprintf(stderr, "chatctl tail: room %d moved to another Redis shard; subscribing again\n", *roomID)
	}
}

// resubscribeFor bounds how long subscribe retries on a cluster whose slot
// map is settling.
const resubscribeFor = 10 * time.Second

// subscribe subscribes to channels (one room's, so one slot) and returns
// once Redis confirmed every one. On a cluster it retries, reloading the
// slot map, for up to resubscribeFor: a failover may still be settling.
func subscribe(ctx context.Context, rdb redis.UniversalClient, channels []string) (*redis.PubSub, error) {
	cluster, _ := rdb.(*redis.ClusterClient)
	deadline := time.Now().Add(resubscribeFor)
	for attempt := 1; ; attempt++ {
		var ps *redis.PubSub
		if cluster != nil {
			ps = cluster.SSubscribe(ctx, channels...)
		} else {
			ps = rdb.Subscribe(ctx, channels...)
		}
		err := confirm(ctx, ps, len(channels))
		if err == nil {
			return ps, nil
		}
		ps.Close()
		err = fmt.Errorf("subscribe to %s: %w", strings.Join(channels, ", "), err)
		if cluster == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return nil, err
		}
		cluster.ReloadState(ctx)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(min(time.Duration(attempt)*100*time.Millisecond, time.Second)):
		}
	}
}

// confirm waits for n subscription confirmations on ps.
func confirm(ctx context.Context, ps *redis.PubSub, n int) error {
	for range n {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return err
		}
		if _, ok := msg.(*redis.Subscription); !ok {
			return fmt.Errorf("got %T before the confirmation", msg)
		}
	}
	return nil
}

// follow prints each message of ps as a line until ctx ends (moved is
// false, and that is no error) or Redis ends a sharded subscription because
// its slot moved (moved is true).
func follow(ctx context.Context, ps *redis.PubSub, stdout io.Writer) (moved bool, err error) {
	// A blocked ReceiveMessage does not watch ctx; a channel does (and
	// pings, and resubscribes after a reconnect).
	msgs := ps.ChannelWithSubscriptions()
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case m, ok := <-msgs:
			if !ok {
				return false, errors.New("tail: subscription closed")
			}
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind == "sunsubscribe" { // tail never unsubscribes: Redis did
					return true, nil
				}
			case *redis.Message:
				if _, err := fmt.Fprintln(stdout, formatPayload(m.Channel, m.Payload)); err != nil {
					return false, err
				}
			}
		}
	}
}

// formatPayload renders one channel payload as a line. A chat message:
//
//	2026-11-26T16:10:46.579Z room 1 seq 17 user 8: hi
//
// (with "→ 3" after the sender when rcvId is set and " (edited …)" when
// edited); an event (any payload with a "type"):
//
//	2026-11-26T16:10:48.424Z room 1 LEAVE user 8 reason=closed
//
// with its remaining fields as sorted key=value pairs. Anything else is
// printed raw after its channel.
func formatPayload(channel, payload string) string {
	var f map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return channel + " " + payload
	}
	take := func(k string) string {
		v, ok := f[k]
		if !ok {
			return ""
		}
		delete(f, k)
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		var b bytes.Buffer
		if json.Compact(&b, v) != nil {
			return string(v)
		}
		return b.String()
	}
	var line strings.Builder
	if typ := take("type"); typ != "" {
		at, room, user := take("at"), take("chatRoomId"), take("userId")
		fmt.Fprintf(&line, "%s room %s %s", or(at, "-"), or(room, "-"), typ)
		if user != "" {
			fmt.Fprintf(&line, " user %s", user)
		}
		for _, k := range slices.Sorted(maps.Keys(f)) {
			fmt.Fprintf(&line, " %s=%s", k, oneLine(take(k)))
		}
		return line.String()
	}
	if _, ok := f["seq"]; !ok {
		return channel + " " + payload
	}
	fmt.Fprintf(&line, "%s room %s seq %s user %s", or(take("sentAt"), "-"), take("chatRoomId"), take("seq"), take("sendId"))
	if rcv := take("rcvId"); rcv != "" && rcv != "0" {
		fmt.Fprintf(&line, " → %s", rcv)
	}
	fmt.Fprintf(&line, ": %s", oneLine(take("message")))
	if edited := take("editedAt"); edited != "" {
		fmt.Fprintf(&line, " (edited %s)", edited)
	}
	return line.String()
}

// oneLine quotes s when it holds control characters (a newline), so that
// one payload stays one line.
func oneLine(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
