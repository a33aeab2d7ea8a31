module github.com/roomwire/roomwire/shared/testsupport/redistest

go 1.26.8

toolchain go1.26.10

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/roomwire/roomwire/shared v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

// A module of its own so that the production module (shared) does not import
// "testing"; it needs shared/infra/config, and shared's tests need it back. The
// replace lets `go mod tidy` and GOWORK=off builds resolve shared without a
// registry; go.work uses both too.
replace github.com/roomwire/roomwire/shared => ../..

// shared's tests that tidy looks at use authtest, also a module beside this one.
replace github.com/roomwire/roomwire/shared/testsupport/authtest => ../authtest
