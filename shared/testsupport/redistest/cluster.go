package redistest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/infra/config"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// ClusterOptions shape a test cluster; the zero value is 3 masters without
// replicas.
type ClusterOptions struct {
	// Masters is the number of masters [3]; the slots are split evenly.
	Masters int
	// ReplicasPerMaster is the number of replicas of each master [0].
	ReplicasPerMaster int
	// Args are extra redis-server arguments for every node.
	Args []string
	// Port is the first node's port [0: free ports]; the others follow
	// (masters, then replicas), each with its bus port 10000 above.
	Port int
	// Dir keeps the nodes' files, node on port P in Dir/P, after Close
	// [empty: temporary directories that Close removes]. Started again on
	// the same Dir and ports, the nodes find their cluster in nodes.conf:
	// StartCluster then waits for it instead of creating one (with the
	// roles it has now: a failover's stay), and fails when Dir holds a
	// cluster of another size.
	Dir string
	// Timeout bounds StartCluster and Failover [20s].
	Timeout time.Duration
}

// Cluster is a running private Redis Cluster on loopback ports.
//
// Masters and Replicas list the nodes by their current role; Failover swaps
// entries between them, so read them only from the goroutine that calls
// Failover.
type Cluster struct {
	Masters, Replicas []*Server

	timeout time.Duration
	admin   map[string]*redis.Client // by Server.Addr, one per node
}

