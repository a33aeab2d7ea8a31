package archivetest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on a loopback port in front of a PostgreSQL server,
// for outage tests: Down makes the database unreachable as a crashed server
// is (new connections are refused, open ones cut), Up brings it back on the
// same address. Its methods are safe for concurrent use.
type Proxy struct {
	t      testing.TB
	target string // host:port of the server
	dbURL  string // the URL given to NewProxy
	addr   string // our listening address, fixed at start

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy starts a proxy to the server of dbURL (a postgres:// URL, as
// NewDB returns) and stops it when the test ends. URL gives dbURL pointed
// at the proxy.
func NewProxy(t testing.TB, dbURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil || u.Host == "" {
		t.Fatalf("archivetest: proxy needs a postgres://host:port/db URL, got %q (%v)", redact(dbURL), err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("archivetest: proxy listen: %v", err)
	}
	p := &Proxy{t: t, target: target, dbURL: dbURL, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.Down()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// URL returns the URL given to NewProxy with its host:port replaced by the
// proxy's.
func (p *Proxy) URL() string { return p.Rewrite(p.dbURL) }

// Rewrite returns dbURL with its host:port replaced by the proxy's (dbURL
// unchanged when it does not parse).
func (p *Proxy) Rewrite(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	u.Host = p.addr
	return u.String()
}

// Down stops accepting (connecting then fails with "connection refused")
// and closes every open connection. Down on a stopped proxy does nothing.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Up listens again on the same address; Up on a running proxy does
// nothing. When the address cannot be taken back within 5s (another
// process took the port meanwhile) the test fails (t.Errorf, so Up may be
// called from any goroutine) and the proxy stays down.
func (p *Proxy) Up() {
	p.mu.Lock()
	running := p.ln != nil
	p.mu.Unlock()
	if running {
		return
	}
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		p.t.Errorf("archivetest: proxy up again on %s: %v", p.addr, err)
		return
	}
	p.serve(ln)
}

// serve accepts on ln until Down closes it.
func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Down
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.pipe(c)
			}()
		}
	}()
}

// pipe joins client c to a new connection to the server until either side
// ends or Down cuts both.
func (p *Proxy) pipe(c net.Conn) {
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, s) {
		return
	}
	defer p.untrack(c, s)
	done := make(chan struct{}, 2)
	for _, dir := range [][2]net.Conn{{s, c}, {c, s}} {
		go func() {
			_, _ = io.Copy(dir[0], dir[1])
			// Closing both ends ends the other copy too.
			_ = dir[0].Close()
			_ = dir[1].Close()
			done <- struct{}{}
		}()
	}
	<-done
	<-done
}

// track records c and s as open, unless the proxy went down meanwhile (then
// it closes them and reports false).
func (p *Proxy) track(c, s net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		_ = c.Close()
		_ = s.Close()
		return false
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	return true
}

func (p *Proxy) untrack(c, s net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	delete(p.conns, s)
}
