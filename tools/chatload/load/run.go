package load

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/infra/auth"
)

// Runner executes one Config. Create it with New and call Run once.
type Runner struct {
	cfg   Config
	runID uint32
	rooms []*roomState
	conns []*conn

	phase   atomic.Int64
	latency Histogram
	readers sync.WaitGroup

	stopping                   atomic.Bool
	dropped, serverErrors      atomic.Uint64
	subscribedN                atomic.Int64
	errMu                      sync.Mutex
	errCount                   int
	firstErrors                []string
	msgN                       atomic.Uint64
	connectHist                Histogram
	connected, connectFailed   int
	connectTook, subscribeTook time.Duration
}

// New validates cfg (after filling defaults) and returns a Runner.
func New(cfg Config) (*Runner, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	r := &Runner{cfg: cfg, runID: binary.LittleEndian.Uint32(b[:]) | 1}
	r.phase.Store(-1)
	return r, nil
}

// noteError counts an error and keeps the first few for the report.
func (r *Runner) noteError(err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	r.errCount++
	if len(r.firstErrors) < 5 {
		r.firstErrors = append(r.firstErrors, err.Error())
	}
}

func (r *Runner) progress(format string, a ...any) {
	fmt.Fprintf(r.cfg.Progress, "chatload: "+format+"\n", a...)
}

// Run seeds, connects, runs the idle hold or every phase, disconnects and
// returns one Result per phase (one for an idle run). ctx bounds everything.
func (r *Runner) Run(ctx context.Context) ([]Result, error) {
	cfg := &r.cfg
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	defer r.closeAll()

	srvSet, redisSet := ProcSet(cfg.ServerPIDs), ProcSet(cfg.RedisPIDs)
	_, baseSrvRSS, err1 := srvSet.Sample()
	_, baseRedisRSS, err2 := redisSet.Sample()
	if err := firstErr(err1, err2); err != nil {
		return nil, fmt.Errorf("sample servers from /proc: %w", err)
	}
	srvCPU0, _, _ := srvSet.Sample()
	redisCPU0, _, _ := redisSet.Sample()
	self0, _ := ReadProc(0)
	r.signalServers(syscall.SIGUSR2) // profile the connect phase on its own
	err := r.connectAll(ctx)
	r.signalServers(syscall.SIGUSR2)
	if err != nil {
		return nil, err
	}
	srvCPU1, _, _ := srvSet.Sample()
	redisCPU1, _, _ := redisSet.Sample()
	self1, _ := ReadProc(0)
	stopHB := r.startHeartBeats(ctx)
	defer stopHB() // before closeAll
	sleepCtx(ctx, cfg.Settle)

	base := Result{
		Name: cfg.Name, Date: time.Now().UTC().Format(time.RFC3339),
		Conns: cfg.Conns(), Rooms: cfg.Rooms, RoomSize: cfg.RoomSize, Publishers: cfg.Publishers,
		Payload: cfg.Payload, Connected: r.connected, ConnectFailed: r.connectFailed,
		SlowReaders: cfg.SlowReaders, ReadDelayMs: ms(cfg.ReadDelay), RcvBuf: cfg.RcvBuf,
		Subscribed: int(r.subscribedN.Load()),
		ConnectS:   r.connectTook.Seconds(), SubscribedS: r.subscribeTook.Seconds(),
		ConnectP50Ms: ms(r.connectHist.Quantile(0.5)), ConnectP99Ms: ms(r.connectHist.Quantile(0.99)),
		ConnectMaxMs:     ms(r.connectHist.Max()),
		BaseServerRSSKiB: baseSrvRSS, BaseRedisRSSKiB: baseRedisRSS,
		ConnectServerCPUS: (srvCPU1 - srvCPU0).Seconds(), ConnectRedisCPUS: (redisCPU1 - redisCPU0).Seconds(),
		ConnectClientCPUS: (self1.CPU - self0.CPU).Seconds(),
	}
	if r.connected > 0 {
		base.CPUPerConnectUs = (base.ConnectServerCPUS + base.ConnectRedisCPUS) * 1e6 / float64(r.connected)
	}
	var out []Result
	if cfg.Idle() {
		res := base
		res.Mode = "idle"
		r.measure(ctx, &res, func() { sleepCtx(ctx, cfg.Duration) })
		out = append(out, res)
	} else {
		for i, rate := range r.phases() {
			if ctx.Err() != nil {
				break
			}
			res := base
			res.Mode, res.Phase = "publish", i
			if cfg.PhaseStart != nil {
				cfg.PhaseStart(i)
			}
			r.runPhase(ctx, &res, i, rate)
			out = append(out, res)
		}
	}
	r.stopping.Store(true)
	r.errMu.Lock()
	for i := range out {
		out[i].Errors, out[i].FirstErrors = r.errCount, r.firstErrors
	}
	r.errMu.Unlock()
	return out, ctx.Err()
}

