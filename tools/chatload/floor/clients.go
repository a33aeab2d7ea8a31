package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/tools/chatload/load"
)

// relayResult is what floor relay prints. CPU is taken over the send
// window and the drain after it, per delivery received.
type relayResult struct {
	Mode                  string  `json:"mode"`
	PubSub                bool    `json:"pubsub"`
	Pairs                 int     `json:"pairs"`
	RatePerS              float64 `json:"ratePerS"` // messages, all users together
	Sent                  int64   `json:"sent"`
	Delivered             int64   `json:"delivered"`
	RelayCPUUsPerDelivery float64 `json:"relayCpuUsPerDelivery"`
	RedisCPUUsPerDelivery float64 `json:"redisCpuUsPerDelivery"` // 0 without -redis-pid
	CPUUsPerDelivery      float64 `json:"cpuUsPerDelivery"`
}

// drainWait bounds the wait for the last deliveries after the window.
const drainWait = 5 * time.Second

// text is every message's text: 100 bytes, as in W2i and W2s.
var text = strings.Repeat("x", 100)

func runRelay(ctx context.Context, o options) (relayResult, error) {
	res := relayResult{Mode: "relay", PubSub: o.pubsub, Pairs: o.pairs, RatePerS: o.rate * float64(2*o.pairs)}
	rdb, err := load.OpenRedis(o.redisURL)
	if err != nil {
		return res, fmt.Errorf("-redis: %w", err)
	}
	defer rdb.Close()
	ks, err := keys.New(o.redisPrefix)
	if err != nil {
		return res, fmt.Errorf("-redis-prefix: %w", err)
	}
	users, err := seedPairs(ctx, room.NewStore(rdb, ks, room.Config{}), o.pairs)
	if err != nil {
		return res, err
	}
	args := []string{"-redis", o.redisURL, "-redis-prefix", o.redisPrefix}
	if o.pubsub {
		args = append(args, "-pubsub")
	}
	relayProc, addr, err := startChild(ctx, "relay", args...)
	if err != nil {
		return res, err
	}
	var delivered, refused atomic.Int64
	conns := make([]net.Conn, 0, len(users))
	var readers sync.WaitGroup
	defer func() {
		for _, cn := range conns {
			cn.Close()
		}
		readers.Wait()
		relayProc.stop()
	}()
	for _, u := range users {
		cn, err := hello(addr, u)
		if err != nil {
			return res, err
		}
		conns = append(conns, cn.Conn)
		readers.Go(func() {
			for {
				line, err := cn.br.ReadSlice('\n')
				if err != nil {
					return
				}
				if line[0] == 'E' {
					refused.Add(1)
					continue
				}
				delivered.Add(1)
			}
		})
	}
	pids := []int{relayProc.PID()}
	if o.redisPID > 0 {
		pids = append(pids, o.redisPID)
	}
	before, err := sample(pids)
	if err != nil {
		return res, err
	}
	res.Sent = sendPaced(ctx, conns, o.rate, o.duration, []byte(text+"\n"))
	for deadline := time.Now().Add(drainWait); delivered.Load() < 2*res.Sent && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	after, err := sample(pids)
	if err != nil {
		return res, err
	}
	res.Delivered = delivered.Load()
	if res.Delivered > 0 {
		res.RelayCPUUsPerDelivery = float64((after[0] - before[0]).Microseconds()) / float64(res.Delivered)
		if len(pids) > 1 {
			res.RedisCPUUsPerDelivery = float64((after[1] - before[1]).Microseconds()) / float64(res.Delivered)
		}
		res.CPUUsPerDelivery = res.RelayCPUUsPerDelivery + res.RedisCPUUsPerDelivery
	}
	switch {
	case refused.Load() > 0:
		return res, fmt.Errorf("the relay refused %d sends (see its stderr)", refused.Load())
	case res.Delivered != 2*res.Sent:
		return res, fmt.Errorf("%d of %d deliveries arrived", res.Delivered, 2*res.Sent)
	case ctx.Err() != nil:
		return res, ctx.Err()
	}
	return res, nil
}

// pairUser is one member of a seeded direct room.
type pairUser struct{ id, room, peer int64 }

// seedPairs creates n direct rooms of fresh users (ids from the clock, so
// runs on one Redis do not share rooms) with 16 creators at once.
func seedPairs(ctx context.Context, rooms *room.Store, n int) ([]pairUser, error) {
	base := time.Now().UnixMilli() % 1_000_000_000 * 1_000_000
	users := make([]pairUser, 2*n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				a, b := base+2*i+1, base+2*i+2
				r, _, err := rooms.CreateDirect(ctx, a, b)
				if err != nil {
					errs <- fmt.Errorf("seed room %d: %w", i, err)
					return
				}
				users[2*i] = pairUser{a, r.ID, b}
				users[2*i+1] = pairUser{b, r.ID, a}
			}
		})
	}
	wg.Wait()
	close(errs)
	return users, <-errs
}

// relayConn is a client's connection after its hello was answered.
type relayConn struct {
	net.Conn
	br *bufio.Reader
}

func hello(addr string, u pairUser) (relayConn, error) {
	rc, err := helloLine(addr, fmt.Sprintf("H %d %d %d\n", u.id, u.room, u.peer))
	if err != nil {
		return relayConn{}, fmt.Errorf("hello of user %d: %w", u.id, err)
	}
	return rc, nil
}

// helloLine dials the relay, sends line and waits for its "OK".
func helloLine(addr, line string) (relayConn, error) {
	cn, err := net.Dial("tcp", addr)
	if err != nil {
		return relayConn{}, fmt.Errorf("dial the relay: %w", err)
	}
	_ = cn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(cn)
	_, err = io.WriteString(cn, line)
	var ok string
	if err == nil {
		ok, err = br.ReadString('\n')
	}
	if err == nil && ok != "OK\n" {
		err = errors.New(strings.TrimSpace(ok))
	}
	if err != nil {
		cn.Close()
		return relayConn{}, err
	}
	_ = cn.SetDeadline(time.Time{})
	return relayConn{cn, br}, nil
}

// sample reads the CPU time of each of pids.
func sample(pids []int) ([]time.Duration, error) {
	out := make([]time.Duration, len(pids))
	for i, p := range pids {
		st, err := load.ReadProc(p)
		if err != nil {
			return nil, fmt.Errorf("read the CPU time of process %s: %w", strconv.Itoa(p), err)
		}
		out[i] = st.CPU
	}
	return out, nil
}
