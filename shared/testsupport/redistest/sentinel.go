package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/infra/config"
)

// SentinelOptions shape a test Sentinel set-up; the zero value is one
// master, one replica and three sentinels (quorum 2) watching "mymaster".
type SentinelOptions struct {
	// MasterName is the name the sentinels monitor ["mymaster"].
	MasterName string
	// DownAfter is the sentinels' down-after-milliseconds [1s]: how long a
	// master must not answer before a sentinel thinks it down.
	DownAfter time.Duration
	// Timeout bounds StartSentinel, Failover and Crash [20s].
	Timeout time.Duration
	// Port is the master's port, the replica's the next one [0: free ports].
	Port int
	// SentinelPort is the first sentinel's port, the others' the next two
	// [0: free ports].
	SentinelPort int
	// Dir keeps the servers' and sentinels' files, the one on port P in
	// Dir/P, after Close [empty: temporary directories that Close removes].
	// Started again on the same Dir, the master and the replica find their
	// data; the sentinels' config files are written anew (a restart starts
	// from the original roles).
	Dir string
	// Args are extra redis-server arguments for the master and the replica.
	Args []string
}

// Sentinel is a running private Redis Sentinel set-up on loopback ports: a
// master, a replica and three sentinels, each started as
// `redis-server <conf> --sentinel` (Debian's redis-sentinel is the same
// binary; only redis-server is needed).
//
// Master and Replica are the servers by their current role; Failover and
// Crash swap them, so read them only from the goroutine that calls those.
type Sentinel struct {
	Name            string
	Master, Replica *Server
	Sentinels       []*Server
	DownAfter       time.Duration

	timeout time.Duration
	mu      sync.Mutex
	admin   map[string]*redis.Client // by address, one per server and sentinel
}

// StartSentinel starts the set-up and returns once the replica is in sync and
// every sentinel knows the replica and the two other sentinels (so that a
// failover can be agreed on).
func StartSentinel(opts SentinelOptions) (*Sentinel, error) {
	if opts.MasterName == "" {
		opts.MasterName = "mymaster"
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("redis-server (Debian's redis-server package; `redis-server --sentinel` runs a sentinel): %w", err)
	}
	s := &Sentinel{Name: opts.MasterName, DownAfter: opts.DownAfter, timeout: opts.Timeout, admin: map[string]*redis.Client{}}
	repl := append([]string{"--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"}, opts.Args...)
	at := func(port, i int) int {
		if port == 0 {
			return 0
		}
		return port + i
	}
	o, err := placed(Options{Args: repl}, opts.Port, opts.Dir)
	if err == nil {
		s.Master, err = Start(o)
	}
	if err != nil {
		return nil, fmt.Errorf("start sentinel master: %w", err)
	}
	o, err = placed(Options{Args: append(repl, "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port))}, at(opts.Port, 1), opts.Dir)
	if err == nil {
		s.Replica, err = Start(o)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("start sentinel replica: %w", err)
	}
	for i := range 3 {
		m := &monitor{name: s.Name, masterPort: s.Master.Port, downAfter: opts.DownAfter}
		o, err := placed(Options{sentinel: m}, at(opts.SentinelPort, i), opts.Dir)
		var sn *Server
		if err == nil {
			sn, err = Start(o)
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("start sentinel: %w", err)
		}
		s.Sentinels = append(s.Sentinels, sn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	if err := poll(ctx, s.settled); err != nil {
		s.Close()
		return nil, fmt.Errorf("sentinel set-up: %w", err)
	}
	return s, nil
}

// monitor is what a sentinel watches: its config file, which it rewrites.
type monitor struct {
	name       string
	masterPort int
	downAfter  time.Duration
}

// write writes the config file of a sentinel on port into dir and returns
// its path.
func (m *monitor) write(dir string, port int) (string, error) {
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
		"sentinel monitor %s 127.0.0.1 %d 2\n"+
		"sentinel down-after-milliseconds %s %d\n"+
		"sentinel failover-timeout %s 10000\n"+
		"sentinel parallel-syncs %s 1\n",
		port, dir, filepath.Join(dir, "sentinel.log"), m.name, m.masterPort,
		m.name, m.downAfter.Milliseconds(), m.name, m.name)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return "", fmt.Errorf("sentinel config: %w", err)
	}
	return conf, nil
}

// client returns the admin client of a server or sentinel.
func (s *Sentinel) client(addr string) *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.admin[addr]
	if c == nil {
		c = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
		s.admin[addr] = c
	}
	return c
}

// settled checks that the replica is in sync with the master and that every
// sentinel names s.Master as master, lists s.Replica as a healthy replica and
// knows the other sentinels.
func (s *Sentinel) settled(ctx context.Context) error {
	if err := s.replicaSynced(ctx); err != nil {
		return err
	}
	for _, sn := range s.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr, MaxRetries: -1})
		err := s.sentinelSettled(ctx, sc)
		sc.Close()
		if err != nil {
			return fmt.Errorf("sentinel %s: %w", sn.Addr, err)
		}
	}
	return nil
}

