package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// TestMetricsCountRequestsByRouteAndStatus: /metrics is public, and every
// request is counted under its route template (never the path with ids)
// and status class.
func TestMetricsCountRequestsByRouteAndStatus(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		if r := e.request(t, http.MethodGet, "/api/v1/chat-rooms", 8, nil); r.status != http.StatusOK {
			t.Fatalf("list rooms: %d %s", r.status, r.body)
		}
	}
	if r := e.request(t, http.MethodGet, "/api/v1/chat-rooms/424242", 8, nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown room: %d %s", r.status, r.body)
	}
	if r := e.request(t, http.MethodGet, "/api/v1/chat-rooms", 0, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("no token: %d %s", r.status, r.body)
	}
	if r := e.request(t, http.MethodGet, "/no/such/route/8", 0, nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown route: %d %s", r.status, r.body)
	}
	// Two messages sent over REST are published; a refused send is not.
	room := e.createDirect(t, 8, 3)
	for _, text := range []string{"one", "two"} {
		e.request(t, http.MethodPost, fmt.Sprintf("/api/v1/chat-rooms/%d/messages", room), 8,
			map[string]any{"message": text}).want(t, http.StatusCreated, nil)
	}
	e.request(t, http.MethodPost, fmt.Sprintf("/api/v1/chat-rooms/%d/messages", room), 5,
		map[string]any{"message": "not a member"}).wantProblem(t, http.StatusNotFound, "room not found")

	got := redistest.Scrape(t, e.url+"/metrics") // without a token
	want := map[string]float64{
		`roomwire_api_http_requests_total{method="GET",route="/api/v1/chat-rooms",status="2xx"}`:     3,
		`roomwire_api_http_requests_total{method="GET",route="/api/v1/chat-rooms",status="4xx"}`:     1,
		`roomwire_api_http_requests_total{method="GET",route="/api/v1/chat-rooms/:id",status="4xx"}`: 1,
		`roomwire_api_http_requests_total{method="GET",route="unmatched",status="4xx"}`:              1,
		`roomwire_api_http_request_duration_seconds_count{method="GET",route="/api/v1/chat-rooms"}`:  4,
		`roomwire_api_messages_published_total`:                                                      2,
		// The scrape itself is in flight while it is answered.
		`roomwire_api_http_requests_in_flight`: 1,
	}
	for s, v := range want {
		if got[s] != v {
			t.Errorf("%s = %v, want %v", s, got[s], v)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("the Go runtime collector is missing")
	}
	for s := range got {
		if strings.Contains(s, "424242") || strings.Contains(s, "/no/such") {
			t.Errorf("series %s carries a request path", s)
		}
	}

	// The scrape counts as a request of its own route once answered.
	again := redistest.Scrape(t, e.url+"/metrics")
	if s := `roomwire_api_http_requests_total{method="GET",route="/metrics",status="2xx"}`; again[s] != 1 {
		t.Errorf("%s = %v, want 1", s, again[s])
	}
}
