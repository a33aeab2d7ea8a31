package docs_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/api"
	"github.com/roomwire/roomwire/api/internal/docs"
)

func get(t *testing.T, h http.Handler, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func asset(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !docs.ServeAsset(w, r, name) {
			http.NotFound(w, r)
		}
	})
}

func TestSpecIsTheEmbeddedDocument(t *testing.T) {
	w := get(t, docs.Spec())
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), api.OpenAPI) || w.Header().Get("Content-Type") != "application/yaml" {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	again := get(t, docs.Spec(), "If-None-Match", w.Header().Get("ETag"))
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Fatalf("revalidation: status %d", again.Code)
	}
}

func TestPageLoadsOnlyEmbeddedAssets(t *testing.T) {
	w := get(t, docs.Page())
	page := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Fatalf("the page refers to another origin:\n%s", page)
	}
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js", "favicon-32x32.png"} {
		if !strings.Contains(page, "docs/assets/"+name) {
			t.Errorf("the page does not load %s", name)
		}
		if w := get(t, asset(name)); w.Code != 200 || w.Body.Len() == 0 {
			t.Errorf("%s: status %d", name, w.Code)
		}
	}
}

func TestAssetsAreSentCompressedOnlyToWhoAcceptsIt(t *testing.T) {
	plain := get(t, asset("swagger-ui-bundle.js"))
	if plain.Header().Get("Content-Encoding") != "" || !strings.Contains(plain.Body.String(), "SwaggerUIBundle") {
		t.Fatalf("without Accept-Encoding: encoding %q, %d bytes", plain.Header().Get("Content-Encoding"), plain.Body.Len())
	}
	for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*"} {
		w := get(t, asset("swagger-ui-bundle.js"), "Accept-Encoding", ae)
		if w.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding %q: got encoding %q", ae, w.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(b, plain.Body.Bytes()) {
			t.Fatalf("Accept-Encoding %q: the gzip body is not the file (%v)", ae, err)
		}
	}
	if w := get(t, asset("swagger-ui-bundle.js"), "Accept-Encoding", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Fatalf("gzip;q=0 still got gzip")
	}
	if ct := plain.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func TestUnknownAssets(t *testing.T) {
	for _, name := range []string{"", "/", "nope.js", "../docs.go", "assets/init.js", "swagger-ui-bundle.js.gz"} {
		if w := get(t, asset(name)); w.Code != http.StatusNotFound {
			t.Errorf("%q: status %d", name, w.Code)
		}
	}
}
