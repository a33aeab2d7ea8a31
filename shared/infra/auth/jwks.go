package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// maxJWKSBytes bounds a JWKS document.
const maxJWKSBytes = 1 << 20

// JWKSConfig configures the JWK Set a Verifier fetches. Zero fields take the
// defaults in brackets.
type JWKSConfig struct {
	// URL is the http(s) address of the JWK Set (JWT_JWKS_URL). Empty: no JWKS.
	URL string
	// Refresh is the period of routine refetches (JWT_JWKS_REFRESH) [10m];
	// after a failed fetch the next try comes after MinRefetch instead.
	Refresh time.Duration
	// MinRefetch is the least time between two fetches caused by tokens
	// whose kid is unknown (JWT_JWKS_MIN_REFETCH) [30s]: a flood of tokens
	// with made-up kids costs the key server at most one request per period.
	MinRefetch time.Duration
	// Timeout bounds one HTTP fetch, connection to last byte [5s].
	Timeout time.Duration
	// Client makes the requests; default an http.Client with Timeout.
	Client *http.Client
	// Logger receives fetch failures [slog.Default()].
	Logger *slog.Logger
}

func (c *JWKSConfig) defaults() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("auth: JWKS URL must be an http(s) URL")
	}
	if c.Refresh <= 0 {
		c.Refresh = 10 * time.Minute
	}
	if c.MinRefetch <= 0 {
		c.MinRefetch = 30 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// jwks caches a remote JWK Set. One owner goroutine (run) does every fetch:
// at start, every Refresh, and when a verifier meets an unknown kid (at
// most once per MinRefetch). Readers never wait for the network except in
// refetch, bounded by Timeout. close stops the goroutine and waits for it.
type jwks struct {
	cfg  JWKSConfig
	kick chan struct{} // asks run for a fetch now; buffered 1
	stop chan struct{}
	done chan struct{}
	once sync.Once

	// mu guards the cached keys and the fetch bookkeeping.
	mu        sync.Mutex
	keys      []key
	lastFetch time.Time     // start of the latest fetch, for the kid rate limit
	inflight  chan struct{} // closed when the fetch in progress ends; nil when idle
}

// newJWKS starts the owner goroutine, which fetches the set at once.
func newJWKS(cfg JWKSConfig) (*jwks, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	j := &jwks{cfg: cfg, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go j.run()
	return j, nil
}

func (j *jwks) run() {
	defer close(j.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-j.stop; cancel() }()
	next := time.NewTimer(0)
	defer next.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-next.C:
		case <-j.kick:
		}
		wait := j.cfg.Refresh
		if err := j.fetch(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			j.cfg.Logger.Warn("JWKS fetch failed; keeping the cached keys", "url", j.cfg.URL, "err", err)
			wait = j.cfg.MinRefetch
		}
		next.Reset(wait)
	}
}

// fetch downloads and parses the set; on failure the cached keys stay.
func (j *jwks) fetch(ctx context.Context) error {
	j.mu.Lock()
	if j.inflight == nil {
		j.inflight = make(chan struct{})
	}
	j.lastFetch = time.Now()
	j.mu.Unlock()
	keys, err := j.download(ctx)
	j.mu.Lock()
	if err == nil {
		j.keys = keys
	}
	close(j.inflight)
	j.inflight = nil
	j.mu.Unlock()
	return err
}

func (j *jwks) download(ctx context.Context) ([]key, error) {
	ctx, cancel := context.WithTimeout(ctx, j.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.cfg.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := j.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS answered %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("JWKS document is larger than 1 MiB")
	}
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		return nil, err
	}
	if skipped > 0 {
		j.cfg.Logger.Debug("JWKS keys skipped", "url", j.cfg.URL, "skipped", skipped, "kept", len(keys))
	}
	return keys, nil
}

// match returns the cached keys for alg whose kid is kid (any kid when kid
// is empty).
func (j *jwks) match(kid, alg string) []key {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []key
	for _, k := range j.keys {
		if k.allows(alg) && (kid == "" || k.kid == kid) {
			out = append(out, k)
		}
	}
	return out
}

// refetch asks the owner goroutine for a fetch, unless one started less
// than MinRefetch ago, and waits for it (or for the fetch already in
// progress) at most Timeout plus a second. It reports whether a fetch ended
// meanwhile, i.e. whether looking again may help.
func (j *jwks) refetch() bool {
	j.mu.Lock()
	ch := j.inflight
	if ch == nil {
		if time.Since(j.lastFetch) < j.cfg.MinRefetch {
			j.mu.Unlock()
			return false
		}
		ch = make(chan struct{})
		j.inflight, j.lastFetch = ch, time.Now()
		select {
		case j.kick <- struct{}{}:
		default: // a fetch is already asked for; it will close ch
		}
	}
	j.mu.Unlock()
	t := time.NewTimer(j.cfg.Timeout + time.Second)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-j.stop:
	}
	return false
}

func (j *jwks) close() {
	j.once.Do(func() { close(j.stop) })
	<-j.done
}
