package metrics_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/metrics"
)

type fakeGateway struct{}

func (fakeGateway) Stats() gateway.Stats { return gateway.Stats{} }

type fakeHub struct{ stats fanout.Stats }

func (h fakeHub) Stats() fanout.Stats                                      { return h.stats }
func (fakeHub) Subscribe(context.Context, string, fanout.Subscriber) error { return nil }
func (fakeHub) Unsubscribe(string, fanout.Subscriber)                      {}

type fakeNode struct{}

func (fakeNode) Revocations() uint64 { return 3 }
func (fakeNode) Disconnects() uint64 { return 4 }

func TestResilienceMetrics(t *testing.T) {
	met := metrics.New()
	met.Watch(fakeGateway{}, fakeHub{fanout.Stats{ResubscribeFailures: 5, Unconfirmed: 2}})
	met.WatchNode(fakeNode{})
	hs := httptest.NewServer(met.Handler())
	defer hs.Close()
	got := (&node{url: hs.URL}).scrape(t)
	for s, v := range map[string]float64{
		"roomwire_ws_redis_resubscribe_failures_total": 5,
		"roomwire_ws_redis_channels_unconfirmed":       2,
		"roomwire_ws_revocations_reconciled_total":     3,
		"roomwire_ws_disconnects_reconciled_total":     4,
	} {
		if got[s] != v {
			t.Errorf("%s = %v, want %v", s, got[s], v)
		}
	}
}