// StartCluster starts the nodes as redis-server processes (with
// --cluster-enabled, node timeout 2s), assigns the slots, joins the nodes,
// attaches the replicas and returns once every node reports cluster_state:ok
// and all of them agree on who serves which slot. It is meant for TestMain
// (see ClusterMain); use SharedCluster in tests.
func StartCluster(opts ClusterOptions) (*Cluster, error) {
	if opts.Masters <= 0 {
		opts.Masters = 3
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	c := &Cluster{timeout: opts.Timeout, admin: map[string]*redis.Client{}}
	for i := 0; i < opts.Masters*(1+opts.ReplicasPerMaster); i++ {
		node, err := opts.node(i)
		if err == nil {
			var s *Server
			if s, err = Start(node); err == nil {
				if i < opts.Masters {
					c.Masters = append(c.Masters, s)
				} else {
					c.Replicas = append(c.Replicas, s)
				}
				c.admin[s.Addr] = redis.NewClient(&redis.Options{Addr: s.Addr})
			}
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("start cluster node: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	fresh, err := c.fresh(ctx)
	if err == nil && fresh {
		err = c.create(ctx)
	} else if err == nil {
		err = c.rejoin(ctx)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("create cluster: %w", err)
	}
	return c, nil
}

// node returns the options of node i (masters first).
func (opts ClusterOptions) node(i int) (Options, error) {
	port := 0
	if opts.Port != 0 {
		port = opts.Port + i
	}
	return placed(Options{Args: opts.Args, clusterNode: true}, port, opts.Dir)
}

// create does what `redis-cli --cluster create` does, without its one-second
// polls and its three-master minimum.
func (c *Cluster) create(ctx context.Context) error {
	all := c.nodes()
	for i, s := range all {
		if err := c.admin[s.Addr].Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("set config epoch on %s: %w", s.Addr, err)
		}
	}
	for i, s := range c.Masters {
		lo, hi := i*clusterSlots/len(c.Masters), (i+1)*clusterSlots/len(c.Masters)-1
		if err := c.admin[s.Addr].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("add slots %d-%d to %s: %w", lo, hi, s.Addr, err)
		}
	}
	first := c.admin[all[0].Addr]
	for _, s := range all[1:] {
		if err := first.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", s.Port, s.BusPort).Err(); err != nil {
			return fmt.Errorf("meet %s: %w", s.Addr, err)
		}
	}
	if err := poll(ctx, c.allKnown); err != nil {
		return err
	}
	for i, s := range c.Replicas {
		id, err := c.admin[c.Masters[i%len(c.Masters)].Addr].ClusterMyID(ctx).Result()
		if err == nil {
			err = c.admin[s.Addr].ClusterReplicate(ctx, id).Err()
		}
		if err != nil {
			return fmt.Errorf("make %s a replica: %w", s.Addr, err)
		}
	}
	return poll(ctx, c.settled)
}

// nodes returns every node, masters first.
func (c *Cluster) nodes() []*Server { return append(slices.Clone(c.Masters), c.Replicas...) }

// poll calls check every 50ms until it succeeds or ctx ends (cluster and
// Sentinel set-ups wait for their state this way).
func poll(ctx context.Context, check func(context.Context) error) error {
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (%w)", err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// allKnown checks that every node has finished its handshake with every
// other one.
func (c *Cluster) allKnown(ctx context.Context) error {
	var ids []string
	for addr, a := range c.admin {
		id, err := a.ClusterMyID(ctx).Result()
		if err != nil {
			return fmt.Errorf("cluster myid of %s: %w", addr, err)
		}
		ids = append(ids, id)
	}
	for addr, a := range c.admin {
		nodes, err := a.ClusterNodes(ctx).Result()
		if err != nil {
			return fmt.Errorf("cluster nodes of %s: %w", addr, err)
		}
		for _, id := range ids {
			if !strings.Contains(nodes, id) {
				return fmt.Errorf("%s does not know %s yet", addr, id)
			}
		}
		if strings.Contains(nodes, "handshake") {
			return fmt.Errorf("%s is still in a handshake", addr)
		}
	}
	return nil
}

// settled checks that every node is in state ok, every replica's link to its
// master is up, and every node's CLUSTER SLOTS says the same: all slots
// served, by exactly c.Masters, with c.Replicas behind them.
func (c *Cluster) settled(ctx context.Context) error {
	var first string
	for _, s := range c.nodes() {
		a := c.admin[s.Addr]
		info, err := a.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("cluster info of %s: %w", s.Addr, err)
		}
		if st := field(info, "cluster_state"); st != "ok" {
			return fmt.Errorf("%s: cluster_state %q", s.Addr, st)
		}
		//lint:ignore SA1019 go-redis's ClusterClient reads its slot map with CLUSTER SLOTS too (Redis 7+ serves it)
		slots, err := a.ClusterSlots(ctx).Result()
		if err != nil {
			return fmt.Errorf("cluster slots of %s: %w", s.Addr, err)
		}
		view, err := c.checkSlots(slots)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Addr, err)
		}
		if first == "" {
			first = view
		} else if view != first {
			return fmt.Errorf("%s sees %s, %s sees %s", c.Masters[0].Addr, first, s.Addr, view)
		}
	}
	for _, s := range c.Replicas {
		repl, err := c.admin[s.Addr].Info(ctx, "replication").Result()
		if err != nil {
			return fmt.Errorf("info replication of %s: %w", s.Addr, err)
		}
		if field(repl, "role") != "slave" || field(repl, "master_link_status") != "up" {
			return fmt.Errorf("replica %s not in sync yet", s.Addr)
		}
	}
	return nil
}

