// Package metrics holds the api's Prometheus metrics: HTTP requests by
// route template and status class, their durations, the requests in
// flight, and the chat messages the api published. Labels are low-cardinality by construction: the route is gin's
// template (/api/v1/chat-rooms/:id), never the path, and never a user or
// room id.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roomwire/roomwire/shared/redis/fanout"
)

// durationBuckets span fast reads to long polls (up to 40s).
var durationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 45}

// HTTP is the api's registry. Safe for concurrent use.
type HTTP struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// published counts chat messages stored and published (REST sends).
	published prometheus.Counter
}

// New returns an HTTP registry with the Go runtime and process collectors.
func New() *HTTP {
	h := &HTTP{reg: prometheus.NewRegistry()}
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roomwire_api_http_requests_total",
		Help: "HTTP requests answered, by method, route template and status class (2xx, 4xx, ...).",
	}, []string{"method", "route", "status"})
	h.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "roomwire_api_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by method and route template (long polls included).",
		Buckets: durationBuckets,
	}, []string{"method", "route"})
	h.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "roomwire_api_http_requests_in_flight",
		Help: "HTTP requests being served (open long polls included).",
	})
	h.published = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "roomwire_api_messages_published_total",
		Help: "Chat messages stored and published by the api (REST sends).",
	})
	h.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		h.requests, h.duration, h.inFlight, h.published)
	return h
}

// Registry returns the registry, for extra collectors.
func (h *HTTP) Registry() *prometheus.Registry { return h.reg }

// Hub reports the long polls' pub/sub hub's counters (fanout.Hub).
type Hub interface {
	Stats() fanout.Stats
}

var _ Hub = (*fanout.Hub)(nil)

// WatchHub registers gauges and counters read from hub at scrape time:
// roomwire_api_redis_channels_subscribed (rooms with an open long poll) and
// roomwire_api_redis_messages_received_total. Call it once.
func (h *HTTP) WatchHub(hub Hub) {
	h.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "roomwire_api_redis_channels_subscribed",
			Help: "Redis pub/sub channels the api's hub is subscribed to (rooms with open long polls).",
		}, func() float64 { return float64(hub.Stats().Channels) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "roomwire_api_redis_messages_received_total",
			Help: "Messages received from Redis pub/sub by the api's hub (wake-ups of long polls).",
		}, func() float64 { return float64(hub.Stats().Received) }),
	)
}

// Handler serves the registry in the Prometheus text format.
func (h *HTTP) Handler() http.Handler {
	return promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{Registry: h.reg})
}

// Start marks a request in flight; call the returned function with its
// route template ("" for unmatched paths) and status once answered.
func (h *HTTP) Start(method string) func(route string, status int) {
	start := time.Now()
	h.inFlight.Inc()
	return func(route string, status int) {
		h.inFlight.Dec()
		h.Observe(method, route, status, time.Since(start))
	}
}

// Observe records one answered request.
func (h *HTTP) Observe(method, route string, status int, d time.Duration) {
	method, route = methodLabel(method), routeLabel(route)
	h.requests.WithLabelValues(method, route, statusClass(status)).Inc()
	h.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// MessagePublished counts one chat message stored and published.
func (h *HTTP) MessagePublished() { h.published.Inc() }

// methodLabel keeps the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// routeLabel names requests no route matched, whatever their path.
func routeLabel(r string) string {
	if r == "" {
		return "unmatched"
	}
	return r
}

// statusClass is "2xx", "4xx", ... ("other" outside 100-599).
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}
