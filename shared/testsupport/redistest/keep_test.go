package redistest

import (
	"context"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freeRange returns a port p such that p..p+n-1 (and, with bus, the same
// ports plus 10000) are free on loopback.
func freeRange(t *testing.T, n int, bus bool) int {
	t.Helper()
	for range 100 {
		p := 20000 + rand.IntN(10000)
		free := true
		for i := 0; i < n && free; i++ {
			for _, q := range []int{p + i, p + i + 10000} {
				l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
				if err != nil {
					free = false
					break
				}
				l.Close()
				if !bus {
					break
				}
			}
		}
		if free {
			return p
		}
	}
	t.Fatal("no free port range")
	return 0
}

// TestClusterKeptInDirComesBack: a cluster on fixed ports with a Dir is
// found again by a second StartCluster on the same Dir: same ports, the
// data still there, and the roles as a failover left them.
func TestClusterKeptInDirComesBack(t *testing.T) {
	ctx := context.Background()
	opts := ClusterOptions{Masters: 1, ReplicasPerMaster: 1, Port: freeRange(t, 2, true), Dir: t.TempDir(),
		Args: []string{"--appendonly", "yes", "--appendfsync", "always"}}
	c, err := StartCluster(opts)
	if err != nil {
		t.Fatal(err)
	}
	master, replica := c.Masters[0], c.Replicas[0]
	if master.Port != opts.Port || replica.Port != opts.Port+1 || master.BusPort != opts.Port+10000 {
		t.Errorf("ports %d (bus %d), %d; want %d (bus %d), %d", master.Port, master.BusPort, replica.Port, opts.Port, opts.Port+10000, opts.Port+1)
	}
	if r, err := c.ReplicaOf(ctx, master); err != nil || r != replica {
		t.Errorf("ReplicaOf(master) = %v, %v; want %s", r, err, replica.Addr)
	}
	if err := c.Client(t).Set(ctx, "k", "kept", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Failover(ctx, replica); err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, p := range []int{opts.Port, opts.Port + 1} {
		if _, err := os.Stat(filepath.Join(opts.Dir, strconv.Itoa(p), "nodes.conf")); err != nil {
			t.Errorf("node %d's directory not kept: %v", p, err)
		}
	}

	start := time.Now()
	c, err = StartCluster(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("kept cluster back in %v", time.Since(start))
	if c.Masters[0].Port != opts.Port+1 || c.Replicas[0].Port != opts.Port {
		t.Errorf("master %s, replica %s; want the failover's roles (master on %d)", c.Masters[0].Addr, c.Replicas[0].Addr, opts.Port+1)
	}
	if v, err := c.Client(t).Get(ctx, "k").Result(); err != nil || v != "kept" {
		t.Errorf("get k = %q, %v; want kept", v, err)
	}
}

// TestClusterRefusesTakenPortsAndOtherClusters: a fixed port in use, or a
// Dir holding a cluster of another shape, is an error, not a cluster.
func TestClusterRefusesTakenPortsAndOtherClusters(t *testing.T) {
	port := freeRange(t, 3, true)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := StartCluster(ClusterOptions{Masters: 1, Port: port}); err == nil || !strings.Contains(err.Error(), "in use") {
		if c != nil {
			c.Close()
		}
		t.Errorf("bus port taken: err %v, want one saying it is in use", err)
	}
	l.Close()

	dir := t.TempDir()
	c, err := StartCluster(ClusterOptions{Masters: 2, Port: port, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if c, err := StartCluster(ClusterOptions{Masters: 3, Port: port, Dir: dir}); err == nil || !strings.Contains(err.Error(), "another cluster") {
		if c != nil {
			c.Close()
		}
		t.Errorf("a two-master cluster's Dir started as three masters: err %v, want one naming another cluster", err)
	}
}

// TestMoveSlotPacedMovesEveryKey: every key of the slot reaches the other
// master, one MIGRATE each, and the slot is served there.
func TestMoveSlotPacedMovesEveryKey(t *testing.T) {
	ctx := context.Background()
	c := SharedCluster(t)
	rdb := c.Client(t)
	tag := "{" + Prefix(t) + "}"
	for _, k := range []string{"a", "b", "c"} {
		if err := rdb.Set(ctx, tag+k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	src, err := c.MasterOf(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	dst := c.Masters[0]
	if dst == src {
		dst = c.Masters[1]
	}
	slot, err := c.SlotOf(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := c.MoveSlotPaced(ctx, slot, src, dst, 1, 10*time.Millisecond)
	if err != nil || moved != 3 {
		t.Fatalf("moved %d keys, %v; want 3", moved, err)
	}
	if owner, err := c.MasterOf(ctx, tag); err != nil || owner != dst {
		t.Errorf("slot %d served by %v, %v; want %s", slot, owner, err, dst.Addr)
	}
	for _, k := range []string{"a", "b", "c"} {
		if v, err := rdb.Get(ctx, tag+k).Result(); err != nil || v != k {
			t.Errorf("get %s = %q, %v", tag+k, v, err)
		}
	}
}

// TestSentinelKeptInDirComesBack: a Sentinel set-up on fixed ports with a
// Dir keeps every process's files there, by port, and a second start finds
// the data.
func TestSentinelKeptInDirComesBack(t *testing.T) {
	ctx := context.Background()
	opts := SentinelOptions{Port: freeRange(t, 2, false), SentinelPort: freeRange(t, 3, false), Dir: t.TempDir(),
		Args: []string{"--appendonly", "yes", "--appendfsync", "always"}}
	s, err := StartSentinel(opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Master.Port != opts.Port || s.Replica.Port != opts.Port+1 || s.Sentinels[2].Port != opts.SentinelPort+2 {
		t.Errorf("ports %d, %d, %v; want %d, %d, from %d", s.Master.Port, s.Replica.Port, s.Addrs(), opts.Port, opts.Port+1, opts.SentinelPort)
	}
	if err := s.Client(t).Set(ctx, "k", "kept", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, p := range []int{opts.Port, opts.Port + 1, opts.SentinelPort, opts.SentinelPort + 1, opts.SentinelPort + 2} {
		if _, err := os.Stat(filepath.Join(opts.Dir, strconv.Itoa(p))); err != nil {
			t.Errorf("directory of %d not kept: %v", p, err)
		}
	}
	s, err = StartSentinel(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Client(t).Get(ctx, "k").Result(); err != nil || v != "kept" {
		t.Errorf("get k = %q, %v; want kept", v, err)
	}
}
