module github.com/roomwire/roomwire/shared/testsupport/authtest

go 1.26.8

toolchain go1.26.10

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/roomwire/roomwire/shared v0.0.0
)

// A module of its own so that the production module (shared) does not import
// "testing"; it needs shared/infra/auth, and shared's tests need it back. The
// replace lets `go mod tidy` and GOWORK=off builds resolve shared without a
// registry; go.work uses both too.
replace github.com/roomwire/roomwire/shared => ../..
