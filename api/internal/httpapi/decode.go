package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/wire"
)

// decode reads the request body as exactly one JSON object into dst.
//
// The body is capped at MaxBodyBytes (413 beyond). Unknown fields are
// refused (400) rather than ignored: a misspelt "recvId" or "chatRoom" would
// otherwise be dropped silently and the request would do something other
// than the client meant. (encoding/json matches names case-insensitively,
// so "chatRoomID" still counts as "chatRoomId".) Anything after the object,
// except white space, is refused too. gin's binding is not used, so all
// JSON errors read alike.
func (s *server) decode(c *gin.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return jsonError(err)
	}
	// encoding/json would turn invalid UTF-8 and lone surrogate escapes
	// into U+FFFD: refuse them instead of storing altered text (the STOMP
	// SEND path does the same).
	if !wire.ValidJSONText(body) {
		return badRequest("request body must be UTF-8 without unpaired surrogate escapes")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return badRequest("request body must hold a single JSON object")
	}
	return nil
}

// jsonError turns a decoding error into a client-facing one.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: unexpected end of body")
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("request body must be a JSON object")
		}
		return badRequest(fmt.Sprintf("field %q: want %s, got %s", typ.Field, kindName(typ.Type), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if len(name) > 64 { // do not echo a huge made-up name
			name = strings.ToValidUTF8(name[:64], "") + `..."`
		}
		return badRequest("unknown field " + name)
	}
	return badRequest("malformed JSON")
}

// kindName describes the JSON a Go type accepts.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(kindName(t.Elem()), "an "), "a ") + "s"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "a " + t.Kind().String()
}

// pathID parses the path parameter name as a positive int64 id
// (wire.ParseID: decimal digits only, no sign, no spaces, no leading
// zero, as STOMP parses ids); what names the id in errors.
func pathID(c *gin.Context, name, what string) (int64, error) {
	id, ok := wire.ParseID(c.Param(name))
	if !ok {
		return 0, badRequest("invalid " + what)
	}
	return id, nil
}

// parseCount parses a non-negative decimal int64 made of digits only.
func parseCount(v string) (int64, bool) {
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// queryInt reads an optional non-negative integer query parameter; def is
// returned when it is absent.
func queryInt(c *gin.Context, name string, def int64) (int64, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return def, nil
	}
	n, valid := parseCount(v)
	if !valid {
		return 0, badRequest(name + " must be a non-negative integer")
	}
	return n, nil
}
