module github.com/roomwire/roomwire/tools/chatload

go 1.26.8

toolchain go1.26.10

require (
	github.com/coder/websocket v1.8.15
	github.com/redis/go-redis/v9 v9.23.0
	github.com/roomwire/roomwire/shared v0.0.0
	github.com/roomwire/roomwire/shared/testsupport/redistest v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

// The shared module lives in the same repository; go.work uses it too. The
// replace lets `go mod tidy` and GOWORK=off builds resolve it without a
// registry.
replace github.com/roomwire/roomwire/shared => ../../shared

// The test helpers redistest and authtest are modules of their own below
// shared/testsupport; the tests of shared's packages that the tool imports need them
// resolved the same way.
replace github.com/roomwire/roomwire/shared/testsupport/redistest => ../../shared/testsupport/redistest

replace github.com/roomwire/roomwire/shared/testsupport/authtest => ../../shared/testsupport/authtest