// replicaSynced checks that the replica's link to the master is up.
func (s *Sentinel) replicaSynced(ctx context.Context) error {
	repl, err := s.client(s.Replica.Addr).Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("info replication of %s: %w", s.Replica.Addr, err)
	}
	if field(repl, "role") != "slave" || field(repl, "master_link_status") != "up" ||
		field(repl, "master_port") != strconv.Itoa(s.Master.Port) {
		return fmt.Errorf("replica %s not in sync with %s yet (role %s, master port %s, link %s)", s.Replica.Addr, s.Master.Addr,
			field(repl, "role"), field(repl, "master_port"), field(repl, "master_link_status"))
	}
	return nil
}

func (s *Sentinel) sentinelSettled(ctx context.Context, sc *redis.SentinelClient) error {
	addr, err := sc.GetMasterAddrByName(ctx, s.Name).Result()
	if err != nil {
		return fmt.Errorf("master address: %w", err)
	}
	if got := net.JoinHostPort(addr[0], addr[1]); got != s.Master.Addr {
		return fmt.Errorf("names master %s, want %s", got, s.Master.Addr)
	}
	m, err := sc.Master(ctx, s.Name).Result()
	if err != nil {
		return fmt.Errorf("master state: %w", err)
	}
	if f := m["flags"]; f != "master" {
		return fmt.Errorf("master flags %q", f)
	}
	if m["num-other-sentinels"] != strconv.Itoa(len(s.Sentinels)-1) {
		return fmt.Errorf("knows %s other sentinels, want %d", m["num-other-sentinels"], len(s.Sentinels)-1)
	}
	reps, err := sc.Replicas(ctx, s.Name).Result()
	if err != nil {
		return fmt.Errorf("replicas: %w", err)
	}
	for _, r := range reps {
		if net.JoinHostPort(r["ip"], r["port"]) == s.Replica.Addr && r["flags"] == "slave" && r["master-link-status"] == "ok" {
			return nil
		}
	}
	return fmt.Errorf("does not list %s as a healthy replica yet (%v)", s.Replica.Addr, reps)
}

// Addrs returns the sentinels' addresses.
func (s *Sentinel) Addrs() []string {
	addrs := make([]string, len(s.Sentinels))
	for i, sn := range s.Sentinels {
		addrs[i] = sn.Addr
	}
	return addrs
}

// URL is the redis+sentinel:// URL naming every sentinel and the master name.
func (s *Sentinel) URL() string {
	return "redis+sentinel://" + strings.Join(s.Addrs(), ",") + "/" + s.Name
}

// Client returns a failover client with the options the services use
// (config.Common.Redis with the set-up's URL), closed when t ends.
func (s *Sentinel) Client(t testing.TB) *redis.Client {
	t.Helper()
	rdb, err := config.Common{RedisURL: s.URL()}.Redis()
	if err != nil {
		t.Fatalf("sentinel client: %v", err)
	}
	c := rdb.(*redis.Client)
	t.Cleanup(func() { c.Close() })
	return c
}

