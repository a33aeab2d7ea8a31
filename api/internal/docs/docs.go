// Package docs serves the REST API's OpenAPI document and an interactive
// documentation page (Swagger UI) whose scripts and styles are built into
// the binary: no CDN, no npm at build time.
//
// assets/ holds the files of the npm package swagger-ui-dist at the version
// in assets/VERSION (refreshed by update-assets.sh); the large ones are
// stored gzip-compressed and sent as they are to clients that accept gzip.
// Every handler here is safe for concurrent use.
package docs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/roomwire/roomwire/api"
)

//go:embed assets page.html
var files embed.FS

// contentSecurityPolicy lets the page load only this origin's scripts,
// styles, images and API; Swagger UI sets inline style attributes.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// file is one servable file.
type file struct {
	contentType string
	etag        string
	data        []byte // gzip-compressed when gzipped
	gzipped     bool

	once  sync.Once
	plain []byte // data decompressed, for clients without gzip
}

// bytes returns the file uncompressed.
func (f *file) bytes() []byte {
	if !f.gzipped {
		return f.data
	}
	f.once.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(f.data))
		if err != nil {
			panic("docs: embedded asset is not gzip: " + err.Error())
		}
		f.plain, err = io.ReadAll(zr)
		if err != nil {
			panic("docs: embedded asset is not gzip: " + err.Error())
		}
	})
	return f.plain
}

// serve writes f with cacheControl, honouring If-None-Match and
// Accept-Encoding.
func (f *file) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.gzipped {
		h.Add("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", f.contentType)
	body := f.data
	if f.gzipped {
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
		} else {
			body = f.bytes()
		}
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

func newFile(contentType string, data []byte, gzipped bool) *file {
	sum := sha256.Sum256(data)
	return &file{contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, data: data, gzipped: gzipped}
}

var (
	spec   = newFile("application/yaml", api.OpenAPI, false)
	page   = newFile("text/html; charset=utf-8", mustRead("page.html"), false)
	assets = loadAssets()
)

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("docs: " + err.Error())
	}
	return b
}

// contentTypes are the types of the served assets, by extension.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".png": "image/png",
	".txt": "text/plain; charset=utf-8",
}

// loadAssets indexes assets/ by the name clients ask for (without .gz).
// Files of other types (VERSION, the licences) are served as plain text.
func loadAssets() map[string]*file {
	entries, err := fs.ReadDir(files, "assets")
	if err != nil {
		panic("docs: " + err.Error())
	}
	out := make(map[string]*file, len(entries))
	for _, e := range entries {
		name := e.Name()
		data := mustRead("assets/" + name)
		gzipped := strings.HasSuffix(name, ".gz")
		name = strings.TrimSuffix(name, ".gz")
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "text/plain; charset=utf-8"
		}
		out[name] = newFile(ct, data, gzipped)
	}
	return out
}

// Spec answers the OpenAPI document (application/yaml).
func Spec() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spec.serve(w, r, "no-cache")
	})
}

// Page answers the documentation page. It must be served at /docs: it
// loads docs/assets/… and openapi.yaml relative to its own URL.
func Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("Referrer-Policy", "no-referrer")
		page.serve(w, r, "no-cache")
	})
}

// ServeAsset answers the asset called name (a bare file name such as
// "swagger-ui.css"; a leading slash is ignored) and reports whether it
// exists; when it does not, nothing is written.
func ServeAsset(w http.ResponseWriter, r *http.Request, name string) bool {
	f, ok := assets[strings.TrimPrefix(name, "/")]
	if !ok {
		return false
	}
	f.serve(w, r, "public, max-age=3600")
	return true
}

// Assets returns the names ServeAsset knows, for tests and listings.
func Assets() []string {
	names := make([]string, 0, len(assets))
	for n := range assets {
		names = append(names, n)
	}
	return names
}
