// Command chatload is roomwire's load generator. It speaks STOMP 1.2 over
// WebSocket exactly as @stomp/stompjs does, mints its own tokens, creates
// its rooms (through the shared room store in Redis, or the REST API),
// opens one connection per user, publishes stamped messages at a fixed rate
// and reports connections, loss, duplicates, latency, and, given the PIDs,
// the servers' CPU per delivery and memory per connection.
//
//	chatload -ws ws://127.0.0.1:8081/ws -redis redis://127.0.0.1:6390/0 -jwt-secret s \
//	         -rooms 1000 -room-size 2 -publishers 2 -rate 1 -duration 30s
//	chatload table results.jsonl...   # one table from -json output
//
// It only targets loopback addresses and stops by itself (-timeout).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/tools/chatload/load"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "table" {
		if err := table(os.Stdout, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "chatload table:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chatload:", err)
		os.Exit(1)
	}
}

// options are the command-line flags that do not map 1:1 onto load.Config.
type options struct {
	cfg                   load.Config
	ws, rates, totalRates string
	serverPIDs, redisPID  string
	conns                 int
	idle, jsonOut         bool
	secret, seed, api     string
	redisURL, redisPrefix string
	timeout               time.Duration
	cpuProfile            string
	body                  string
	independent           bool
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	c := &o.cfg
	fs := flag.NewFlagSet("chatload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.ws, "ws", "ws://127.0.0.1:8081/ws", "ws node URL(s), comma-separated: connection i goes to URL i mod n")
	fs.IntVar(&o.conns, "conns", 0, "connections (= users); rooms × room-size when 0")
	fs.IntVar(&c.Rooms, "rooms", 0, "rooms; conns / room-size when 0")
	fs.IntVar(&c.RoomSize, "room-size", 2, "users per room, each with one connection subscribed to the room")
	fs.StringVar(&c.RoomType, "room-type", "", `"direct" or "group" (default: direct for rooms of 2, else group)`)
	fs.Int64Var(&c.UserBase, "user-base", 1, "first user id (runs with disjoint user ranges never share rooms)")
	fs.IntVar(&c.Publishers, "publishers", 1, "publishing members per room")
	fs.StringVar(&o.rates, "rate", "", "messages/s PER PUBLISHER; a comma list runs one phase per rate (e.g. 1 or 5,10,20)")
	fs.StringVar(&o.totalRates, "total-rate", "", "messages/s over ALL publishers together, split evenly; comma list = phases (alternative to -rate)")
	fs.BoolVar(&o.idle, "idle", false, "connect and subscribe only, hold for -duration, measure memory")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "send window of each phase, or the idle hold")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "wait for deliveries after each phase; later ones count as lost")
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "pause after connecting, before measuring")
	fs.IntVar(&c.Payload, "payload", 64, "bytes of each chat message text (stamp plus padding)")
	fs.IntVar(&c.ConnectParallel, "connect-parallel", 50, "connections being opened at once")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 10*time.Second, "per-connection handshake timeout, and wait for all subscriptions")
	fs.IntVar(&c.SourceIPs, "source-ips", 1, "spread client sockets over source addresses 127.0.0.1..N (about 28k connections each)")
	fs.DurationVar(&c.HeartBeat, "heartbeat", 10*time.Second, "STOMP heart-beat both ways, like stompjs; 0: heart-beat:0,0 and no beats")
	fs.StringVar(&c.Schedule, "schedule", load.ScheduleEven, `where each publisher's sends fall in its period: "even" (publisher i of n at i/n) or "random" (a random phase per publisher)`)
	fs.StringVar(&c.Send.ContentType, "content-type", "", "content-type header of every SEND (e.g. application/json; default none, as stompjs)")
	fs.BoolVar(&c.Send.Receipt, "send-receipts", false, "ask for a RECEIPT of every SEND")
	fs.StringVar(&o.body, "body", "stamp", `message text: "stamp" ("t=.. n=.. p=.. r=.. xxx") or "marker" ("~t=.. n=.. p=.. r=..~xxx", an independent client's form)`)
	fs.BoolVar(&o.independent, "independent", false, "an independent STOMP client's settings: -heartbeat 0 -schedule random -content-type application/json -body marker (flags given explicitly still win)")
	fs.IntVar(&c.SlowReaders, "slow-readers", 0, "connections that read slowly: the LAST N (highest user ids, so not a room's first members, who publish); they sleep -read-delay after each WebSocket message read, and what they miss or lose when cut counts as lost")
	fs.DurationVar(&c.ReadDelay, "read-delay", 0, "how long each -slow-readers connection sleeps after every WebSocket message it reads (e.g. 5ms)")
	fs.IntVar(&c.RcvBuf, "rcvbuf", 0, "SO_RCVBUF of every client socket in bytes (0: the kernel's default); small keeps a slow reader's backlog on the server")
	fs.IntVar(&c.PubWorkers, "pub-workers", 4, "publishing goroutines")
	fs.StringVar(&o.secret, "jwt-secret", os.Getenv("JWT_SECRET"), "HS256 secret of the servers (default $JWT_SECRET)")
	fs.StringVar(&o.seed, "seed", "", `how rooms are created: "redis" (shared room store; default when -redis is set) or "api"`)
	fs.StringVar(&o.api, "api", "", "REST API base URL for -seed api, e.g. http://127.0.0.1:8080")
	fs.StringVar(&o.redisURL, "redis", "", "Redis URL for -seed redis (loopback only): redis://host:port/db, redis+cluster://host1:port1,host2:port2 for a Redis Cluster, or redis+sentinel://host1:port1,host2:port2/<master-name> for Redis Sentinel")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "chat", "REDIS_PREFIX of the servers")
	fs.StringVar(&o.serverPIDs, "server-pids", "", "comma-separated PIDs of server processes to sample in /proc")
	fs.StringVar(&o.redisPID, "redis-pid", "", "PID(s) of redis-server to sample in /proc")
	fs.BoolVar(&c.ProfileSignals, "profile-signals", false, "signal -server-pids around each measured window: SIGUSR2 before and after (CPU profile on/off), SIGUSR1 after an idle hold (heap dump); for a node run by ws/cmd/ws TestProfileServe")
	fs.BoolVar(&o.jsonOut, "json", false, "print results as JSON lines on stdout (progress and summaries go to stderr)")
	fs.StringVar(&c.Name, "name", "load", "label of the results")
	fs.DurationVar(&o.timeout, "timeout", 0, "hard limit of the whole run (default: derived from the phases)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write chatload's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.independent {
		// The preset fills only the flags not given, so
		// "-independent -heartbeat 10s" keeps its beats.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"heartbeat": "0", "schedule": load.ScheduleRandom, "content-type": "application/json", "body": "marker"} {
			if !set[name] {
				_ = fs.Set(name, v)
			}
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, o.resolve()
}