// Failover is a coordinated failover, the way an operator should run one
// to lose no acknowledged write: it pauses writes on the master (CLIENT
// PAUSE WRITE), waits until the replica has every write, runs SENTINEL
// FAILOVER, and once every sentinel names the replica as master, makes the
// old master its replica and disconnects the old master's clients (what
// Sentinel itself does only some ten seconds later, and cannot do while
// writes are paused: its own hello PUBLISH would wait too), then lifts the
// pause. A write that reached the old master meanwhile waited for the pause
// and is refused (READONLY) or cut off: never acknowledged, never lost. It
// swaps Master and Replica.
func (s *Sentinel) Failover(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	old, next := s.Master, s.Replica
	oc := s.client(old.Addr)
	if err := oc.Do(ctx, "CLIENT", "PAUSE", s.timeout.Milliseconds(), "WRITE").Err(); err != nil {
		return fmt.Errorf("failover: pause writes on %s: %w", old.Addr, err)
	}
	defer oc.Do(context.Background(), "CLIENT", "UNPAUSE")
	if err := poll(ctx, s.caughtUp); err != nil {
		return fmt.Errorf("failover: replica catching up: %w", err)
	}
	if err := s.Switch(ctx); err != nil {
		return err
	}
	if err := oc.Do(ctx, "REPLICAOF", "127.0.0.1", next.Port).Err(); err != nil {
		return fmt.Errorf("failover: make %s a replica: %w", old.Addr, err)
	}
	for _, typ := range []string{"normal", "pubsub"} {
		if err := oc.Do(ctx, "CLIENT", "KILL", "TYPE", typ, "SKIPME", "yes").Err(); err != nil {
			return fmt.Errorf("failover: disconnect clients of %s: %w", old.Addr, err)
		}
	}
	if err := oc.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		return fmt.Errorf("failover: unpause %s: %w", old.Addr, err)
	}
	if err := poll(ctx, s.replicaSynced); err != nil {
		return fmt.Errorf("failover: old master not reconfigured: %w", err)
	}
	return nil
}

// Switch runs SENTINEL FAILOVER alone and returns once every sentinel names
// the replica as master; it swaps Master and Replica. The old master stays
// up and a master, with its clients connected, until the sentinels make it
// a replica (some ten seconds later): what a plain SENTINEL FAILOVER does.
func (s *Sentinel) Switch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client(s.Sentinels[0].Addr).Do(ctx, "SENTINEL", "FAILOVER", s.Name).Err(); err != nil {
		return fmt.Errorf("failover: SENTINEL FAILOVER: %w", err)
	}
	s.Master, s.Replica = s.Replica, s.Master
	if err := poll(ctx, s.switched); err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	return nil
}

// Settle waits until the old master is a replica in sync with the master and
// every sentinel agrees (after Switch or Crash and a Restart).
func (s *Sentinel) Settle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return poll(ctx, s.settled)
}

// caughtUp checks that the replica has every write of the master.
func (s *Sentinel) caughtUp(ctx context.Context) error {
	mi, err := s.client(s.Master.Addr).Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("info replication of %s: %w", s.Master.Addr, err)
	}
	ri, err := s.client(s.Replica.Addr).Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("info replication of %s: %w", s.Replica.Addr, err)
	}
	if m, r := field(mi, "master_repl_offset"), field(ri, "slave_repl_offset"); m != r {
		return fmt.Errorf("replica at offset %s, master at %s", r, m)
	}
	return nil
}

// switched checks that every sentinel names s.Master as master and that it
// says so itself.
func (s *Sentinel) switched(ctx context.Context) error {
	role, err := s.client(s.Master.Addr).Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("info replication of %s: %w", s.Master.Addr, err)
	}
	if field(role, "role") != "master" {
		return fmt.Errorf("%s not promoted yet", s.Master.Addr)
	}
	for _, sn := range s.Sentinels {
		addr, err := s.client(sn.Addr).Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.Name).StringSlice()
		if err != nil {
			return fmt.Errorf("sentinel %s: master address: %w", sn.Addr, err)
		}
		if got := net.JoinHostPort(addr[0], addr[1]); got != s.Master.Addr {
			return fmt.Errorf("sentinel %s names %s, want %s", sn.Addr, got, s.Master.Addr)
		}
	}
	return nil
}

// Crash kills the master with SIGKILL and returns once the sentinels have
// promoted the replica (after DownAfter plus the election and promotion),
// with how long that took from the kill. The killed server stays down
// (Restart it to bring it back as a replica); Master and Replica are
// swapped.
func (s *Sentinel) Crash(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	old := s.Master
	start := time.Now()
	old.Kill()
	s.Master, s.Replica = s.Replica, old
	if err := poll(ctx, s.switched); err != nil {
		return time.Since(start), fmt.Errorf("crash failover: %w", err)
	}
	return time.Since(start), nil
}

// Close kills every process and removes their directories.
func (s *Sentinel) Close() {
	s.mu.Lock()
	for _, c := range s.admin {
		c.Close()
	}
	s.mu.Unlock()
	for _, sn := range s.Sentinels {
		sn.Close()
	}
	for _, srv := range []*Server{s.Master, s.Replica} {
		if srv != nil {
			srv.Close()
		}
	}
}