// checkSlots checks one node's CLUSTER SLOTS against the roles in c and
// returns it in a canonical form ("lo-hi:master,replica...;...").
func (c *Cluster) checkSlots(slots []redis.ClusterSlot) (string, error) {
	slices.SortFunc(slots, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	masters, replicas := map[string]bool{}, map[string]bool{}
	var b strings.Builder
	next := 0
	for _, r := range slots {
		if r.Start != next || len(r.Nodes) == 0 {
			return "", fmt.Errorf("slots from %d not served", next)
		}
		next = r.End + 1
		masters[r.Nodes[0].Addr] = true
		addrs := []string{}
		for _, n := range r.Nodes[1:] {
			replicas[n.Addr] = true
			addrs = append(addrs, n.Addr)
		}
		slices.Sort(addrs)
		fmt.Fprintf(&b, "%d-%d:%s,%s;", r.Start, r.End, r.Nodes[0].Addr, strings.Join(addrs, ","))
	}
	if next != clusterSlots {
		return "", fmt.Errorf("slots from %d not served", next)
	}
	for _, s := range c.Masters {
		if !masters[s.Addr] {
			return "", fmt.Errorf("master %s serves no slots", s.Addr)
		}
	}
	for _, s := range c.Replicas {
		if !replicas[s.Addr] {
			return "", fmt.Errorf("replica %s not listed", s.Addr)
		}
	}
	if len(masters) != len(c.Masters) || len(replicas) != len(c.Replicas) {
		return "", fmt.Errorf("%d masters and %d replicas listed, want %d and %d",
			len(masters), len(replicas), len(c.Masters), len(c.Replicas))
	}
	return b.String(), nil
}

// field returns the value of name in CLUSTER INFO or INFO text.
func field(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// Addrs returns the address of every node, masters first.
func (c *Cluster) Addrs() []string {
	var addrs []string
	for _, s := range c.nodes() {
		addrs = append(addrs, s.Addr)
	}
	return addrs
}

// URL is the redis+cluster:// URL naming every node as a seed.
func (c *Cluster) URL() string { return "redis+cluster://" + strings.Join(c.Addrs(), ",") }

// Client returns a cluster client with the options the services use
// (config.Common.Redis with the cluster's URL), closed when t ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	rdb, err := config.Common{RedisURL: c.URL()}.Redis()
	if err != nil {
		t.Fatalf("cluster client: %v", err)
	}
	cc := rdb.(*redis.ClusterClient)
	t.Cleanup(func() { cc.Close() })
	return cc
}

// SlotOf returns the hash slot of key (CLUSTER KEYSLOT).
func (c *Cluster) SlotOf(ctx context.Context, key string) (int, error) {
	slot, err := c.admin[c.Masters[0].Addr].ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return 0, fmt.Errorf("slot of %q: %w", key, err)
	}
	return int(slot), nil
}

// MasterOf returns the master currently serving key's hash slot.
func (c *Cluster) MasterOf(ctx context.Context, key string) (*Server, error) {
	slot, err := c.SlotOf(ctx, key)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 go-redis's ClusterClient reads its slot map with CLUSTER SLOTS too (Redis 7+ serves it)
	slots, err := c.admin[c.Masters[0].Addr].ClusterSlots(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("cluster slots: %w", err)
	}
	for _, r := range slots {
		if r.Start <= slot && slot <= r.End && len(r.Nodes) > 0 {
			for _, s := range c.nodes() {
				if s.Addr == r.Nodes[0].Addr {
					return s, nil
				}
			}
			return nil, fmt.Errorf("slot %d served by unknown node %s", slot, r.Nodes[0].Addr)
		}
	}
	return nil, fmt.Errorf("slot %d not served", slot)
}

