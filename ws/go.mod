module github.com/roomwire/roomwire/ws

go 1.26.8

toolchain go1.26.10

require (
	github.com/coder/websocket v1.8.15
	github.com/prometheus/client_golang v1.25.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/roomwire/roomwire/shared v0.0.0
	github.com/roomwire/roomwire/shared/testsupport/archivetest v0.0.0
	github.com/roomwire/roomwire/shared/testsupport/authtest v0.0.0
	github.com/roomwire/roomwire/shared/testsupport/redistest v0.0.0
	github.com/roomwire/roomwire/tools/chatload v0.0.0
	golang.org/x/time v0.16.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.13.0 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// The shared module lives beside this one; go.work uses it too. The replace
// lets `go mod tidy` and GOWORK=off builds resolve it without a registry.
replace github.com/roomwire/roomwire/shared => ../shared

// The scale-out tests (internal/scaleout) drive in-process nodes with the
// load tool's runner; only tests import it.
replace github.com/roomwire/roomwire/tools/chatload => ../tools/chatload

// The test helper redistest is a module of its own beside shared (so that
// shared does not import "testing"); the replace resolves it the same way.
replace github.com/roomwire/roomwire/shared/testsupport/redistest => ../shared/testsupport/redistest

// The same for the test helper authtest (test tokens and keys).
replace github.com/roomwire/roomwire/shared/testsupport/authtest => ../shared/testsupport/authtest

// The test helper archivetest (a PostgreSQL database per test) is a module
// of its own too.
replace github.com/roomwire/roomwire/shared/testsupport/archivetest => ../shared/testsupport/archivetest