// resolve turns the string flags into the Config.
func (o *options) resolve() error {
	c := &o.cfg
	var errs []error
	var err error
	c.WS = splitList(o.ws)
	if c.Rates, err = floats(o.rates); err != nil {
		errs = append(errs, fmt.Errorf("-rate: %w", err))
	}
	if c.TotalRates, err = floats(o.totalRates); err != nil {
		errs = append(errs, fmt.Errorf("-total-rate: %w", err))
	}
	if c.ServerPIDs, err = ints(o.serverPIDs); err != nil {
		errs = append(errs, fmt.Errorf("-server-pids: %w", err))
	}
	if c.RedisPIDs, err = ints(o.redisPID); err != nil {
		errs = append(errs, fmt.Errorf("-redis-pid: %w", err))
	}
	if o.idle == !c.Idle() {
		if o.idle {
			errs = append(errs, errors.New("-idle does not take -rate or -total-rate"))
		} else {
			errs = append(errs, errors.New("give -rate or -total-rate, or -idle"))
		}
	}
	if c.RoomSize <= 0 {
		errs = append(errs, errors.New("-room-size must be positive"))
	} else {
		switch {
		case c.Rooms == 0 && o.conns > 0:
			c.Rooms = o.conns / c.RoomSize
			if c.Rooms*c.RoomSize != o.conns {
				errs = append(errs, fmt.Errorf("-conns %d is not a multiple of -room-size %d", o.conns, c.RoomSize))
			}
		case c.Rooms > 0 && o.conns > 0 && c.Rooms*c.RoomSize != o.conns:
			errs = append(errs, fmt.Errorf("-conns %d != -rooms %d × -room-size %d", o.conns, c.Rooms, c.RoomSize))
		case c.Rooms == 0:
			errs = append(errs, errors.New("give -conns or -rooms"))
		}
	}
	if c.HeartBeat == 0 {
		c.HeartBeat = -1 // load.Config: none
	}
	switch o.body {
	case "stamp":
	case "marker":
		c.Send.Marker = true
	default:
		errs = append(errs, fmt.Errorf("-body must be stamp or marker, not %q", o.body))
	}
	if c.Schedule != load.ScheduleEven && c.Schedule != load.ScheduleRandom {
		errs = append(errs, fmt.Errorf("-schedule must be even or random, not %q", c.Schedule))
	}
	c.Secret = []byte(o.secret)
	if o.seed == "" {
		o.seed = "api"
		if o.redisURL != "" {
			o.seed = "redis"
		}
	}
	return errors.Join(errs...)
}

