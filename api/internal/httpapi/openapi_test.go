package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/api"
	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// Every request the tests of this package make goes through a specCheck
// (see newEnv): requests and responses are validated against the embedded
// api/openapi.yaml, so the document and the code cannot drift apart.
//
// The rules, per request:
//   - a request the spec's routes do not know must be answered 404 or 405
//     (or 204 for a CORS preflight) with a problem document;
//   - a request the spec refuses (bad parameter, body, missing bearer token)
//     must be answered with a 4xx, never a success;
//   - every response must be one the operation declares: its status, its
//     content type, its headers and a body matching the schema.
//
// A request the spec accepts may still be refused by the code (400 for a
// direct room with two other users, say): the spec cannot express every
// rule, and the refusal is checked against the declared 400 like any other
// response.

// maxValidatedBody is how much of a request body the check buffers; larger
// bodies pass through unread and only their response is checked.
const maxValidatedBody = 1 << 20

// spec is the parsed document and its router, loaded once.
var spec = sync.OnceValues(func() (*specDoc, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	// Examples are checked by TestOpenAPIExamplesMatchSchemas.
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	// Route on paths alone: the test servers listen on random ports.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("route openapi.yaml: %w", err)
	}
	// The responses that no operation can declare: a known path with
	// another method, and an unknown path.
	notAllowed := doc.Components.Responses["MethodNotAllowed"]
	notFound := doc.Components.Responses["NotFound"]
	if notAllowed == nil || notFound == nil {
		return nil, errors.New("openapi.yaml lacks components.responses MethodNotAllowed or NotFound")
	}
	return &specDoc{doc: doc, router: router, notAllowed: notAllowed.Value, notFound: notFound.Value}, nil
})

type specDoc struct {
	doc        *openapi3.T
	router     routers.Router
	notAllowed *openapi3.Response
	notFound   *openapi3.Response
}

func init() {
	// The documentation routes answer HTML, CSS, JavaScript and PNG, which
	// the check reads as opaque text.
	for _, ct := range []string{"text/html", "text/css", "text/javascript", "image/png"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// specCheck is an http.Handler that serves next and validates each
// request and response against the spec. Mismatches are collected and
// reported by the test's cleanup (handlers may still run when a test
// function returns).
type specCheck struct {
	next http.Handler
	doc  *specDoc

	mu         sync.Mutex
	mismatches []string
}

// withSpecCheck wraps h; the returned report function fails t with every
// mismatch seen so far. It must run after the server stopped serving.
func withSpecCheck(t testing.TB, h http.Handler) (http.Handler, func()) {
	t.Helper()
	doc, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	c := &specCheck{next: h, doc: doc}
	return c, func() {
		t.Helper()
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.mismatches {
			t.Errorf("openapi.yaml and the API disagree: %s", m)
		}
	}
}

func (c *specCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	truncated := false
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxValidatedBody+1))
		if err != nil {
			c.fail("%s %s: reading the request body: %v", r.Method, r.URL, err)
		}
		rest := r.Body
		if truncated = len(body) > maxValidatedBody; truncated {
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), rest), rest}
		} else {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	rec := &recorder{ResponseWriter: w}
	c.next.ServeHTTP(rec, r)
	if r.Context().Err() != nil {
		return // the client left; there is no answer to check
	}
	// A fresh request for the validator: the handler consumed the body.
	vr := r.Clone(context.Background())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	c.check(vr, truncated, rec)
}

func (c *specCheck) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mismatches = append(c.mismatches, fmt.Sprintf(format, args...))
}

// check validates one exchange.
func (c *specCheck) check(r *http.Request, truncated bool, rec *recorder) {
	ctx := context.Background()
	what := fmt.Sprintf("%s %s answered %d %s", r.Method, r.URL.RequestURI(), rec.status, abbreviate(rec.body.Bytes()))
	route, params, err := c.doc.router.FindRoute(r)
	if err == nil && len(r.URL.Path) > 1 && strings.HasSuffix(r.URL.Path, "/") && !strings.HasSuffix(route.Path, "/") {
		// The router forgives a trailing slash; the spec (and the API) do not.
		route, err = nil, &routers.RouteError{Reason: routers.ErrPathNotFound.Error()}
	}
	if err != nil {
		c.checkUnrouted(r, err, rec, what)
		return
	}
	opts := &openapi3filter.Options{
		ExcludeRequestBody:    truncated,
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    bearerPresent,
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if reqErr != nil && rec.status < 400 {
		c.fail("%s: the spec refuses this request (%v), the API accepted it", what, oneLine(reqErr))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.status,
		Header: rec.Header(), Options: opts}
	out.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.fail("%s: the response does not match %s %s: %v", what, route.Method, route.Path, oneLine(err))
	}
}

