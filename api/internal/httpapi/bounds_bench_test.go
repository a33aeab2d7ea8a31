package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHistory40Parallel measures what 40 parallel
// GET /messages?limit=500 of a room holding 500 messages of 24 KB make
// the api hold: the peak of live heap (sampled every 100µs) and the bytes
// allocated per round of 40, for one user (the attack) and for 40 users.
// It reports, it asserts nothing:
//
//	go test -run '^$' -bench History40Parallel -benchtime 5x ./internal/httpapi/
func BenchmarkHistory40Parallel(b *testing.B) {
	e := newEnv(b)
	users := make([]int64, 40)
	for i := range users {
		users[i] = int64(100 + i)
	}
	id := e.createGroup(b, 8, "big", users...)
	e.sendBig(b, id, 8, 500)
	ts := httptest.NewServer(e.handler) // no spec check: it would buffer and decode every answer
	b.Cleanup(ts.Close)
	tokens := map[int64]string{8: token(b, 8)}
	for _, u := range users {
		tokens[u] = token(b, u)
	}
	for _, tc := range []struct {
		name string
		user func(i int) int64
	}{
		{"one user", func(int) int64 { return 8 }},
		{"40 users", func(i int) int64 { return users[i] }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				for {
					metrics.Read(s)
					if v := s[0].Value.Uint64(); v > peak.Load() {
						peak.Store(v)
					}
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Microsecond):
					}
				}
			}()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var served, refused atomic.Int64
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for i := range 40 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/chat-rooms/%d/messages?limit=500", ts.URL, id), nil)
						req.Header.Set("Authorization", "Bearer "+tokens[tc.user(i)])
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode == http.StatusOK {
							served.Add(1)
						} else {
							refused.Add(1)
						}
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			close(stop)
			<-sampled
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/round")
			b.ReportMetric(float64(served.Load())/float64(b.N), "served/round")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/round")
		})
	}
}
