package redistest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const exposition = `# HELP demo_requests_total Requests.
# TYPE demo_requests_total counter
demo_requests_total{method="GET",status="2xx"} 3
demo_requests_total{method="GET",status="4xx"} 1
demo_in_flight 1
demo_seconds_sum 0.25
`

func TestSamplesKeysEverySeries(t *testing.T) {
	got := Samples(t, strings.NewReader(exposition))
	want := map[string]float64{
		`demo_requests_total{method="GET",status="2xx"}`: 3,
		`demo_requests_total{method="GET",status="4xx"}`: 1,
		"demo_in_flight":   1,
		"demo_seconds_sum": 0.25,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for s, v := range want {
		if got[s] != v {
			t.Errorf("%s = %v, want %v", s, got[s], v)
		}
	}
}

func TestSamplesFailsOnALineThatIsNoSample(t *testing.T) {
	for _, line := range []string{"demo_in_flight one", "42", "demo_in_flight"} {
		tb := &fatalTB{TB: t}
		Samples(tb, strings.NewReader(exposition+line+"\n"))
		if tb.msg != `bad sample "`+line+`"` {
			t.Errorf("%q: Fatalf(%q), want bad sample", line, tb.msg)
		}
	}
}

func TestScrapeWantsTheTextFormat(t *testing.T) {
	typ := "text/plain; version=0.0.4"
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", typ)
		_, _ = w.Write([]byte(exposition))
	}))
	defer hs.Close()
	if got := Scrape(t, hs.URL); got["demo_in_flight"] != 1 {
		t.Fatalf("scraped %v", got)
	}
	typ = "application/json"
	tb := &fatalTB{TB: t}
	Scrape(tb, hs.URL)
	if !strings.Contains(tb.msg, "200 application/json") {
		t.Fatalf("Fatalf(%q), want a refusal of the JSON answer", tb.msg)
	}
}