// checkUnrouted checks the answer to a request no operation of the spec
// matches: a problem of the MethodNotAllowed (with Allow) or NotFound
// responses, or the 204 of an answered CORS preflight.
func (c *specCheck) checkUnrouted(r *http.Request, routeErr error, rec *recorder, what string) {
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" &&
		rec.status == http.StatusNoContent && rec.body.Len() == 0 {
		return
	}
	var re *routers.RouteError
	methodNotAllowed := errors.As(routeErr, &re) && re.Reason == routers.ErrMethodNotAllowed.Error()
	want := c.doc.notFound
	switch {
	case rec.status == http.StatusMethodNotAllowed:
		want = c.doc.notAllowed
		if rec.Header().Get("Allow") == "" {
			c.fail("%s: a 405 without Allow", what)
		}
		// gin knows the path only when the spec does.
		if !methodNotAllowed {
			c.fail("%s: the API serves this path with other methods, the spec does not know it (%v)", what, routeErr)
		}
	case rec.status == http.StatusNotFound:
		if methodNotAllowed {
			c.fail("%s: the spec has this path with other methods, the API answers 404 instead of 405", what)
		}
	default:
		c.fail("%s: the spec has no such operation (%v), yet the API did not answer 404 or 405", what, routeErr)
		return
	}
	mt := want.Content.Get(rec.Header().Get("Content-Type"))
	if mt == nil || mt.Schema == nil {
		c.fail("%s: content type %q is not the problem type", what, rec.Header().Get("Content-Type"))
		return
	}
	var v any
	if err := json.Unmarshal(rec.body.Bytes(), &v); err != nil {
		c.fail("%s: body is not JSON: %v", what, err)
		return
	}
	// The shared responses pin status and title per status code.
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
		c.fail("%s: body does not match the %d problem: %v", what, rec.status, oneLine(err))
	}
}

// bearerPresent is the spec's bearerAuth as far as a document can tell:
// an Authorization header with the Bearer scheme and a token. Whether the
// token verifies is the API's business (401).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
	}
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var spaces = regexp.MustCompile(`\s+`)

func oneLine(err error) string { return spaces.ReplaceAllString(err.Error(), " ") }

func abbreviate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// TestOpenAPIDocumentsEveryRoute: the spec's operations are exactly the
// API's routes.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	engine, ok := newEnv(t).handler.(*gin.Engine)
	if !ok {
		t.Fatalf("httpapi.New returned %T, want *gin.Engine", newEnv(t).handler)
	}
	param := regexp.MustCompile(`[:*]([A-Za-z]+)`)
	var served, documented []string
	for _, r := range engine.Routes() {
		served = append(served, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	for path, item := range doc.doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("route %s is not in openapi.yaml", s)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("openapi.yaml documents %s, which the API does not serve", d)
		}
	}
}

// TestOpenAPIExamplesMatchSchemas: every example in the spec is valid for
// its schema, so the docs never show a shape the API does not produce.
func TestOpenAPIExamplesMatchSchemas(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s needs an operationId and a summary", method, path)
			}
		}
	}
}

// TestOpenAPIIsServed: the API serves the document it is checked against,
// and the documentation page with its assets, without a token.
func TestOpenAPIIsServed(t *testing.T) {
	e := newEnv(t)
	res := e.request(t, "GET", "/openapi.yaml", 0, nil)
	res.want(t, http.StatusOK, nil)
	if !bytes.Equal(res.body, api.OpenAPI) {
		t.Fatalf("/openapi.yaml is not the embedded document")
	}
	if ct := res.header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("Content-Type %q", ct)
	}
	page := e.request(t, "GET", "/docs", 0, nil)
	page.want(t, http.StatusOK, nil)
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("Content-Security-Policy %q", csp)
	}
	for _, ref := range regexp.MustCompile(`(?:src|href)="(docs/assets/[^"]+)"`).FindAllStringSubmatch(string(page.body), -1) {
		asset := e.request(t, "GET", "/"+ref[1], 0, nil)
		asset.want(t, http.StatusOK, nil)
		if len(asset.body) == 0 {
			t.Errorf("%s is empty", ref[1])
		}
	}
	e.request(t, "GET", "/docs/assets/nope.js", 0, nil).wantProblem(t, http.StatusNotFound, "no such file")
	e.request(t, "GET", "/docs/assets/../openapi.yaml", 0, nil).wantProblem(t, http.StatusNotFound, "")
	e.request(t, "POST", "/openapi.yaml", 0, "{}").wantProblem(t, http.StatusMethodNotAllowed, "")
}

