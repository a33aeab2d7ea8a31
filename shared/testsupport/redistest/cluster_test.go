package redistest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	var srv *Server
	Main(m, &srv)
}

func TestClusterKeysLandOnTheirMasters(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	c := SharedCluster(t)
	t.Logf("cluster up in %v", time.Since(start))
	if len(c.Masters) != 3 || len(c.Replicas) != 0 {
		t.Fatalf("got %d masters, %d replicas; want 3, 0", len(c.Masters), len(c.Replicas))
	}
	if got, want := c.URL(), "redis+cluster://"+strings.Join(c.Addrs(), ","); got != want || len(c.Addrs()) != 3 {
		t.Fatalf("URL %q, Addrs %v", got, c.Addrs())
	}
	rdb := c.Client(t)
	p := Prefix(t)
	seen := map[*Server]bool{}
	for _, tag := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		key := p + ":{" + tag + "}:k"
		if err := rdb.Set(ctx, key, tag, 0).Err(); err != nil {
			t.Fatalf("set %s: %v", key, err)
		}
		owner, err := c.MasterOf(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		seen[owner] = true
		for _, s := range c.Masters {
			// Each node answers only for its own slots (no -c), so only
			// the owner has the key.
			n, err := c.admin[s.Addr].Exists(ctx, key).Result()
			if s == owner && (err != nil || n != 1) {
				t.Errorf("%s on its master %s: exists %d, %v", key, s.Addr, n, err)
			}
			if s != owner && n != 0 {
				t.Errorf("%s also on %s", key, s.Addr)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("8 tags landed on %d masters, want all 3", len(seen))
	}
}

func TestClusterFailoverSwapsRoles(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	c, err := StartCluster(ClusterOptions{Masters: 1, ReplicasPerMaster: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("cluster up in %v", time.Since(start))
	oldMaster, replica := c.Masters[0], c.Replicas[0]
	rdb := c.Client(t)
	if err := rdb.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := c.Failover(ctx, replica); err != nil {
		t.Fatal(err)
	}
	t.Logf("failover in %v", time.Since(start))
	if c.Masters[0] != replica || c.Replicas[0] != oldMaster {
		t.Fatalf("roles not swapped in Masters/Replicas")
	}
	for s, want := range map[*Server]string{replica: "master", oldMaster: "slave"} {
		role, err := c.admin[s.Addr].Do(ctx, "ROLE").Slice()
		if err != nil || role[0] != want {
			t.Errorf("%s: ROLE %v, %v; want %s", s.Addr, role, err, want)
		}
	}
	if owner, err := c.MasterOf(ctx, "k"); err != nil || owner != replica {
		t.Errorf("MasterOf(k) = %v, %v; want the promoted replica", owner, err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "before" {
		t.Errorf("after failover: get k = %q, %v", v, err)
	}
	if err := rdb.Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Errorf("write after failover: %v", err)
	}
}

func TestSharedClusterIsShared(t *testing.T) {
	if a, b := SharedCluster(t), SharedCluster(t); a != b {
		t.Fatal("two clusters")
	}
}

// TestListenHearsBothPublishCommands: a Listener receives PUBLISH and
// SPUBLISH alike, on a single server and on a cluster.
func TestListenHearsBothPublishCommands(t *testing.T) {
	srv, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := SharedCluster(t)
	for name, rdb := range map[string]redis.UniversalClient{"single": srv.Client(t), "cluster": c.Client(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			p := Prefix(t)
			chans := []string{p + ":{1}:ch", p + ":{3}:ch", p + ":{4}:ch"}
			if name == "cluster" {
				c.Spread(t, chans...)
			}
			l := Listen(t, rdb, chans...)
			for _, ch := range chans {
				if err := rdb.Publish(ctx, ch, "classic").Err(); err != nil {
					t.Fatal(err)
				}
				if err := rdb.SPublish(ctx, ch, "sharded").Err(); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string][]string{}
			for range 2 * len(chans) {
				m := l.Next(t)
				got[m.Channel] = append(got[m.Channel], m.Payload)
			}
			for _, ch := range chans {
				if len(got[ch]) != 2 || !slices.Contains(got[ch], "classic") || !slices.Contains(got[ch], "sharded") {
					t.Errorf("%s received %v, want classic and sharded", ch, got[ch])
				}
			}
			l.None(t, 50*time.Millisecond)
		})
	}
}
