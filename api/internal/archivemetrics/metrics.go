// Package archivemetrics holds the archiver's Prometheus metrics
// (archiver.Observer).
package archivemetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomwire/roomwire/shared/chat/archiver"
)

var _ archiver.Observer = (*Metrics)(nil)

// Metrics are the archiver's Prometheus metrics.
type Metrics struct {
	messages  prometheus.Counter
	rooms     prometheus.Counter
	rounds    prometheus.Counter
	failures  prometheus.Counter
	malformed prometheus.Counter
	lost      prometheus.Counter
	backlog   prometheus.Gauge
	lag       prometheus.Gauge
	duration  prometheus.Histogram
}

// New registers the archiver's metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounter(prometheus.CounterOpts{Name: "roomwire_archive_messages_total",
			Help: "Message versions (sends, edits, deletions, gap fills) written to PostgreSQL."}),
		rooms: prometheus.NewCounter(prometheus.CounterOpts{Name: "roomwire_archive_rooms_total",
			Help: "Room rows (with their members) written to PostgreSQL."}),
		rounds: prometheus.NewCounter(prometheus.CounterOpts{Name: "roomwire_archive_rounds_total",
			Help: "Archive rounds that succeeded (each reads every archive stream once)."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "roomwire_archive_failures_total",
			Help: "Archive rounds that failed (PostgreSQL or Redis unreachable); retried, nothing acknowledged."}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{Name: "roomwire_archive_malformed_total",
			Help: "Archive stream records skipped because they are not ours (logged)."}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{Name: "roomwire_archive_lost_total",
			Help: "Messages the archive could not copy: trimmed from the stream (ARCHIVE_STREAM_MAX) and from history (ARCHIVE_BACKLOG_MAX) before it read them."}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "roomwire_archive_backlog_entries",
			Help: "Records waiting in the archive streams."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "roomwire_archive_lag_seconds",
			Help: "Age of the oldest record waiting in the archive streams (0: none)."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "roomwire_archive_round_duration_seconds",
			Help:    "Time of an archive round that archived something (read, write, acknowledge).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
	}
	reg.MustRegister(m.messages, m.rooms, m.rounds, m.failures, m.malformed, m.lost, m.backlog, m.lag, m.duration)
	return m
}

// Round implements archiver.Observer.
func (m *Metrics) Round(n int, took time.Duration, st archiver.Status) {
	m.rounds.Inc()
	if n > 0 {
		m.duration.Observe(took.Seconds())
	}
	m.backlog.Set(float64(st.Backlog))
	m.lag.Set(st.LagSeconds)
}

// Failed implements archiver.Observer.
func (m *Metrics) Failed() { m.failures.Inc() }

// Wrote implements archiver.Observer.
func (m *Metrics) Wrote(messages, rooms int) {
	m.messages.Add(float64(messages))
	m.rooms.Add(float64(rooms))
}

// Malformed implements archiver.Observer.
func (m *Metrics) Malformed() { m.malformed.Inc() }

// Lost implements archiver.Observer.
func (m *Metrics) Lost(n int) { m.lost.Add(float64(n)) }
