package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ClusterMain starts a 3-master cluster for a package's tests, runs them, and
// stops it. Use as: func TestMain(m *testing.M) { redistest.ClusterMain(m, &cluster) }.
// SharedCluster returns the same cluster.
func ClusterMain(m *testing.M, c **Cluster) {
	cl, err := StartCluster(ClusterOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		os.Exit(1)
	}
	*c = cl
	shared.mu.Lock()
	shared.c = cl
	shared.mu.Unlock()
	os.Exit(runShared(m)) // runShared stops cl
}

// shared is the package's lazily started cluster (SharedCluster).
var shared struct {
	mu      sync.Mutex
	running bool // inside Main or ClusterMain
	c       *Cluster
	err     error
}

// SharedCluster returns the test binary's 3-master cluster, started by the
// first call and stopped when Main or ClusterMain returns: a package's tests
// share one cluster, and a run that selects none of them starts none. It
// fails t when TestMain does not use Main or ClusterMain (nothing would stop
// the cluster) or when the cluster does not start.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.running {
		t.Fatal("redistest.SharedCluster needs TestMain to call redistest.Main or ClusterMain")
	}
	if shared.c == nil && shared.err == nil {
		shared.c, shared.err = StartCluster(ClusterOptions{})
	}
	if shared.err != nil {
		t.Fatalf("shared cluster: %v", shared.err)
	}
	return shared.c
}

// runShared runs the tests and stops the shared cluster if one started.
func runShared(m *testing.M) int {
	shared.mu.Lock()
	shared.running, shared.err = true, nil
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.c != nil {
		shared.c.Close()
	}
	shared.running, shared.c, shared.err = false, nil, errors.New("tests are over")
	return code
}

// OnBoth runs test twice: as subtest "single" with a client of srv (and a
// nil cluster), and as "cluster" with a client of the shared cluster
// (SharedCluster): one specification checked against both deployments.
func OnBoth(t *testing.T, srv *Server, test func(t *testing.T, rdb redis.UniversalClient, c *Cluster)) {
	t.Helper()
	t.Run("single", func(t *testing.T) { test(t, srv.Client(t), nil) })
	t.Run("cluster", func(t *testing.T) {
		c := SharedCluster(t)
		test(t, c.Client(t), c)
	})
}

// Keys returns every key matching pattern, sorted. On a cluster it scans
// every master: SCAN through a cluster client sees one node only.
func Keys(t testing.TB, rdb redis.UniversalClient, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 100).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			out = append(out, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		t.Fatalf("redistest.Keys: unsupported client %T", rdb)
	}
	if err != nil {
		t.Fatalf("scan %s: %v", pattern, err)
	}
	slices.Sort(out)
	return out
}
