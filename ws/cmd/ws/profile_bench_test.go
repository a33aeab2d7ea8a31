package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"
)

// TestProfileServe runs the real ws node (run, exactly as main does) inside
// the test binary, so it can be profiled under a chatload workload without a
// pprof endpoint:
//
//	go test -c -o ws.test ./ws/cmd/ws
//	ROOMWIRE_PROFILE_SERVE=10m ROOMWIRE_PROFILE_DIR=/tmp/prof REDIS_URL=... JWT_SECRET=... \
//	  ./ws.test -test.run '^TestProfileServe$' &
//	chatload ... -server-pids $! -profile-signals
//
// It serves for ROOMWIRE_PROFILE_SERVE (a duration) or until SIGTERM/SIGINT,
// then shuts down like the binary. Signals, each answered with files in
// ROOMWIRE_PROFILE_DIR (default: the working directory):
//   - SIGUSR2 starts a CPU profile (cpu-N.pprof), the next SIGUSR2 stops it:
//     chatload -profile-signals brackets every measured window with them;
//   - SIGUSR1 writes the live heap (heap-N.pprof), the goroutines
//     (goroutine-N.pprof) and runtime.MemStats (memstats-N.json).
//
// -test.cpuprofile also works and covers the whole run. Skipped unless
// ROOMWIRE_PROFILE_SERVE is set, so make test never runs it.
func TestProfileServe(t *testing.T) {
	v := os.Getenv("ROOMWIRE_PROFILE_SERVE")
	if v == "" {
		t.Skip("set ROOMWIRE_PROFILE_SERVE=<duration> to serve and profile")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("ROOMWIRE_PROFILE_SERVE=%q: want a positive duration", v)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	p := &profiler{dir: os.Getenv("ROOMWIRE_PROFILE_DIR")}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				p.stopCPU()
				return
			case s := <-sigs:
				var err error
				if s == syscall.SIGUSR1 {
					err = p.dumpMemory()
				} else {
					err = p.toggleCPU()
				}
				if err != nil {
					t.Log(err)
				}
			}
		}
	}()
	err = run(ctx, os.Getenv)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
}

// profiler writes numbered profiles into dir. Used by one goroutine.
type profiler struct {
	dir        string
	cpu        *os.File
	cpuN, memN int
}

func (p *profiler) toggleCPU() error {
	if p.cpu != nil {
		p.stopCPU()
		return nil
	}
	p.cpuN++
	f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("cpu-%d.pprof", p.cpuN)))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	p.cpu = f
	return nil
}

func (p *profiler) stopCPU() {
	if p.cpu != nil {
		pprof.StopCPUProfile()
		p.cpu.Close()
		p.cpu = nil
	}
}

// dumpMemory writes heap and goroutine profiles and MemStats.
func (p *profiler) dumpMemory() error {
	p.memN++
	runtime.GC()
	for _, name := range []string{"heap", "goroutine"} {
		f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("%s-%d.pprof", name, p.memN)))
		if err != nil {
			return err
		}
		err = pprof.Lookup(name).WriteTo(f, 0)
		f.Close()
		if err != nil {
			return err
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, _ := json.MarshalIndent(map[string]any{
		"goroutines": runtime.NumGoroutine(), "heapInuse": ms.HeapInuse, "heapAlloc": ms.HeapAlloc,
		"stackInuse": ms.StackInuse, "sys": ms.Sys, "heapIdle": ms.HeapIdle, "heapReleased": ms.HeapReleased,
		"mSpanInuse": ms.MSpanInuse, "gcSys": ms.GCSys, "otherSys": ms.OtherSys, "numGC": ms.NumGC,
	}, "", "  ")
	return os.WriteFile(filepath.Join(p.dir, fmt.Sprintf("memstats-%d.json", p.memN)), b, 0o644)
}
