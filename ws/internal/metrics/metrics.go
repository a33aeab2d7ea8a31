// Package metrics exposes a ws node's Prometheus metrics. Counters and
// gauges are read at scrape time from the counters the gateway and the
// fan-out hub keep anyway (gateway.Server.Stats, fanout.Hub.Stats), so
// metrics add no work to the hot paths; only three histograms are
// observed as things happen: fan-out latency (once per chat message per
// node, in the hub's receive loop), Redis round trips and pub/sub lag (a
// probe every few seconds).
//
// Labels are low-cardinality by construction: STOMP commands, error kinds.
// Never user, room or session ids.
package metrics

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// Gateway reports the gateway's counters (gateway.Server).
type Gateway interface {
	Stats() gateway.Stats
}

// Hub reports the fan-out hub's counters and subscribes the probe
// (fanout.Hub).
type Hub interface {
	Stats() fanout.Stats
	Subscribe(ctx context.Context, channel string, s fanout.Subscriber) error
	Unsubscribe(channel string, s fanout.Subscriber)
}

// Redis is what the probe sends through: PING, and a publish in the
// client's pub/sub mode (events.Publish: SPUBLISH on a cluster).
type Redis = redis.UniversalClient

var (
	_ Gateway = (*gateway.Server)(nil)
	_ Hub     = (*fanout.Hub)(nil)
	_ Redis   = redis.UniversalClient(nil)
)

// latencyBuckets suit fan-out within a data centre: 0.5 ms to 10 s.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is a ws node's registry. Create it with New before the hub (its
// ObserveMessage is the hub's Config.Observe), then call Watch once the
// gateway exists. Safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	fanout    prometheus.Histogram
	redisRTT  prometheus.Histogram
	pubsubLag prometheus.Histogram
	byKind    *prometheus.CounterVec
	kind      func(channel string) string
	now       func() time.Time
}

// New returns Metrics with the Go runtime and process collectors and the
// three histograms registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), now: time.Now}
	m.fanout = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "roomwire_ws_fanout_latency_seconds",
		Help:    "Time from a chat message's sentAt to its receipt from Redis by this node (once per message per node).",
		Buckets: latencyBuckets,
	})
	m.redisRTT = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "roomwire_ws_redis_roundtrip_seconds",
		Help:    "Round-trip time of the probe's Redis PING.",
		Buckets: latencyBuckets,
	})
	m.pubsubLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "roomwire_ws_pubsub_lag_seconds",
		Help:    "Time from the probe's PUBLISH on the node's probe channel to its receipt by the node's hub.",
		Buckets: latencyBuckets,
	})
	m.byKind = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roomwire_ws_redis_messages_by_kind_total",
		Help: "Messages received live from Redis by this node's hub, by kind of channel (room, room_events, user, node_control, control, probe, other); duplicates dropped by seq are not counted.",
	}, []string{"kind"})
	m.kind = func(string) string { return "other" }
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.fanout, m.redisRTT, m.pubsubLag, m.byKind)
	return m
}

// ClassifyChannels sets how ObserveMessage names a channel's kind (for
// roomwire_ws_redis_messages_by_kind_total), e.g. keys.Space.ChannelKind.
// Call it before the hub starts.
func (m *Metrics) ClassifyChannels(kind func(channel string) string) { m.kind = kind }

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Watch registers the collectors reading gw's and hub's counters at
// scrape time. Call it once.
func (m *Metrics) Watch(gw Gateway, hub Hub) {
	m.reg.MustRegister(&statsCollector{gw: gw, hub: hub}, &pubsubCollector{hub: hub})
}

// ObserveMessage is fanout.Config.Observe: it counts the message by kind of
// channel, and for a chat message (one with a seq) it observes now − sentAt
// in the fan-out latency histogram. It only scans the payload for
// "sentAt"; other payloads cost no more than the count. Clock skew
// between hosts can make the difference negative; it is then observed as 0.
func (m *Metrics) ObserveMessage(msg *fanout.Msg) {
	m.byKind.WithLabelValues(m.kind(msg.Channel)).Inc()
	if msg.Seq <= 0 {
		return
	}
	sent, ok := sentAt(msg.Payload)
	if !ok {
		return
	}
	m.fanout.Observe(max(m.now().Sub(sent), 0).Seconds())
}

