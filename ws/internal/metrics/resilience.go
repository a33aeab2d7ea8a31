package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomwire/roomwire/ws/internal/node"
)

// Node reports the node's membership audit and ended-session check
// (node.Node).
type Node interface {
	Revocations() uint64
	Disconnects() uint64
}

var _ Node = (*node.Node)(nil)

// WatchNode registers the collector reading nd's counters at scrape time.
// Call it once.
func (m *Metrics) WatchNode(nd Node) {
	m.reg.MustRegister(&nodeCollector{nd: nd})
}

var (
	descResubFailures = desc("roomwire_ws_redis_resubscribe_failures_total", "Pub/sub (re)subscriptions that failed (an error reply to SUBSCRIBE, e.g. an ACL refusal, or a retry that could not be sent); each is retried with backoff.")
	descUnconfirmed   = desc("roomwire_ws_redis_channels_unconfirmed", "Channels whose pub/sub subscription was lost and is not confirmed again yet; /readyz answers 503 while above 0.")
	descDisconnects   = desc("roomwire_ws_disconnects_reconciled_total", "Sessions closed because the registry listed them as ended by the disconnect API or chatctl kick while their disconnect command had not arrived (lost while the node's pub/sub connection was down).")
	descReconciled    = desc("roomwire_ws_revocations_reconciled_total", "Memberships found gone by the membership audit (after the control channel was resubscribed, or periodic) while a live session still watched the room; those sessions were ended.")
)

// pubsubCollector reports the hub's subscription health at scrape time.
type pubsubCollector struct{ hub Hub }

func (c *pubsubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descResubFailures
	ch <- descUnconfirmed
}

func (c *pubsubCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.hub.Stats()
	ch <- prometheus.MustNewConstMetric(descResubFailures, prometheus.CounterValue, float64(h.ResubscribeFailures))
	ch <- prometheus.MustNewConstMetric(descUnconfirmed, prometheus.GaugeValue, float64(h.Unconfirmed))
}

type nodeCollector struct{ nd Node }

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descReconciled
	ch <- descDisconnects
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descReconciled, prometheus.CounterValue, float64(c.nd.Revocations()))
	ch <- prometheus.MustNewConstMetric(descDisconnects, prometheus.CounterValue, float64(c.nd.Disconnects()))
}
