// Package wsnodetest runs assembled ws nodes (wsnode.New) inside tests and
// benchmarks. Test support only: no production package imports it.
package wsnodetest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
)

// Served is a node serving on a loopback port.
type Served struct {
	*wsnode.Node
	URL string // the HTTP base, http://127.0.0.1:port
	WS  string // the WebSocket endpoint, ws://127.0.0.1:port/ws
}

// Start assembles a node with wsnode.New, starts it, waits until its
// control channels are subscribed and serves its handler until tb ends;
// then it shuts the node down as cmd/ws does. cfg.ID defaults to "node-"
// and the key prefix.
func Start(tb testing.TB, rdb redis.UniversalClient, ks keys.Space, verifier gateway.Verifier, cfg wsnode.Config) *Served {
	tb.Helper()
	if cfg.ID == "" {
		cfg.ID = "node-" + ks.Prefix()
	}
	n := wsnode.New(rdb, ks, verifier, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	wait := n.Start(ctx)
	select {
	case <-n.Duties.Ready():
	case <-time.After(10 * time.Second):
		cancel()
		wait()
		tb.Fatalf("node %s: control channels not subscribed within 10s", cfg.ID)
	}
	hs := httptest.NewServer(n.Handler())
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = n.Shutdown(sctx)
		hs.Close()
		cancel()
		wait()
	})
	return &Served{Node: n, URL: hs.URL, WS: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
}
