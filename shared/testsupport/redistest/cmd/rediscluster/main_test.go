package main

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestRunPrintsAWorkingCluster: the printed URL reaches a cluster whose
// masters are the printed ones, and the cluster stops when ctx ends.
func TestRunPrintsAWorkingCluster(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-masters", "2", "-replicas", "1"}, w); w.Close() }()
	var url string
	var masters, pids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() && sc.Text() != "ready" {
		f := strings.Fields(sc.Text())
		switch f[0] {
		case "url":
			url = f[1]
		case "master":
			masters = append(masters, f[1])
			pids = append(pids, f[2])
		case "replica":
			pids = append(pids, f[2])
		}
	}
	if url == "" || len(masters) != 2 || len(pids) != 4 {
		t.Fatalf("url %q, masters %v, pids %v", url, masters, pids)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(strings.TrimPrefix(url, "redis+cluster://"), ",")})
	defer rdb.Close()
	for _, k := range []string{"{a}", "{b}", "{c}"} {
		if err := rdb.Set(context.Background(), k, "v", 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	cancel()
	go io.Copy(io.Discard, r)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			t.Fatalf("pid %q", p)
		}
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("redis-server %d still runs after the command stopped", pid)
		}
	}
}
