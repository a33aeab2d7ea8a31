package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// connectResult is what floor connect prints: bare WebSocket handshakes
// (coder/websocket on both sides, nothing after the upgrade), as many at
// once as W1 makes (-parallel).
type connectResult struct {
	Mode                  string  `json:"mode"`
	Conns                 int     `json:"conns"`
	Parallel              int     `json:"parallel"`
	Seconds               float64 `json:"seconds"`
	ServerCPUUsPerConnect float64 `json:"serverCpuUsPerConnect"`
	ClientCPUUsPerConnect float64 `json:"clientCpuUsPerConnect"`
}

func runConnect(ctx context.Context, o options) (connectResult, error) {
	res := connectResult{Mode: "connect", Conns: o.conns, Parallel: o.parallel}
	srv, addr, err := startChild(ctx, "upgrade")
	if err != nil {
		return res, err
	}
	defer srv.stop()
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true,
		MaxIdleConnsPerHost: -1}}
	conns := make([]*websocket.Conn, o.conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
	}()
	pids := []int{srv.PID(), 0}
	before, err := sample(pids)
	if err != nil {
		return res, err
	}
	start := time.Now()
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range o.parallel {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(o.conns); i = next.Add(1) - 1 {
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				c, _, err := websocket.Dial(dctx, "ws://"+addr+"/", &websocket.DialOptions{HTTPClient: hc})
				cancel()
				if err != nil {
					failed.Add(1)
					continue
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	after, err := sample(pids)
	if err != nil {
		return res, err
	}
	if n := failed.Load(); n > 0 {
		return res, fmt.Errorf("%d of %d handshakes failed", n, o.conns)
	}
	res.ServerCPUUsPerConnect = float64((after[0] - before[0]).Microseconds()) / float64(o.conns)
	res.ClientCPUUsPerConnect = float64((after[1] - before[1]).Microseconds()) / float64(o.conns)
	return res, nil
}

// serveUpgrade is connect's server: it upgrades every request and holds
// the connection, reading, until the client leaves or stdin is closed.
func serveUpgrade(stop io.Reader, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Reader(ctx); err != nil {
				return
			}
		}
	})}
	fmt.Fprintln(out, ln.Addr())
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	_, _ = io.Copy(io.Discard, stop)
	cancel()
	_ = srv.Close()
	<-served
	return nil
}