// seeder builds the room seeder; the returned func releases it.
func (o *options) seeder() (load.Seeder, func(), error) {
	switch o.seed {
	case "redis":
		if o.redisURL == "" {
			return nil, nil, errors.New("-seed redis needs -redis")
		}
		rdb, err := o.redisClient()
		if err != nil {
			return nil, nil, err
		}
		ks, err := keys.New(o.redisPrefix)
		if err != nil {
			rdb.Close()
			return nil, nil, fmt.Errorf("-redis-prefix: %w", err)
		}
		return load.RoomStoreSeeder{Rooms: room.NewStore(rdb, ks, room.Config{})}, func() { rdb.Close() }, nil
	case "api":
		if o.api == "" {
			return nil, nil, errors.New("-seed api needs -api (or use -seed redis with -redis)")
		}
		if err := load.CheckLoopbackURL(o.api, "http"); err != nil {
			return nil, nil, fmt.Errorf("-api: %w", err)
		}
		return &load.APISeeder{BaseURL: o.api, Secret: o.cfg.Secret}, func() {}, nil
	}
	return nil, nil, fmt.Errorf("-seed must be redis or api, not %q", o.seed)
}

// redisClient opens -redis with the services' own parser
// (config.Common.Redis): redis:// or rediss:// for one server,
// redis+cluster://h1:p1,h2:p2 or rediss+cluster://… for a Redis Cluster,
// redis+sentinel://h1:p1,h2:p2/<master-name> for a master under Redis
// Sentinel. Every host named (server, seeds, sentinels) must be a loopback
// address. Unless the URL sets pool_size, a
// pool (per node, on a cluster) holds 32 connections.
func (o *options) redisClient() (redis.UniversalClient, error) {
	u := o.redisURL
	if !strings.Contains(u, "pool_size=") {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "pool_size=32"
	}
	rdb, err := load.OpenRedis(u)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	return rdb, nil
}

// deadline is the default hard limit: generous room for seeding and
// connecting plus every phase with its drain.
func (o *options) deadline() time.Duration {
	if o.timeout > 0 {
		return o.timeout
	}
	c := &o.cfg
	phases := max(1, len(c.Rates)+len(c.TotalRates))
	perConn := time.Duration(c.Rooms*c.RoomSize) * time.Millisecond // 1 ms per connection is very slow
	return 2*time.Minute + perConn + time.Duration(phases)*(c.Duration+c.Drain+c.Settle+5*time.Second)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	seed, release, err := o.seeder()
	if err != nil {
		return err
	}
	defer release()
	o.cfg.Seed = seed
	o.cfg.Progress = stderr
	r, err := load.New(o.cfg)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	limit := o.deadline()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// A last resort should a socket operation ignore the context.
	watchdog := time.AfterFunc(limit+30*time.Second, func() {
		fmt.Fprintln(stderr, "chatload: hard time limit reached, exiting")
		os.Exit(2)
	})
	defer watchdog.Stop()

	results, err := r.Run(ctx)
	for _, res := range results {
		fmt.Fprint(stderr, res.Summary())
		if o.jsonOut {
			if werr := writeJSON(stdout, res); werr != nil {
				return werr
			}
		}
	}
	if !o.jsonOut && len(results) > 0 {
		fmt.Fprintln(stdout)
		if terr := load.WriteTable(stdout, results); terr != nil {
			return terr
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stopped at the time limit (%s): %w", limit, err)
	}
	return err
}

func table(w io.Writer, files []string) error {
	var all []load.Result
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		rs, err := load.ReadResults(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		all = append(all, rs...)
	}
	if len(all) == 0 {
		return errors.New("no results")
	}
	return load.WriteTable(w, all)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func floats(s string) ([]float64, error) {
	var out []float64
	for _, p := range splitList(s) {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func ints(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad PID %q", p)
		}
		out = append(out, v)
	}
	return out, nil
}
