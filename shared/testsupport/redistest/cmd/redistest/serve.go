package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// process is one line of the start-up listing: a server by its role.
type process struct {
	role string
	s    *redistest.Server
}

// setUpFlags are the flags of cluster and sentinel alike.
type setUpFlags struct {
	port    int
	dir     string
	timeout time.Duration
	stdin   bool
}

// register defines the flags on fs; port says what -port places, requests
// names what -stdin takes.
func (f *setUpFlags) register(fs *flag.FlagSet, port, requests string) {
	fs.IntVar(&f.port, "port", 0, port+"; 0: free ports")
	fs.StringVar(&f.dir, "dir", "", "keep every process's files in DIR/<port>, found again by a start on the same ports; empty: temporary directories")
	fs.DurationVar(&f.timeout, "timeout", 20*time.Second, "bound of the start and of each failover")
	fs.BoolVar(&f.stdin, "stdin", false, "take requests on standard input ("+requests+") and stop at its end")
}

// serve prints the listing of a started set-up and serves it: the requests
// on in with -stdin, else until ctx ends.
func (f *setUpFlags) serve(ctx context.Context, in io.Reader, out io.Writer, url string, procs []process, v verbs) error {
	if err := announce(out, url, procs); err != nil {
		return err
	}
	var h handler
	if f.stdin {
		h = v.handle
	}
	return serve(ctx, in, out, h)
}

// announce prints the set-up's URL, a line per process, and "ready".
func announce(out io.Writer, url string, procs []process) error {
	var b strings.Builder
	fmt.Fprintln(&b, "url", url)
	for _, p := range procs {
		fmt.Fprintln(&b, p.role, p.s.Addr, p.s.PID(), p.s.Dir)
	}
	b.WriteString("ready\n")
	_, err := io.WriteString(out, b.String())
	return err
}

// handler answers one request, the words of its JSON array.
type handler func(ctx context.Context, words []string) (any, error)

// verbs is a handler that dispatches on the request's first word.
type verbs map[string]func(ctx context.Context, args []string) (any, error)

func (v verbs) handle(ctx context.Context, words []string) (any, error) {
	if f := v[words[0]]; f != nil {
		return f(ctx, words[1:])
	}
	known := make([]string, 0, len(v))
	for k := range v {
		known = append(known, k)
	}
	return nil, fmt.Errorf("unknown request %q (known: %s)", words[0], strings.Join(known, ", "))
}

// serve answers the requests on in, one at a time and in order, until in
// ends or ctx does; with a nil handler it ignores in and waits for ctx.
func serve(ctx context.Context, in io.Reader, out io.Writer, h handler) error {
	if h == nil {
		<-ctx.Done()
		return nil
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			reply := map[string]any{}
			if v, err := answer(ctx, h, line); err != nil {
				reply["error"] = err.Error()
			} else {
				reply["ok"] = v
			}
			if err := enc.Encode(reply); err != nil {
				return fmt.Errorf("write answer: %w", err)
			}
		}
	}
}

// answer parses one request, a JSON array of strings and numbers, and runs it.
func answer(ctx context.Context, h handler, line string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("request %q: want a non-empty JSON array", line)
	}
	words := make([]string, len(raw))
	for i, w := range raw {
		switch w := w.(type) {
		case string:
			words[i] = w
		case json.Number:
			words[i] = w.String()
		default:
			return nil, fmt.Errorf("request %q: word %d is neither a string nor a number", line, i)
		}
	}
	return h(ctx, words)
}
