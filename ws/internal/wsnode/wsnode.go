// Package wsnode assembles one ws node: the Redis stores, the fan-out hub,
// the STOMP gateway, the node's cluster duties and its metrics, wired once.
// cmd/ws builds its node with New, and so do the tests and benchmarks that
// need a node (through wsnodetest), so what they exercise is what ships.
package wsnode

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/metrics"
	"github.com/roomwire/roomwire/ws/internal/node"
	"github.com/roomwire/roomwire/ws/internal/typing"
)

// Config configures a Node. Zero fields take the defaults of the component
// they configure, or those in brackets.
type Config struct {
	// ID names the node in the registry, its logs and its probe channel;
	// required.
	ID string
	// Logger receives every component's logs [discarded].
	Logger *slog.Logger
	// Gateway holds the STOMP limits and timeouts; its NodeID and Logger
	// are set from ID and Logger.
	Gateway gateway.Config
	// Duties configures the heartbeat, the reaper and the membership
	// audit; its ID, Logger and Members are set here.
	Duties node.Config
	// Messages configures the message store (size cap, history length);
	// its Observer is set to the node's notifier.
	Messages messages.Config
	// Notify configures post-send notifications; its Logger is set here.
	Notify notify.Config
	// Typing configures typing indicators.
	Typing typing.Config
	// Linger is how long the hub keeps an unused channel subscribed
	// (fanout.Config.Linger: 0 default, negative off).
	Linger time.Duration
	// MasterCheck is how often the hub checks that its pub/sub connection
	// is on the current master, on the node's own check channel
	// (fanout.Config.MasterCheck; config.Common.MasterCheck: set under
	// Redis Sentinel, 0 otherwise).
	MasterCheck time.Duration
	// ProbeEvery is the period of the metrics' Redis and pub/sub probe [5s].
	ProbeEvery time.Duration
}

// Node is one assembled ws node. Its exported fields are the components,
// for tests to inspect; do not replace them.
type Node struct {
	ID       string
	Keys     keys.Space
	Gateway  *gateway.Server
	Hub      *fanout.Hub
	Registry *registry.Registry
	Rooms    *room.Store
	Messages *messages.Store
	Metrics  *metrics.Metrics
	Duties   *node.Node

	rdb        redis.UniversalClient
	notes      *notify.Notifier
	probeEvery time.Duration
	mux        *http.ServeMux
}

// New assembles a node on rdb and key space ks (nodes on the same ones are
// one deployment) that accepts tokens verified by verifier. Nothing runs
// until Start.
func New(rdb redis.UniversalClient, ks keys.Space, verifier gateway.Verifier, cfg Config) *Node {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ProbeEvery <= 0 {
		cfg.ProbeEvery = 5 * time.Second
	}
	n := &Node{ID: cfg.ID, Keys: ks, rdb: rdb, probeEvery: cfg.ProbeEvery}
	n.Registry = registry.New(rdb, ks)
	n.Rooms = room.NewStore(rdb, ks, room.Config{})
	ncfg := cfg.Notify
	ncfg.Logger = log
	n.notes = notify.New(rdb, ks, events.NewPublisher(rdb, ks), ncfg)
	mcfg := cfg.Messages
	mcfg.Observer = n.notes
	n.Messages = messages.NewStore(rdb, ks, mcfg)
	n.Metrics = metrics.New()
	n.Metrics.ClassifyChannels(ks.ChannelKind)
	n.Hub = fanout.New(rdb, fanout.Config{Logger: log, Backfill: n.Messages.ByChannel(),
		Observe: n.Metrics.ObserveMessage, Linger: cfg.Linger,
		MasterCheck: cfg.MasterCheck, CheckChannel: ks.MasterCheck(cfg.ID)})
	gcfg := cfg.Gateway
	gcfg.NodeID, gcfg.Logger = cfg.ID, log
	n.Gateway = gateway.New(gcfg, gateway.Deps{
		Keys: ks, Verifier: verifier, Hub: n.Hub, Sessions: n.Registry,
		Members: n.Rooms, Sender: n.Messages, History: n.Messages,
		Reads:  readstate.NewStore(rdb, ks, readstate.Config{Observer: n.notes}),
		Typing: typing.NewStore(rdb, ks, cfg.Typing),
	})
	dcfg := cfg.Duties
	dcfg.ID, dcfg.Logger, dcfg.Members = cfg.ID, log, n.Rooms
	n.Duties = node.New(dcfg, ks, n.Registry, n.Gateway, n.Hub)
	n.Metrics.Watch(n.Gateway, n.Hub)
	n.Metrics.WatchNode(n.Duties)

	n.mux = http.NewServeMux()
	n.mux.Handle("GET /ws", n.Gateway)
	n.mux.Handle("GET /metrics", n.Metrics.Handler())
	n.mux.HandleFunc("GET /healthz", n.healthz)
	n.mux.HandleFunc("GET /readyz", n.readyz)
	return n
}

// Handler serves the node's endpoints: the WebSocket on /ws, Prometheus
// metrics on /metrics, /healthz and /readyz.
func (n *Node) Handler() http.Handler { return n.mux }

// Start starts the node's background work (the hub's pub/sub, the cluster
// duties, the metrics probe, the notification worker), owned by ctx: wait
// returns once all of it stopped after ctx ended. Call it once, before
// serving Handler.
func (n *Node) Start(ctx context.Context) (wait func()) {
	notesDone := n.notes.Start(ctx) // post-send notifications off the send path
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); _ = n.Hub.Run(ctx) }()
	go func() { defer wg.Done(); n.Duties.Run(ctx) }()
	go func() {
		defer wg.Done()
		n.Metrics.RunProbe(ctx, n.rdb, n.Hub, n.Keys.NodeProbe(n.ID), n.probeEvery)
	}()
	return func() { wg.Wait(); notesDone() }
}

// Shutdown tells every client to reconnect elsewhere, waits for the
// sockets to close (until ctx ends) and removes the node's sessions from
// the registry. Stop serving Handler first; cancel Start's context after.
func (n *Node) Shutdown(ctx context.Context) error {
	err := n.Gateway.Shutdown(ctx)
	n.Duties.Leave(ctx)
	if err != nil {
		return fmt.Errorf("shutdown node %s: %w", n.ID, err)
	}
	return nil
}

func (n *Node) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status":"ok","node":%q}`+"\n", n.ID)
}

// readyz answers 503 while Redis is unreachable or a channel's pub/sub
// subscription was lost and is not confirmed again (being retried): its
// messages, control commands included, do not reach this node meanwhile.
func (n *Node) readyz(w http.ResponseWriter, r *http.Request) {
	pctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := n.rdb.Ping(pctx).Err(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"status":"redis unreachable"}`)
		return
	}
	if u := n.Hub.Unconfirmed(); u > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"status":"pubsub resubscribing","unconfirmed":%d}`+"\n", u)
		return
	}
	fmt.Fprintf(w, `{"status":"ready","node":%q,"sessions":%d}`+"\n", n.ID, n.Gateway.Sessions())
}