// sentAt finds the "sentAt" field of a message payload. Inside JSON strings
// quotes are escaped, so the key cannot be matched within a message text.
func sentAt(p []byte) (time.Time, bool) {
	const key = `"sentAt":"`
	i := bytes.Index(p, []byte(key))
	if i < 0 {
		return time.Time{}, false
	}
	rest := p[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || j > 40 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// RunProbe measures Redis until ctx ends: every `every` (default 5s) it
// times a PING (roomwire_ws_redis_roundtrip_seconds) and publishes the
// current time on channel, which the probe has subscribed to through hub,
// and observes the time until the hub hands it back
// (roomwire_ws_pubsub_lag_seconds). The probe channel counts as one of the
// node's subscribed channels.
func (m *Metrics) RunProbe(ctx context.Context, rdb Redis, hub Hub, channel string, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Second
	}
	p := probe{m: m}
	if err := hub.Subscribe(ctx, channel, p); err == nil {
		defer hub.Unsubscribe(channel, p)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m.probeOnce(ctx, rdb, channel, every)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Metrics) probeOnce(ctx context.Context, rdb Redis, channel string, timeout time.Duration) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := m.now()
	if rdb.Ping(pctx).Err() != nil {
		return // Redis is down; readiness reports that
	}
	m.redisRTT.Observe(m.now().Sub(start).Seconds())
	_ = events.Publish(pctx, rdb, channel, strconv.FormatInt(m.now().UnixNano(), 10)).Err()
}

// probe receives the probe's own publications (on the hub's goroutine).
type probe struct{ m *Metrics }

func (p probe) Deliver(msg *fanout.Msg) {
	ns, err := strconv.ParseInt(string(msg.Payload), 10, 64)
	if err != nil {
		return
	}
	p.m.pubsubLag.Observe(max(p.m.now().Sub(time.Unix(0, ns)), 0).Seconds())
}

// statsCollector turns the gateway's and the hub's counters into metrics at
// scrape time.
type statsCollector struct {
	gw  Gateway
	hub Hub
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descConns      = desc("roomwire_ws_connections_open", "WebSocket connections open on this node (CONNECTed or not).")
	descSessions   = desc("roomwire_ws_sessions_open", "STOMP sessions (CONNECTed) live on this node.")
	descSubs       = desc("roomwire_ws_subscriptions_open", "STOMP subscriptions open on this node.")
	descChannels   = desc("roomwire_ws_redis_channels_subscribed", "Redis pub/sub channels this node's hub is subscribed to (rooms served, user queues, control, probe).")
	descFramesIn   = desc("roomwire_ws_frames_in_total", "STOMP frames received, by command.", "command")
	descFramesOut  = desc("roomwire_ws_frames_out_total", "STOMP frames sent, by command (heart-beats as heartbeat).", "command")
	descWrites     = desc("roomwire_ws_socket_writes_total", "WebSocket messages written (queued frames are coalesced).")
	descDelivered  = desc("roomwire_ws_messages_delivered_total", "MESSAGE frames queued to local subscribers (live and replayed).")
	descPublished  = desc("roomwire_ws_messages_published_total", "Chat messages stored and published by STOMP SENDs on this node.")
	descSlow       = desc("roomwire_ws_slow_consumer_disconnects_total", "Connections cut off because their outbound queue was full or a write to them stalled for the write timeout (10 s).")
	descWriterRuns = desc("roomwire_ws_writer_runs_total", "Writer goroutines started: a connection's writer runs while it has a backlog; a reply or a delivery to a small room that the socket takes at once starts none.")
	descCatchUps   = desc("roomwire_ws_catchups_total", "Live chat subscriptions that found their connection's queue above its high-water mark and caught up from history instead of queueing (slow readers, late rather than lost).")
	descErrors     = desc("roomwire_ws_error_disconnects_total", "Connections ended by an ERROR, by kind of error.", "reason")
	descReceived   = desc("roomwire_ws_redis_messages_received_total", "Messages received from Redis pub/sub by this node's hub.")
	descBackfilled = desc("roomwire_ws_redis_messages_backfilled_total", "Messages read from history to close seq gaps.")
	descDuplicates = desc("roomwire_ws_redis_duplicates_dropped_total", "Messages from Redis dropped as already delivered (seq not above the last).")
	descOverflowed = desc("roomwire_ws_fanout_queue_overflows_total", "Messages from Redis not queued because their room's queue was full while its back-fill waited: chat messages are read from history instead, events are lost.")
	descPubSub     = desc("roomwire_ws_redis_pubsub_connections", "Redis pub/sub connections of this node's hub: one on a single Redis, one per master serving a subscribed channel on a cluster.")
	descMoved      = desc("roomwire_ws_redis_channels_moved_total", "Channels re-subscribed on another cluster master after their slot moved (failover, resharding).")
	descSwitches   = desc("roomwire_ws_redis_master_switches_total", "Times the hub moved its pub/sub connection to the current master after finding it on another server (Redis Sentinel failover).")
	allStatsDescs  = []*prometheus.Desc{descConns, descSessions, descSubs, descChannels, descFramesIn, descFramesOut,
		descWrites, descDelivered, descPublished, descSlow, descCatchUps, descWriterRuns, descErrors, descReceived, descBackfilled, descDuplicates, descOverflowed,
		descPubSub, descMoved, descSwitches}
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allStatsDescs {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	g, h := c.gw.Stats(), c.hub.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descConns, float64(g.Connections))
	gauge(descSessions, float64(g.Sessions))
	gauge(descSubs, float64(g.Subscriptions))
	gauge(descChannels, float64(h.Channels))
	for _, cmd := range gateway.Commands() {
		counter(descFramesIn, g.FramesIn[cmd], cmd)
		counter(descFramesOut, g.FramesOut[cmd], cmd)
	}
	for _, k := range gateway.ErrorKinds() {
		counter(descErrors, g.Errors[k], k)
	}
	counter(descWrites, g.Writes)
	counter(descDelivered, g.Delivered)
	counter(descPublished, g.Published)
	counter(descSlow, g.SlowConsumers)
	counter(descCatchUps, g.CatchUps)
	counter(descWriterRuns, g.WriterRuns)
	counter(descReceived, h.Received)
	counter(descBackfilled, h.Backfilled)
	counter(descDuplicates, h.DuplicatesDropped)
	counter(descOverflowed, h.Overflowed)
	gauge(descPubSub, float64(h.Connections))
	counter(descMoved, h.Moved)
	counter(descSwitches, h.MasterSwitches)
}
