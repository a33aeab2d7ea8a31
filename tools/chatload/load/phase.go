package load

import (
	"context"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// counters are the receivers' totals at one moment.
type counters struct{ recv, dups, gaps, late, foreign, receipts uint64 }

func (r *Runner) counters() (s counters) {
	for _, c := range r.conns {
		s.recv += c.recv.Load()
		s.dups += c.dups.Load()
		s.gaps += c.gaps.Load()
		s.late += c.late.Load()
		s.foreign += c.foreign.Load()
		s.receipts += c.receipts.Load()
	}
	return s
}

// measure runs body between two /proc samples of the servers, Redis and
// this process, and fills the CPU and memory fields of res.
func (r *Runner) measure(ctx context.Context, res *Result, body func()) {
	srv, red := ProcSet(r.cfg.ServerPIDs), ProcSet(r.cfg.RedisPIDs)
	srvCPU0, _, _ := srv.Sample()
	redCPU0, _, _ := red.Sample()
	self0, _ := ReadProc(0)
	r.signalServers(syscall.SIGUSR2)
	t0 := time.Now()
	body()
	wall := time.Since(t0)
	r.signalServers(syscall.SIGUSR2)
	srvCPU1, srvRSS, _ := srv.Sample()
	redCPU1, redRSS, _ := red.Sample()
	self1, _ := ReadProc(0)
	if res.Mode == "idle" && r.cfg.ProfileSignals {
		// After the RSS sample (the dump runs a GC); the connections stay
		// open a moment so the heap is dumped while they exist.
		r.signalServers(syscall.SIGUSR1)
		sleepCtx(ctx, 3*time.Second)
	}
	res.MeasuredS = wall.Seconds()
	res.ServerCPUS = (srvCPU1 - srvCPU0).Seconds()
	res.RedisCPUS = (redCPU1 - redCPU0).Seconds()
	res.ClientCPUS = (self1.CPU - self0.CPU).Seconds()
	res.ServerRSSKiB, res.RedisRSSKiB, res.ClientRSSKiB = srvRSS, redRSS, self1.RSSKiB
	res.RSSDeltaKiB = srvRSS + redRSS - res.BaseServerRSSKiB - res.BaseRedisRSSKiB
	if res.Connected > 0 {
		res.KBPerConn = float64(res.RSSDeltaKiB) * 1.024 / float64(res.Connected)
		res.ServerKBPerConn = float64(srvRSS-res.BaseServerRSSKiB) * 1.024 / float64(res.Connected)
	}
	if res.Received > 0 || res.Mode == "publish" {
		r.finishDeliveries(res)
	}
}

// signalServers sends sig to every server process when ProfileSignals is set.
func (r *Runner) signalServers(sig syscall.Signal) {
	if !r.cfg.ProfileSignals {
		return
	}
	for _, pid := range r.cfg.ServerPIDs {
		if err := syscall.Kill(pid, sig); err != nil {
			r.progress("signal %d: %v", pid, err)
		}
	}
}

// runPhase publishes at rate (per publisher) for Duration, waits for the
// deliveries (at most Drain), and fills res.
func (r *Runner) runPhase(ctx context.Context, res *Result, phase int, rate float64) {
	cfg := &r.cfg
	r.latency.Reset()
	before := r.counters()
	dropped0 := r.dropped.Load()
	r.phase.Store(int64(phase))
	npub := cfg.Rooms * cfg.Publishers
	res.RatePerPublisher, res.TotalRate = rate, rate*float64(npub)
	res.DurationS = cfg.Duration.Seconds()
	r.progress("phase %d: %d publishers × %.4g msg/s = %.5g msg/s for %s", phase, npub, rate, rate*float64(npub), cfg.Duration)
	r.measure(ctx, res, func() {
		start := time.Now()
		sent, expected, failed := r.publish(ctx, phase, rate, start, start.Add(cfg.Duration))
		sendEnd := time.Now()
		res.Sent, res.Expected, res.SendFailed = sent, expected, failed
		res.SentPerS = float64(sent) / sendEnd.Sub(start).Seconds()
		last, lastProgress := r.counters().recv, time.Now()
		deadline := sendEnd.Add(cfg.Drain)
		for ctx.Err() == nil && time.Now().Before(deadline) {
			now := r.counters().recv
			if now != last {
				last, lastProgress = now, time.Now()
			}
			if now-before.recv >= expected {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		res.WindowS = lastProgress.Sub(start).Seconds()
		after := r.counters()
		res.Received = after.recv - before.recv
		res.Duplicates = after.dups - before.dups
		res.Gaps = after.gaps - before.gaps
		res.Late = after.late - before.late
		res.Foreign = after.foreign - before.foreign
		res.SendReceipts = after.receipts - before.receipts
	})
	// What arrives after the drain belongs to no phase.
	r.phase.Store(-1)
	res.Disconnected = int(r.dropped.Load() - dropped0)
	r.progress("phase %d: sent %d, received %d/%d, p99 %.1fms, %.1f CPU-µs/delivery",
		phase, res.Sent, res.Received, res.Expected, res.LatP99Ms, res.CPUPerDeliveryUs)
}

// finishDeliveries derives loss, rates, latency and CPU per delivery.
func (r *Runner) finishDeliveries(res *Result) {
	if res.Expected > res.Received {
		res.Lost = res.Expected - res.Received
		res.LostPct = 100 * float64(res.Lost) / float64(res.Expected)
	}
	if res.WindowS > 0 {
		res.DeliveriesPerS = float64(res.Received) / res.WindowS
	}
	if res.Received > 0 {
		res.CPUPerDeliveryUs = (res.ServerCPUS + res.RedisCPUS) * 1e6 / float64(res.Received)
		res.ServerCPUPerDeliveryUs = res.ServerCPUS * 1e6 / float64(res.Received)
	}
	h := &r.latency
	res.LatP50Ms, res.LatP90Ms, res.LatP99Ms = ms(h.Quantile(.5)), ms(h.Quantile(.9)), ms(h.Quantile(.99))
	res.LatMaxMs, res.LatMeanMs = ms(h.Max()), ms(h.Mean())
}

// publish sends from the first Publishers members of every room, each at
// rate messages per second, from PubWorkers goroutines, between start and
// end, on the Schedule (absolute times, so a late send does not shift the
// later ones).
func (r *Runner) publish(ctx context.Context, phase int, rate float64, start, end time.Time) (sent, expected, failed uint64) {
	cfg := &r.cfg
	var pubs []*conn
	for i := range r.rooms {
		for j := range cfg.Publishers {
			pubs = append(pubs, r.conns[i*cfg.RoomSize+j])
		}
	}
	w := min(cfg.PubWorkers, len(pubs))
	period := time.Duration(float64(time.Second) / rate)
	rng := rand.New(rand.NewPCG(uint64(r.runID), uint64(phase)))
	slots := schedule(cfg.Schedule, len(pubs), w, period, rng)
	// Writes share one deadline: a socket whose peer stopped reading cannot
	// hold the phase beyond its drain time (the write then closes it).
	wctx, cancel := context.WithDeadline(ctx, end.Add(cfg.Drain))
	defer cancel()
	type totals struct{ sent, expected, failed uint64 }
	results := make(chan totals, w)
	for k := range w {
		list := slots[k]
		go func() {
			var t totals
			defer func() { results <- t }()
			s := NewSender(cfg.Send)
			for n := 0; len(list) > 0; n++ {
				sl := list[n%len(list)]
				at := start.Add(sl.at + time.Duration(n/len(list))*period)
				if !at.Before(end) || ctx.Err() != nil {
					return
				}
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				c := pubs[sl.pub]
				if !c.alive.Load() {
					t.failed++
					continue
				}
				st := Stamp{T: time.Now().UnixNano(), N: r.msgN.Add(1), Phase: phase, Run: r.runID}
				f := s.Frame(c.room.id, c.user, c.rcv, st, cfg.Payload)
				if err := c.ws.Write(wctx, websocket.MessageText, f); err != nil {
					t.failed++
					continue
				}
				t.sent++
				t.expected += uint64(c.room.subs.Load())
			}
		}()
	}
	for range w {
		t := <-results
		sent, expected, failed = sent+t.sent, expected+t.expected, failed+t.failed
	}
	return sent, expected, failed
}
