package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomwire/roomwire/tools/chatload/load"
)

// hopSize is the size of one hop message: about a STOMP MESSAGE frame of
// W2 in a WebSocket frame.
const hopSize = 150

// hopResult is what floor hop prints.
type hopResult struct {
	Mode            string  `json:"mode"`
	Conns           int     `json:"conns"`
	RatePerS        float64 `json:"ratePerS"` // all connections together
	Messages        int64   `json:"messages"`
	RecvCPUUsPerMsg float64 `json:"recvCpuUsPerMsg"`
}

// recvReport is the reader's closing line.
type recvReport struct {
	Bytes int64   `json:"bytes"`
	CPUUs float64 `json:"cpuUs"`
}

func runHop(ctx context.Context, o options) (hopResult, error) {
	res := hopResult{Mode: "hop", Conns: o.conns, RatePerS: o.rate * float64(o.conns)}
	c, addr, err := startChild(ctx, "recv", "-conns", strconv.Itoa(o.conns))
	if err != nil {
		return res, err
	}
	conns := make([]net.Conn, 0, o.conns)
	closeAll := func() {
		for _, cn := range conns {
			cn.Close()
		}
	}
	for range o.conns {
		cn, err := net.Dial("tcp", addr)
		if err != nil {
			closeAll()
			c.stop()
			return res, fmt.Errorf("dial the reader: %w", err)
		}
		conns = append(conns, cn)
	}
	time.Sleep(200 * time.Millisecond) // every connection accepted
	sent := sendPaced(ctx, conns, o.rate, o.duration, make([]byte, hopSize))
	closeAll()
	var rep recvReport
	if err := c.result(&rep); err != nil {
		return res, err
	}
	res.Messages = sent
	if rep.Bytes != res.Messages*hopSize {
		return res, fmt.Errorf("the reader got %d bytes, %d were sent", rep.Bytes, res.Messages*hopSize)
	}
	if res.Messages > 0 {
		res.RecvCPUUsPerMsg = rep.CPUUs / float64(res.Messages)
	}
	return res, nil
}

// sendPaced writes msg on each of conns rate times a second, each from a
// random phase, for d (or until ctx ends or a write fails), and returns
// the number of writes.
func sendPaced(ctx context.Context, conns []net.Conn, rate float64, d time.Duration, msg []byte) int64 {
	var sent atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	every := time.Duration(float64(time.Second) / rate)
	for _, cn := range conns {
		wg.Go(func() {
			paced(ctx, every, end, func() bool {
				if _, err := cn.Write(msg); err != nil {
					return false
				}
				sent.Add(1)
				return true
			})
		})
	}
	wg.Wait()
	return sent.Load()
}

// paced calls send every interval from a random phase until end, ctx's
// end or send's false.
func paced(ctx context.Context, every time.Duration, end time.Time, send func() bool) {
	phase := time.NewTimer(rand.N(every))
	defer phase.Stop()
	select {
	case <-ctx.Done():
		return
	case <-phase.C:
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for time.Now().Before(end) {
		if !send() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveRecv is hop's reader: it accepts -conns connections, reads them to
// their end and reports the bytes and its CPU time from the last accept.
func serveRecv(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("recv", flag.ContinueOnError)
	n := fs.Int("conns", 1, "connections to accept")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Fprintln(out, ln.Addr())
	conns := make([]net.Conn, 0, *n)
	for range *n {
		cn, err := ln.Accept()
		if err != nil {
			return err
		}
		conns = append(conns, cn)
	}
	start, err := load.ReadProc(0)
	if err != nil {
		return err
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, cn := range conns {
		wg.Go(func() {
			defer cn.Close()
			b := make([]byte, 4096)
			for {
				k, err := cn.Read(b)
				total.Add(int64(k))
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	end, err := load.ReadProc(0)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(recvReport{Bytes: total.Load(), CPUUs: float64((end.CPU - start.CPU).Microseconds())})
}
