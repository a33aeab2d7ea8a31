// Package api holds the REST API's OpenAPI 3.1 document, openapi.yaml,
// built into every binary that imports it: the api serves it at
// /openapi.yaml, and the httpapi tests validate every request and response
// against it.
package api

import _ "embed" // for go:embed

// OpenAPI is the content of openapi.yaml. Callers must not modify it.
//
//go:embed openapi.yaml
var OpenAPI []byte
