package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// session is a running `redistest ...` (run in a goroutine) with its
// start-up listing read.
type session struct {
	url   string
	procs map[string][]string // role -> addresses
	pids  []int
	in    *io.PipeWriter
	out   *bufio.Scanner
	stop  context.CancelFunc
	done  chan error
}

// start runs the command with args and reads its listing up to "ready" (for
// call, which prints none, it returns at once).
func start(t *testing.T, args ...string) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{procs: map[string][]string{}, in: inW, out: bufio.NewScanner(outR), stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, args, inR, outW); outW.Close() }()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		go io.Copy(io.Discard, outR)
		<-s.done
	})
	if args[0] == "call" {
		return s
	}
	for s.out.Scan() && s.out.Text() != "ready" {
		f := strings.Fields(s.out.Text())
		if f[0] == "url" {
			s.url = f[1]
			continue
		}
		s.procs[f[0]] = append(s.procs[f[0]], f[1])
		pid, err := strconv.Atoi(f[2])
		if err != nil || pid <= 0 {
			t.Fatalf("listing line %q: no pid", s.out.Text())
		}
		s.pids = append(s.pids, pid)
	}
	if s.url == "" {
		t.Fatalf("no listing: %v", <-s.done)
	}
	return s
}

// ask sends one request and returns its answer's "ok" part, failing t on
// an "error" answer.
func (s *session) ask(t *testing.T, words ...any) any {
	t.Helper()
	ok, errText := s.try(t, words...)
	if errText != "" {
		t.Fatalf("%v: %s", words, errText)
	}
	return ok
}

// try sends one request and returns its answer.
func (s *session) try(t *testing.T, words ...any) (ok any, errText string) {
	t.Helper()
	line, _ := json.Marshal(words)
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	if !s.out.Scan() {
		t.Fatalf("%v: no answer: %v", words, <-s.done)
	}
	var a struct {
		OK    any    `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(s.out.Bytes(), &a); err != nil {
		t.Fatalf("answer %q: %v", s.out.Text(), err)
	}
	return a.OK, a.Error
}

// stopped fails t unless the command returned and every process it
// listed is gone.
func (s *session) stopped(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running")
	}
	s.done <- nil // for the cleanup
	for _, pid := range s.pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still runs after the command stopped", pid)
		}
	}
}

// TestClusterServesUntilSignalled: the printed URL reaches a cluster whose
// masters are the printed ones, and the cluster stops when ctx ends.
func TestClusterServesUntilSignalled(t *testing.T) {
	s := start(t, "cluster", "-masters", "2", "-replicas", "1")
	if len(s.procs["master"]) != 2 || len(s.procs["replica"]) != 2 || len(s.pids) != 4 {
		t.Fatalf("listing %v, pids %v", s.procs, s.pids)
	}
	if want := "redis+cluster://" + strings.Join(append(s.procs["master"], s.procs["replica"]...), ","); s.url != want {
		t.Errorf("url %s, want %s", s.url, want)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(strings.TrimPrefix(s.url, "redis+cluster://"), ",")})
	defer rdb.Close()
	for _, k := range []string{"{a}", "{b}", "{c}"} {
		if err := rdb.Set(context.Background(), k, "v", 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	s.in.Close() // without -stdin the input does not matter
	select {
	case err := <-s.done:
		t.Fatalf("returned at the end of its input: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	s.stop()
	s.stopped(t)
}

// TestClusterAnswersRequests: with -stdin, master, failover and moveslot
// act on the cluster and say what they did; the end of the input stops it.
func TestClusterAnswersRequests(t *testing.T) {
	s := start(t, "cluster", "-masters", "2", "-replicas", "1", "-stdin")
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: s.procs["master"]})
	defer rdb.Close()
	for _, k := range []string{"{k}a", "{k}b"} {
		if err := rdb.Set(context.Background(), k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := s.ask(t, "master", "{k}").(map[string]any)
	f := s.ask(t, "failover", "{k}").(map[string]any)
	if f["from"] != m["addr"] || f["to"] == m["addr"] || f["slot"] != m["slot"] {
		t.Errorf("failover %v after master %v", f, m)
	}
	if after := s.ask(t, "master", "{k}").(map[string]any); after["addr"] != f["to"] {
		t.Errorf("master after the failover %v, want %v", after["addr"], f["to"])
	}
	mv := s.ask(t, "moveslot", "{k}", 1, "1ms").(map[string]any)
	if mv["from"] != f["to"] || mv["to"] == f["to"] || mv["keys"] != 2.0 {
		t.Errorf("moveslot %v after failover %v", mv, f)
	}
	if after := s.ask(t, "master", "{k}").(map[string]any); after["addr"] != mv["to"] {
		t.Errorf("master after the move %v, want %v", after["addr"], mv["to"])
	}
	if _, e := s.try(t, "reshard"); !strings.Contains(e, "unknown request") {
		t.Errorf("unknown request answered %q", e)
	}
	if _, e := s.try(t, "master"); e == "" {
		t.Error("master without a key: no error")
	}
	s.in.Close()
	s.stopped(t)
}

// TestSentinelAnswersFailover: the listing names the set-up's processes and
// its URL; a failover request swaps master and replica.
func TestSentinelAnswersFailover(t *testing.T) {
	s := start(t, "sentinel", "-name", "cmdtest", "-stdin")
	if len(s.procs["master"]) != 1 || len(s.procs["replica"]) != 1 || len(s.procs["sentinel"]) != 3 {
		t.Fatalf("listing %v", s.procs)
	}
	if want := "redis+sentinel://" + strings.Join(s.procs["sentinel"], ",") + "/cmdtest"; s.url != want {
		t.Errorf("url %s, want %s", s.url, want)
	}
	f := s.ask(t, "failover").(map[string]any)
	if f["from"] != s.procs["master"][0] || f["to"] != s.procs["replica"][0] {
		t.Errorf("failover %v of listing %v", f, s.procs)
	}
	s.in.Close()
	s.stopped(t)
}