// TestOpenAPIShapesOfAWholeConversation drives every operation through the
// spec check with the shapes that only appear late in a room's life:
// edited entries and tombstones in history and as a room's lastMessage,
// read positions, long polls that get a message and that time out.
func TestOpenAPIShapesOfAWholeConversation(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.MaxWait = time.Second })
	direct := e.createDirect(t, 8, 3)
	group := e.createGroup(t, 8, "team", 3)
	room := func(id int64, p string) string { return fmt.Sprintf("/api/v1/chat-rooms/%d%s", id, p) }

	e.request(t, "POST", room(group, "/members"), 8, map[string]any{"userId": 5}).want(t, http.StatusCreated, nil)
	e.request(t, "POST", room(group, "/members"), 3, map[string]any{"userId": 5}).want(t, http.StatusOK, nil)
	e.request(t, "POST", room(direct, "/messages"), 8, map[string]any{"chatRoomId": direct, "sendId": 8, "rcvId": 3, "message": "one"}).
		want(t, http.StatusCreated, nil)
	e.request(t, "POST", room(direct, "/messages"), 3, map[string]any{"message": "two"}).want(t, http.StatusCreated, nil)
	e.request(t, "POST", room(group, "/messages"), 5, map[string]any{"message": "hello team"}).want(t, http.StatusCreated, nil)
	e.request(t, "PATCH", room(direct, "/messages/1"), 8, map[string]any{"message": "one, fixed"}).want(t, http.StatusOK, nil)
	e.request(t, "DELETE", room(direct, "/messages/2"), 3, nil).want(t, http.StatusOK, nil)
	e.request(t, "DELETE", room(direct, "/messages/99"), 3, nil).wantProblem(t, http.StatusNotFound, "message not found")
	e.request(t, "PATCH", room(direct, "/messages/2"), 3, map[string]any{"message": "again"}).wantProblem(t, http.StatusConflict, "deleted")
	e.request(t, "POST", room(direct, "/read"), 8, map[string]any{"seq": 2}).want(t, http.StatusOK, nil)

	// The room's lastMessage is now a tombstone, the first entry an edit.
	e.request(t, "GET", room(direct, ""), 8, nil).want(t, http.StatusOK, nil)
	e.request(t, "GET", "/api/v1/chat-rooms", 3, nil).want(t, http.StatusOK, nil)
	for _, q := range []string{"", "?limit=1", "?before=2", "?after=0&order=asc", "?after=1&order=desc&limit=500"} {
		e.request(t, "GET", room(direct, "/messages"+q), 3, nil).want(t, http.StatusOK, nil)
	}
	// Long polls: one answered at once, one by a message, one by the wait.
	e.request(t, "GET", room(direct, "/messages?after=0&wait=1s"), 3, nil).want(t, http.StatusOK, nil)
	done := make(chan resp, 1)
	go func() { done <- e.request(t, "GET", room(group, "/messages?after=1&wait=10"), 3, nil) }()
	redistest.Eventually(t, "the long poll to wait", func() bool {
		n, _ := e.rdb.PubSubNumSub(context.Background(), e.ks.RoomMessages(group)).Result()
		return n[e.ks.RoomMessages(group)] > 0
	})
	e.request(t, "POST", room(group, "/messages"), 8, map[string]any{"message": "lunch?"}).want(t, http.StatusCreated, nil)
	(<-done).want(t, http.StatusOK, nil)
	e.request(t, "GET", room(group, "/messages?after=2&wait=200ms"), 3, nil).want(t, http.StatusOK, nil)

	e.request(t, "GET", room(group, "/presence"), 5, nil).want(t, http.StatusOK, nil)
	e.request(t, "GET", "/api/v1/presence?userIds=3,5&userIds=8", 5, nil).want(t, http.StatusOK, nil)
	e.request(t, "POST", "/api/v1/chat-room/disconnect", 3, map[string]any{"sendId": 3, "rcvId": 8, "chatRoomId": direct}).
		want(t, http.StatusOK, nil)
	e.request(t, "DELETE", room(group, "/members/5"), 3, nil).wantProblem(t, http.StatusForbidden, "creator")
	e.request(t, "DELETE", room(group, "/members/5"), 8, nil).want(t, http.StatusNoContent, nil)
	e.request(t, "DELETE", room(group, "/members/3"), 3, nil).want(t, http.StatusNoContent, nil)
	e.request(t, "GET", room(group, ""), 3, nil).wantProblem(t, http.StatusNotFound, "room not found")
}