// ReplicaOf returns a replica of master (the first in Replicas).
func (c *Cluster) ReplicaOf(ctx context.Context, master *Server) (*Server, error) {
	for _, r := range c.Replicas {
		repl, err := c.admin[r.Addr].Info(ctx, "replication").Result()
		if err != nil {
			return nil, fmt.Errorf("role of %s: %w", r.Addr, err)
		}
		if field(repl, "master_port") == strconv.Itoa(master.Port) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s has no replica", master.Addr)
}

// Spread fails t unless keys are served by pairwise different masters
// (by every master, when there are more keys than masters), so a test
// touching them really crosses nodes.
func (c *Cluster) Spread(t testing.TB, keys ...string) {
	t.Helper()
	owners := map[*Server][]string{}
	for _, k := range keys {
		s, err := c.MasterOf(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		owners[s] = append(owners[s], k)
	}
	if want := min(len(keys), len(c.Masters)); len(owners) != want {
		var b strings.Builder
		for s, ks := range owners {
			fmt.Fprintf(&b, " %s: %v;", s.Addr, ks)
		}
		t.Fatalf("%d keys on %d masters, want %d:%s", len(keys), len(owners), want, b.String())
	}
}

// Failover runs CLUSTER FAILOVER on replica (a coordinated, lossless manual
// failover) and returns once the replica is the master of its slots, its old
// master is its replica, and every node agrees. It swaps the two in Masters
// and Replicas.
func (c *Cluster) Failover(ctx context.Context, replica *Server) error {
	ri := slices.Index(c.Replicas, replica)
	if ri < 0 {
		return fmt.Errorf("failover: %s is not a replica", replica.Addr)
	}
	a := c.admin[replica.Addr]
	repl, err := a.Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("failover: role of %s: %w", replica.Addr, err)
	}
	port := field(repl, "master_port")
	mi := slices.IndexFunc(c.Masters, func(s *Server) bool { return strconv.Itoa(s.Port) == port })
	if mi < 0 {
		return fmt.Errorf("failover: master of %s (port %q) unknown", replica.Addr, port)
	}
	if err := a.ClusterFailover(ctx).Err(); err != nil {
		return fmt.Errorf("failover %s: %w", replica.Addr, err)
	}
	c.Masters[mi], c.Replicas[ri] = c.Replicas[ri], c.Masters[mi]
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := poll(ctx, c.settled); err != nil {
		return fmt.Errorf("failover %s: %w", replica.Addr, err)
	}
	return nil
}

// MoveSlot migrates slot from master src to master dst the way redis-cli
// --cluster reshard does: IMPORTING on dst, MIGRATING on src, MIGRATE of
// its keys in batches, then SETSLOT NODE on every master. Safe to call from
// any goroutine while the cluster serves traffic.
func (c *Cluster) MoveSlot(ctx context.Context, slot int, src, dst *Server) error {
	_, err := c.MoveSlotPaced(ctx, slot, src, dst, 100, 0)
	return err
}

// MoveSlotPaced is MoveSlot with batch keys per MIGRATE [100 when below 1]
// and a pause after each batch, so that traffic meets the slot half-moved
// (ASK redirects, TRYAGAIN) for a while. It returns how many keys moved.
func (c *Cluster) MoveSlotPaced(ctx context.Context, slot int, src, dst *Server, batch int, pause time.Duration) (int, error) {
	if batch < 1 {
		batch = 100
	}
	sc, dc := c.admin[src.Addr], c.admin[dst.Addr]
	srcID, err := sc.ClusterMyID(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("move slot %d: id of %s: %w", slot, src.Addr, err)
	}
	dstID, err := dc.ClusterMyID(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("move slot %d: id of %s: %w", slot, dst.Addr, err)
	}
	if err := dc.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err(); err != nil {
		return 0, fmt.Errorf("move slot %d: importing: %w", slot, err)
	}
	if err := sc.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err(); err != nil {
		return 0, fmt.Errorf("move slot %d: migrating: %w", slot, err)
	}
	moved := 0
	for {
		ks, err := sc.ClusterGetKeysInSlot(ctx, slot, batch).Result()
		if err != nil {
			return moved, fmt.Errorf("move slot %d: keys: %w", slot, err)
		}
		if len(ks) == 0 {
			break
		}
		args := []any{"MIGRATE", "127.0.0.1", dst.Port, "", 0, 5000, "KEYS"}
		for _, k := range ks {
			args = append(args, k)
		}
		if err := sc.Do(ctx, args...).Err(); err != nil {
			return moved, fmt.Errorf("move slot %d: migrate: %w", slot, err)
		}
		moved += len(ks)
		select {
		case <-ctx.Done():
			return moved, fmt.Errorf("move slot %d: %w", slot, ctx.Err())
		case <-time.After(pause):
		}
	}
	for _, m := range append([]*Server{dst, src}, c.Masters...) {
		if err := c.admin[m.Addr].Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err(); err != nil {
			return moved, fmt.Errorf("move slot %d: node on %s: %w", slot, m.Addr, err)
		}
	}
	return moved, nil
}

// Close kills every node and removes their directories.
func (c *Cluster) Close() {
	for _, a := range c.admin {
		a.Close()
	}
	for _, s := range c.nodes() {
		s.Close()
	}
}