// phases returns the per-publisher rate of each phase.
func (r *Runner) phases() []float64 {
	if len(r.cfg.Rates) > 0 {
		return r.cfg.Rates
	}
	pubs := float64(r.cfg.Rooms * r.cfg.Publishers)
	out := make([]float64, len(r.cfg.TotalRates))
	for i, t := range r.cfg.TotalRates {
		out[i] = t / pubs
	}
	return out
}

// setup builds users and rooms, seeds the rooms and mints tokens.
func (r *Runner) setup(ctx context.Context) error {
	cfg := &r.cfg
	r.rooms = make([]*roomState, cfg.Rooms)
	r.conns = make([]*conn, 0, cfg.Conns())
	for i := range r.rooms {
		rs := &roomState{members: make([]int64, cfg.RoomSize)}
		for j := range rs.members {
			rs.members[j] = cfg.UserBase + int64(i*cfg.RoomSize+j)
		}
		r.rooms[i] = rs
	}
	start := time.Now()
	if err := seedRooms(ctx, cfg.Seed, r.rooms, cfg.RoomType == "direct", cfg.SeedParallel, r.runID); err != nil {
		return err
	}
	r.progress("%d %s rooms of %d ready in %.1fs", cfg.Rooms, cfg.RoomType, cfg.RoomSize, time.Since(start).Seconds())
	for i, rs := range r.rooms {
		for j, u := range rs.members {
			c := &conn{r: r, idx: i*cfg.RoomSize + j, user: u, room: rs}
			if cfg.slowReader(c.idx) {
				c.delay = cfg.ReadDelay
			}
			if cfg.RoomType == "direct" {
				c.rcv = rs.members[1-j]
			}
			tok, err := auth.Mint(cfg.Secret, u, "", time.Hour+2*MaxDuration)
			if err != nil {
				return err
			}
			c.token = tok
			r.conns = append(r.conns, c)
		}
	}
	return nil
}

// connectAll opens every connection with ConnectParallel workers, then
// waits for every subscription receipt.
func (r *Runner) connectAll(ctx context.Context) error {
	cfg := &r.cfg
	clients := httpClients(cfg.SourceIPs, cfg.RcvBuf)
	var next atomic.Int64
	var okN, failN atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	var lastDone atomic.Int64
	for range min(cfg.ConnectParallel, len(r.conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(r.conns) {
					return
				}
				c := r.conns[i]
				cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
				took, err := c.open(cctx, cfg.WS[i%len(cfg.WS)], clients[i%len(clients)])
				cancel()
				if err != nil {
					failN.Add(1)
					r.noteError(fmt.Errorf("user %d: %w", c.user, err))
					continue
				}
				r.connectHist.Record(took)
				okN.Add(1)
				lastDone.Store(int64(time.Since(start)))
			}
		}()
	}
	wg.Wait()
	r.connected, r.connectFailed = int(okN.Load()), int(failN.Load())
	r.connectTook = time.Duration(lastDone.Load())
	r.progress("%d/%d connected in %.2fs (p50 %.1fms, p99 %.1fms), %d failed",
		r.connected, len(r.conns), r.connectTook.Seconds(), ms(r.connectHist.Quantile(.5)), ms(r.connectHist.Quantile(.99)), r.connectFailed)
	deadline := time.Now().Add(cfg.ConnectTimeout)
	for r.subscribedN.Load() < int64(r.connected) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	r.subscribeTook = time.Since(start)
	r.progress("%d subscribed after %.2fs", r.subscribedN.Load(), r.subscribeTook.Seconds())
	if r.connected == 0 {
		r.errMu.Lock()
		defer r.errMu.Unlock()
		return fmt.Errorf("no connection could be opened: %v", r.firstErrors)
	}
	return ctx.Err()
}

// startHeartBeats sends a heart-beat (one LF, as stompjs does) on every
// connection every HeartBeat, spread evenly over the interval; none when
// HeartBeat is negative. It returns a function that stops it and waits.
func (r *Runner) startHeartBeats(ctx context.Context) func() {
	if r.cfg.HeartBeat < 0 {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		const tick = 50 * time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		lf := []byte{'\n'}
		perTick := float64(len(r.conns)) * float64(tick) / float64(r.cfg.HeartBeat)
		var owed float64
		cursor := 0
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			owed += perTick
			for ; owed >= 1; owed-- {
				c := r.conns[cursor]
				cursor = (cursor + 1) % len(r.conns)
				if c.alive.Load() {
					_ = c.ws.Write(ctx, websocket.MessageText, lf)
				}
			}
		}
	}()
	// A write blocked on a peer that stopped reading ends when closeAll
	// closes the sockets; do not wait for it beyond a second.
	return func() {
		close(stop)
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
}

// closeAll closes every socket and waits (bounded) for the readers.
func (r *Runner) closeAll() {
	r.stopping.Store(true)
	for _, c := range r.conns {
		if c.ws != nil {
			c.ws.CloseNow()
		}
	}
	done := make(chan struct{})
	go func() { r.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
