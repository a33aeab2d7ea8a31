package wsconn

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"syscall"
	"time"
)

// Options configures Accept. Zero fields take the defaults in brackets.
type Options struct {
	// Subprotocols lists the subprotocols the server speaks, preferred
	// first; the first one the client also offers is selected [none].
	Subprotocols []string
	// OriginPatterns lists browser origins allowed besides same-origin,
	// matched with path.Match, case-insensitively: a pattern holding
	// "://" matches "scheme://host", any other the host alone.
	OriginPatterns []string
	// WriteTimeout bounds the peer's silence during a socket write [10s]:
	// a write fails when the peer acknowledged none of what was sent for
	// that long. A write that progresses, however slowly (a slow reader
	// whose socket buffers are full), goes on where the socket tells how
	// much the peer acknowledged (Linux); elsewhere it bounds every write.
	WriteTimeout time.Duration
	// ReadLimit bounds one message's payload; beyond, the connection is
	// closed with 1009 [32 MiB].
	ReadLimit int64
	// CloseTimeout bounds the wait for the peer's close frame after ours
	// [5s].
	CloseTimeout time.Duration
}

// ReadBuffer is the size of a connection's read buffer: frame headers,
// control frames and small frames are read through it, larger payloads go
// straight into the caller's buffer.
const ReadBuffer = 512

// Accept completes the WebSocket handshake of r (RFC 6455 §4.2, version
// 13, no extensions) and takes over the connection. A request that is not
// a valid upgrade, or comes from a foreign origin, is answered with an
// HTTP error (426, 405, 400, 403) and an error returned. Headers already
// set on w are sent with the 101 response.
func Accept(w http.ResponseWriter, r *http.Request, o *Options) (*Conn, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if code, err := verifyRequest(w, r); err != nil {
		http.Error(w, err.Error(), code)
		return nil, fmt.Errorf("websocket accept: %w", err)
	}
	if err := checkOrigin(r, opts.OriginPatterns); err != nil {
		if errors.Is(err, path.ErrBadPattern) {
			log.Printf("websocket: %v", err)
			err = errors.New(http.StatusText(http.StatusForbidden))
		}
		http.Error(w, err.Error(), http.StatusForbidden)
		return nil, fmt.Errorf("websocket accept: %w", err)
	}
	hj, ok := hijacker(w)
	if !ok {
		http.Error(w, http.StatusText(http.StatusNotImplemented), http.StatusNotImplemented)
		return nil, errors.New("websocket accept: http.ResponseWriter does not implement http.Hijacker")
	}
	h := w.Header()
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
	proto := selectSubprotocol(r, opts.Subprotocols)
	if proto != "" {
		h.Set("Sec-WebSocket-Protocol", proto)
	}
	w.WriteHeader(http.StatusSwitchingProtocols)
	nc, brw, err := hj.Hijack()
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return nil, fmt.Errorf("websocket accept: hijack: %w", err)
	}
	// Bytes the client sent right behind the upgrade stay first: they are
	// pulled into the connection's own small reader (net/http's 4 KiB one
	// is let go).
	var src io.Reader = nc
	n := brw.Reader.Buffered()
	if n > 0 {
		b, _ := brw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(b)), nc)
	}
	br := bufio.NewReaderSize(src, max(ReadBuffer, n))
	if n > 0 {
		if _, err := br.Peek(n); err != nil {
			nc.Close()
			return nil, fmt.Errorf("websocket accept: early bytes: %w", err)
		}
	}
	c := newConn(nc, br, opts)
	c.subprotocol = proto
	if sc, ok := nc.(syscall.Conn); ok {
		c.rc, _ = sc.SyscallConn()
	}
	return c, nil
}

func hijacker(w http.ResponseWriter) (http.Hijacker, bool) {
	for {
		if hj, ok := w.(http.Hijacker); ok {
			return hj, true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil, false
		}
		w = u.Unwrap()
	}
}

// verifyRequest checks the upgrade request (RFC 6455 §4.2.1) and returns
// the HTTP status to answer a bad one with.
func verifyRequest(w http.ResponseWriter, r *http.Request) (int, error) {
	if !r.ProtoAtLeast(1, 1) {
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: handshake request must be at least HTTP/1.1: %q", r.Proto)
	}
	if !hasToken(r.Header, "Connection", "Upgrade") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: Connection header %q does not contain Upgrade", r.Header.Get("Connection"))
	}
	if !hasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: Upgrade header %q does not contain websocket", r.Header.Get("Upgrade"))
	}
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, fmt.Errorf("WebSocket protocol violation: handshake request method is not GET but %q", r.Method)
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusBadRequest, fmt.Errorf("unsupported WebSocket protocol version (only 13 is supported): %q", r.Header.Get("Sec-WebSocket-Version"))
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, errors.New("WebSocket protocol violation: want exactly one Sec-WebSocket-Key")
	}
	key := strings.TrimSpace(keys[0])
	if v, err := base64.StdEncoding.DecodeString(key); err != nil || len(v) != 16 {
		return http.StatusBadRequest, fmt.Errorf("WebSocket protocol violation: invalid Sec-WebSocket-Key %q, must be a 16 byte base64 encoded string", key)
	}
	return 0, nil
}

// checkOrigin lets in requests without Origin, from the request's own
// host, or matching one of patterns.
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("failed to parse Origin header %q: %w", origin, err)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		ok, err := path.Match(strings.ToLower(p), strings.ToLower(target))
		if err != nil {
			return fmt.Errorf("failed to parse path pattern %q: %w", p, err)
		}
		if ok {
			return nil
		}
	}
	if u.Host == "" {
		return fmt.Errorf("request Origin %q is not a valid URL with a host", origin)
	}
	return fmt.Errorf("request Origin %q is not authorized for Host %q", u.Host, r.Host)
}

// selectSubprotocol returns the first of ours the client offers.
func selectSubprotocol(r *http.Request, ours []string) string {
	offered := headerTokens(r.Header, "Sec-WebSocket-Protocol")
	for _, sp := range ours {
		for _, cp := range offered {
			if strings.EqualFold(sp, cp) {
				return cp
			}
		}
	}
	return ""
}

func hasToken(h http.Header, key, token string) bool {
	for _, t := range headerTokens(h, key) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

func headerTokens(h http.Header, key string) []string {
	var tokens []string
	for _, v := range h[textproto.CanonicalMIMEHeaderKey(key)] {
		for _, t := range strings.Split(v, ",") {
			tokens = append(tokens, strings.TrimSpace(t))
		}
	}
	return tokens
}

var keyGUID = []byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11")

// acceptKey is the Sec-WebSocket-Accept answer to key.
func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write(keyGUID)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
