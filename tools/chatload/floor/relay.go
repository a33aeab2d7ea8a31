package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// writeTimeout bounds every write to a member, as the node's does.
const writeTimeout = 10 * time.Second

// relay is the measured process of floor relay: the least a server can do
// per message with roomwire's Redis work. The wire between it and its
// clients is plain lines: "H user room peer" once (the relay registers the
// session and answers "OK"), then one text per line; every stored message
// goes to both members as one line of JSON ("E reason" for a refused send).
type relay struct {
	store  *messages.Store
	reg    *registry.Registry
	keys   keys.Space
	pubsub *redis.PubSub // nil: deliver the script's reply

	mu      sync.Mutex
	members map[int64]*member   // by user
	rooms   map[string][2]int64 // room channel -> its two users
}

// member is one connected user; mu orders the writes to it.
type member struct {
	mu   sync.Mutex
	conn net.Conn
}

func serveRelay(args []string, stop io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	url := fs.String("redis", "", "REDIS_URL")
	prefix := fs.String("redis-prefix", "floor", "key prefix")
	pubsub := fs.Bool("pubsub", false, "deliver what Redis publishes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rdb, err := config.Common{RedisURL: *url}.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	ks, err := keys.New(*prefix)
	if err != nil {
		return err
	}
	notes := notify.New(rdb, ks, events.NewPublisher(rdb, ks), notify.Config{})
	r := &relay{
		store: messages.NewStore(rdb, ks, messages.Config{Observer: notes}),
		reg:   registry.New(rdb, ks), keys: ks,
		members: make(map[int64]*member), rooms: make(map[string][2]int64),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	if *pubsub {
		r.pubsub = rdb.Subscribe(ctx)
		defer r.pubsub.Close()
		wg.Go(func() { r.receive(ctx) })
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(out, ln.Addr())
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				r.serve(ctx, c)
			})
		}
	})
	_, _ = io.Copy(io.Discard, stop) // until the parent closes it
	cancel()
	ln.Close()
	r.mu.Lock()
	for _, m := range r.members {
		m.conn.Close()
	}
	r.mu.Unlock()
	return nil
}

// serve registers one member and relays its messages until it leaves.
func (r *relay) serve(ctx context.Context, c net.Conn) {
	m := &member{conn: c}
	br := bufio.NewReaderSize(c, 4096)
	_ = c.SetReadDeadline(time.Now().Add(writeTimeout))
	hello, err := br.ReadString('\n')
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	var user, roomID, peer int64
	if _, err := fmt.Sscanf(hello, "H %d %d %d\n", &user, &roomID, &peer); err != nil {
		m.write(fmt.Appendf(nil, "E bad hello %q\n", hello))
		return
	}
	s := registry.Session{ID: "floor-" + strconv.FormatInt(user, 10), UserID: user, RoomID: roomID,
		Node: "floor", ConnectedAt: time.Now().UTC().Format(time.RFC3339Nano), RemoteAddr: c.RemoteAddr().String()}
	if _, err := r.reg.Register(ctx, s); err != nil {
		m.write(fmt.Appendf(nil, "E register: %v\n", err))
		return
	}
	ch := r.keys.RoomMessages(roomID)
	r.mu.Lock()
	r.members[user] = m
	_, known := r.rooms[ch]
	r.rooms[ch] = [2]int64{user, peer}
	r.mu.Unlock()
	if r.pubsub != nil && !known {
		if err := r.pubsub.Subscribe(ctx, ch); err != nil {
			m.write(fmt.Appendf(nil, "E subscribe: %v\n", err))
			return
		}
	}
	if !m.write([]byte("OK\n")) {
		return
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		_, js, err := r.store.Send(ctx, roomID, user, peer, string(line[:len(line)-1]))
		if err != nil {
			m.write([]byte("E " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n"))
			return
		}
		if r.pubsub == nil {
			r.deliver(append(js, '\n'), user, peer)
		}
	}
}

// receive delivers what Redis publishes on the rooms' channels.
func (r *relay) receive(ctx context.Context) {
	for {
		msg, err := r.pubsub.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, redis.ErrClosed) {
				fmt.Fprintln(os.Stderr, "floor relay: pubsub:", err)
			}
			return
		}
		r.mu.Lock()
		users, ok := r.rooms[msg.Channel]
		r.mu.Unlock()
		if ok {
			r.deliver([]byte(msg.Payload+"\n"), users[0], users[1])
		}
	}
}

// deliver writes line to each of users that is connected.
func (r *relay) deliver(line []byte, users ...int64) {
	for _, u := range users {
		r.mu.Lock()
		m := r.members[u]
		r.mu.Unlock()
		if m != nil {
			m.write(line)
		}
	}
}

func (m *member) write(b []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = m.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := m.conn.Write(b)
	return err == nil
}
